import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { clientFor } from './signed-request.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = 'bin/sailthru-destination.js';

describe('sailthru-destination emulator', () => {
  it('documents its options in --help', () => {
    const help = spawnSync(process.execPath, [bin, 'emulator', '--help'], { cwd: root, encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const flag of [
      '--port',
      '--host',
      '--api-key',
      '--secret',
      '--customer-id',
      '--window-ms',
      '--limit',
      '--fail-rate',
      '--error9-rate',
      '--latency-ms',
      '--hang-rate',
      '--drop-rate',
      '--job-delay-ms',
      '--templates',
      '/_emulator/state',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });

  it('serves the API on the URL it prints and stops cleanly on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [bin, 'emulator', '--port', '0', '--api-key', 'cli-key', '--secret', 'cli-secret', '--limit', 'POST /event=2', '--window-ms', '1000', '--templates', 'receipt, cart-reminder'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        child.on('exit', () => reject(new Error(`exited before listening: ${stderr}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // The custom account is not printed (only the public demo one would be).
      expect(stdout).not.toContain('cli-secret');

      const client = clientFor(url, { apiKey: 'cli-key', secret: 'cli-secret' });
      const res = await client.post('/event', { id: 'cli-user', key: 'extid', event: 'From CLI' });
      expect(res.status).toBe(200);
      // 2 per 1-second window, announced per minute as Sailthru does.
      expect(res.headers.get('x-rate-limit-limit')).toBe('120');
      const state = (await (await fetch(`${url}/_emulator/state`)).json()) as { events: Array<{ event: string }> };
      expect(state.events.map((e) => e.event)).toEqual(['From CLI']);
      // --templates: the account knows these two, and no other.
      const item = { id: 'i1', qty: 1, price: 100, url: 'https://shop.example/i1' };
      expect((await client.post('/purchase', { email: 'a@example.com', items: [item], send_template: 'cart-reminder' })).body).toHaveProperty('purchase');
      expect((await client.post('/purchase', { email: 'a@example.com', items: [item], send_template: 'other' })).body).toEqual({ error: 14, errormsg: 'Unknown template: other' });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('Sailthru emulator stopped');
  });
});
