import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIALS, startStack, waitForDrain, type Stack } from './e2e/harness.ts';
import { freePort } from './e2e/child-server.ts';

// The README's commands, run as written (with only the values a reader fills in substituted):
// if one of them stops working, this fails. `npm ci` and `npm test` are what .ci/run runs.
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function codeBlocks(lang: string): string[] {
  return [...README.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The README's `npx sailthru-destination …` as this checkout runs it. npx itself is exercised where
 * users run it, in an installed package (test/package/installed-package.test.ts); here it would
 * rescan all of node_modules on every call (vitest's cache in node_modules makes npm's hidden
 * lockfile look out of date), which took over 60 s under load and made the test about npm.
 */
function local(command: string): string {
  return command.replace(/\bnpx sailthru-destination\b/, `node ${join(ROOT, 'bin/sailthru-destination.js')}`);
}

function run(command: string, env: Record<string, string> = {}): Running {
  // A process group of its own, so a Ctrl-C (SIGINT to the group) reaches npm and what it runs.
  const child = spawn('bash', ['-c', command], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // 'close' waits for every process holding the output pipes (npm → sh → node) to finish.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited, closed };
}

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('README', () => {
  const setup = codeBlocks('bash')[0]!;

  it('starts with the two set-up commands: one runs the demo, one runs the tests', () => {
    const lines = setup.split('\n').filter((l) => l.trim() !== '');
    expect(lines[0]).toMatch(/^npm ci && npm run demo\b/);
    expect(lines[1]).toMatch(/^npm test\b/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // On a fresh clone `npm ci` builds dist/ (prepare); the demo builds it again if a source changed.
    expect(pkg.scripts.prepare).toBe('node scripts/build.js');
    expect(pkg.scripts.demo).toBe('node scripts/build.js --if-stale && node bin/sailthru-destination.js demo');
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm ci\b/m);
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it('`npm run demo` runs the product and stops cleanly on Ctrl-C', async () => {
    const port = await freePort();
    const demo = run(`exec npm run demo -- --port ${port} --rate 10`);
    try {
      await until(() => (demo.output().includes('Press Ctrl-C to stop') ? true : undefined));
      const health = await until(async () => {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
        return r?.status === 200 ? r.status : undefined;
      });
      expect(health).toBe(200);
      process.kill(-demo.child.pid!, 'SIGINT');
      // The demo exits 0; npm, which got the Ctrl-C too, may report it as its own SIGINT.
      const end = await demo.closed;
      expect(end.code === 0 || end.signal === 'SIGINT').toBe(true);
      expect(demo.output()).toContain('Demo stopped.');
      // The copies of the one Ctrl-C (the group's and npm's) were taken as one press.
      expect(demo.output()).not.toContain('second signal');
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      try {
        process.kill(-demo.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 120_000);

  describe('with a server running', () => {
    let stack: Stack;
    let dir: string;
    beforeAll(async () => {
      stack = await startStack();
      dir = mkdtempSync(join(tmpdir(), 'st-readme-'));
    });
    afterAll(async () => {
      await stack?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the analytics-node snippet delivers to Sailthru as written', async () => {
      const snippet = codeBlocks('js')[0]!
        .replace('<write key>', stack.writeKey)
        .replace('http://127.0.0.1:8080', stack.service.url);
      const file = join(ROOT, 'test', `.readme-snippet-${process.pid}.mjs`);
      writeFileSync(file, snippet);
      try {
        const node = run(`node ${file}`);
        expect(await node.exited).toBe(0);
      } finally {
        rmSync(file, { force: true });
      }
      await waitForDrain(stack.service);
      const profile = stack.emulator.state().profiles.find((p) => p.keys.extid === 'user-1');
      expect(profile?.keys.email).toBe('ada@example.com');
      expect(stack.emulator.state().events.some((e) => e.id === 'user-1' && e.event === 'Signed Up')).toBe(true);
    }, 60_000);

    it('`npx sailthru-destination send events.ndjson --write-key <key>` posts a file', async () => {
      const file = join(dir, 'events.ndjson');
      writeFileSync(file, `${JSON.stringify({ type: 'track', userId: 'readme-send', event: 'From File' })}\n`);
      const line = README.split('\n').find((l) => l.includes('npx sailthru-destination send'))!;
      const command = /`(npx sailthru-destination send [^`]+)`/.exec(line)![1]!.replace('events.ndjson', file).replace('<key>', stack.writeKey);
      const send = run(`${local(command)} --url ${stack.service.url}`);
      expect(await send.exited).toBe(0);
      await waitForDrain(stack.service);
      expect(stack.emulator.state().events.some((e) => e.id === 'readme-send' && e.event === 'From File')).toBe(true);
    }, 60_000);

    it('the production `serve` command starts with the env it documents', async () => {
      const block = codeBlocks('bash').find((b) => b.includes('npx sailthru-destination serve'))!;
      expect(block).toContain('SAILTHRU_API_KEY=');
      const command = block.replace(/\\\n\s*/g, ' ').trim().replace(/SAILTHRU_API_KEY=…/, `SAILTHRU_API_KEY=${CREDENTIALS.apiKey}`).replace(/SAILTHRU_SECRET=…/, `SAILTHRU_SECRET=${CREDENTIALS.secret}`);
      const port = await freePort();
      const serve = run(local(command), {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: `sqlite:${join(dir, 'serve.db')}`,
        SAILTHRU_API_URL: stack.emulator.url,
        SAILTHRU_TRACK_URL: stack.emulator.url,
      });
      try {
        await until(() => (serve.output().includes('listening on') ? true : undefined));
        const res = await fetch(`http://127.0.0.1:${port}/v1/track`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('my-write-key:').toString('base64')}` },
          body: JSON.stringify({ userId: 'readme-serve', event: 'Served' }),
        });
        expect(res.status).toBe(200);
        await until(() => (stack.emulator.state().events.some((e) => e.id === 'readme-serve') ? true : undefined));
      } finally {
        process.kill(-serve.child.pid!, 'SIGTERM');
        await serve.exited;
      }
    }, 60_000);
  });
});
