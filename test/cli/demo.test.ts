import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EmulatorStateSnapshot } from '../../src/emulator/index.ts';
import { BIN, ROOT, until } from './helpers.ts';

describe('demo', () => {
  it('runs emulator, server and traffic, delivers to the emulator, serves the console, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--port', '0', '--rate', '40', '--users', '30', '--seed', '3'], {
      cwd: ROOT,
      // A real account configured in the shell must not be used by the demo.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SAILTHRU_API_URL: 'http://127.0.0.1:9', SAILTHRU_API_KEY: 'real-key' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stopped = false;
    try {
      const banner = await until(() => (/Press Ctrl-C to stop/.test(stdout) ? stdout : undefined));
      const consoleUrl = /Console\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(banner)?.[1] as string;
      const adminToken = /Admin token\s+(\S+)/.exec(banner)?.[1] as string;
      const emulatorUrl = /Emulator\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1] as string;
      const database = /Database\s+sqlite:(\S+) \(removed on exit\)/.exec(banner)?.[1] as string;
      expect(consoleUrl).toBeTruthy();
      expect(adminToken.length).toBeGreaterThanOrEqual(20);
      expect(emulatorUrl).toBeTruthy();
      expect(existsSync(database)).toBe(true);

      // Deliveries reach the emulator: profiles, custom events, page views and purchases.
      const state = await until(async () => {
        const s = (await (await fetch(`${emulatorUrl}/_emulator/state`)).json()) as EmulatorStateSnapshot;
        const c = s.counts;
        return c.profiles > 0 && c.events > 0 && c.pageviews > 0 && c.purchases > 0 ? s : undefined;
      }, 250);
      expect(state.profiles.some((p) => p.keys.extid?.startsWith('user-'))).toBe(true);

      // The console and the admin API answer.
      const signIn = await fetch(`${consoleUrl}/sign-in`);
      expect(signIn.status).toBe(200);
      expect(signIn.headers.get('content-type')).toContain('text/html');
      const root = await fetch(`${consoleUrl}/`, { redirect: 'manual' });
      expect(root.status).toBe(303);
      expect((await fetch(`${consoleUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${consoleUrl}/api/overview`)).status).toBe(401);
      const overview = await fetch(`${consoleUrl}/api/overview`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(overview.status).toBe(200);
      const totals = ((await overview.json()) as { totals: { destinations: number } }).totals;
      expect(totals.destinations).toBe(1);

      // Without a terminal, progress comes as plain lines every few seconds.
      const STATUS = /^in \S+ bad \S+ \| out \S+ skip \S+ retry \S+ dead \S+ \| queue \S+ \| (\d+\/s|busy)$/m;
      await until(() => (STATUS.test(stdout) ? true : undefined), 250);
      // Every status line fits an 80-column terminal.
      for (const line of stdout.split('\n').filter((l) => STATUS.test(l))) expect(line.length, line).toBeLessThanOrEqual(79);

      child.kill('SIGINT');
      stopped = true;
      expect(await exited).toBe(0);
      expect(stdout).toContain('Demo stopped.');
      expect(stdout).toMatch(/Final: in \S+ bad \S+ \| out /);
      expect(stderr).toBe('');

      // Nothing is left: both ports are closed and the temporary database is gone.
      await expect(fetch(`${consoleUrl}/healthz`)).rejects.toThrow();
      await expect(fetch(`${emulatorUrl}/_emulator/state`)).rejects.toThrow();
      expect(existsSync(dirname(database))).toBe(false);
    } finally {
      if (!stopped) child.kill('SIGINT');
      await exited;
    }
  }, 120_000);
});
