import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { freePort } from '../e2e/child-server.ts';

// The package as a user gets it: `npm pack`, installed into an empty folder, its commands run
// with npx there and its library compiled against by a TypeScript consumer. Slow (the install
// compiles better-sqlite3 when no prebuilt binary can be downloaded), so all of it is this file.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const TSX = join(ROOT, 'node_modules/tsx/dist/esm/index.mjs');
const CREDS = { apiKey: 'pkg-api-key', secret: 'pkg-shared-secret-0123', customerId: 'pkg-customer' };

let scratch: string;
let app: string;
let tarball: string;
let packed: string[];

function sh(command: string, args: string[], cwd: string, timeout = 600_000) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

interface Running {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp) => Promise<RegExpExecArray>;
  closed: Promise<number | null>;
}

/** `npx sailthru-destination …` in the app folder, in a process group of its own (Ctrl-C reaches all). */
function npx(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn('npx', ['--no-install', 'sailthru-destination', ...args], { cwd: app, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const match = pattern.exec(out);
      if (match) return match;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, output: () => out, waitFor, closed };
}

function interrupt(running: Running): void {
  try {
    process.kill(-running.child.pid!, 'SIGINT');
  } catch {
    // already gone
  }
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'st-package-'));
  // The global setup has just built dist/ from these sources, so packing skips `prepare`'s second build.
  const json = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT);
  const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(scratch, info!.filename);
  packed = info!.files.map((f) => f.path);
  app = join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  sh('npm', ['install', '--no-save', '--prefer-offline', tarball], app);
}, 900_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the compiled code, its types and the docs, and no sources, tests or tooling', () => {
    for (const needed of ['package.json', 'README.md', 'bin/sailthru-destination.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli.js', 'dist/delivery/sqlite/writer-thread.js', 'docs/library.md']) {
      expect(packed, needed).toContain(needed);
    }
    const unexpected = packed.filter((p) => !/^(bin\/|dist\/.*\.(js|js\.map|d\.ts)$|docs\/[^/]+\.md$|package\.json$|README\.md$|LICENSE$)/.test(p));
    expect(unexpected).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/sailthru-destination/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    // Nothing else brought it either: the commands below run without it.
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
  });

  it('`npx sailthru-destination --help` lists the commands', async () => {
    const help = npx(['--help']);
    expect(await help.closed, help.output()).toBe(0);
    for (const command of ['serve', 'worker', 'emulator', 'demo', 'send']) expect(help.output()).toContain(command);
  }, 60_000);

  describe('with an emulator', () => {
    let emulator: RunningEmulator;
    beforeAll(async () => {
      emulator = await startEmulator({ port: 0, ...CREDS });
    });
    afterAll(async () => emulator?.close());

    it('`npx sailthru-destination serve` takes a batch and delivers it, never loading tsx', async () => {
      const port = await freePort();
      const serve = npx(['serve'], {
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: `sqlite:${join(scratch, 'serve.db')}`,
        WRITE_KEYS: 'pkg-write-key',
        SAILTHRU_API_KEY: CREDS.apiKey,
        SAILTHRU_SECRET: CREDS.secret,
        SECRETS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        SAILTHRU_API_URL: emulator.url,
        SAILTHRU_TRACK_URL: emulator.url,
        // Whatever the test runner set (vitest's loaders) is not the user's environment.
        NODE_OPTIONS: '',
      });
      try {
        await serve.waitFor(/listening on http/);
        const res = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('pkg-write-key:').toString('base64')}` },
          body: JSON.stringify({ batch: [{ type: 'track', userId: 'pkg-user', event: 'Installed' }] }),
        });
        expect(res.status).toBe(200);
        for (let i = 0; i < 300 && !emulator.state().events.some((e) => e.id === 'pkg-user'); i++) await new Promise((r) => setTimeout(r, 100));
        expect(emulator.state().events.some((e) => e.id === 'pkg-user' && e.event === 'Installed')).toBe(true);
      } finally {
        interrupt(serve);
        await serve.closed;
      }
      expect(serve.output()).not.toMatch(/tsx/);
    }, 120_000);
  });

  it('`npx sailthru-destination emulator` serves and stops on Ctrl-C', async () => {
    const emulator = npx(['emulator', '--port', '0']);
    try {
      const [, url] = await emulator.waitFor(/listening on (http:\/\/\S+)/);
      const state = (await (await fetch(`${url}/_emulator/state`)).json()) as { profiles: unknown[] };
      expect(state.profiles).toEqual([]);
    } finally {
      interrupt(emulator);
    }
    await emulator.closed;
    expect(emulator.output()).toContain('Sailthru emulator stopped');
  }, 120_000);

  it('`npx sailthru-destination demo` runs the product and stops on Ctrl-C', async () => {
    const port = await freePort();
    const demo = npx(['demo', '--port', String(port), '--rate', '10']);
    try {
      await demo.waitFor(/Press Ctrl-C to stop/);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      interrupt(demo);
    }
    await demo.closed;
    expect(demo.output()).toContain('Demo stopped.');
  }, 120_000);

  it('a TypeScript consumer type-checks against the installed types and runs', () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // The package's own declarations are checked too, not taken on trust.
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(join(app, 'consumer.ts'), CONSUMER);
    sh(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    const out = sh(process.execPath, ['--import', TSX, 'consumer.ts'], app, 120_000);
    const result = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(result).toEqual({
      planned: ['POST /user'],
      refusedState: 'refused',
      delivered: true,
      stored: 'delivered',
    });
  }, 180_000);
});

describe('docs/library.md as shipped', () => {
  it('its TypeScript examples, read in order as one file, type-check against the installed types', () => {
    // A user copies these blocks; they must compile as written (strict, the package's own
    // declarations checked), not only the consumer above that resembles them.
    const doc = readFileSync(join(app, 'node_modules/sailthru-destination/docs/library.md'), 'utf8');
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    writeFileSync(join(app, 'library-doc.ts'), blocks.join('\n'));
    writeFileSync(
      join(app, 'tsconfig.library-doc.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
        files: ['library-doc.ts'],
      }),
    );
    sh(process.execPath, [TSC, '-p', 'tsconfig.library-doc.json'], app);
  }, 120_000);
});

/** A consumer as docs/library.md shows one: the imports are the package's name, nothing deeper. */
const CONSUMER = `
import {
  createServer,
  planCalls,
  startEmulator,
  type CallPlan,
  type EmbeddedServer,
  type RunningEmulator,
  type SegmentEvent,
} from 'sailthru-destination';

const identify: SegmentEvent = { type: 'identify', messageId: 'm-1', userId: 'lib-user', traits: { email: 'lib@example.com' } };
const plan: CallPlan = await planCalls(identify, { optoutValue: 'none' });
// The types are real, not any: a wrong state does not compile.
// @ts-expect-error 'sent' is not a state
const wrong: CallPlan['state'] = 'sent';
void wrong;
const refused = await planCalls({ type: 'identify' }, {});

const emulator: RunningEmulator = await startEmulator({ port: 0, apiKey: 'k', secret: 's-secret-0123' });
const server: EmbeddedServer = createServer({
  databaseUrl: 'sqlite:' + process.cwd() + '/embedded.db',
  writeKeys: ['lib-key'],
  secretsKey: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  settings: { apiKey: 'k', sharedSecret: 's-secret-0123', apiUrl: emulator.url, trackUrl: emulator.url },
});
const url: string = await server.start();
const res = await fetch(url + '/v1/track', {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('lib-key:').toString('base64') },
  body: JSON.stringify({ userId: 'lib-user', event: 'Embedded', messageId: 'embedded-1' }),
});
if (res.status !== 200) throw new Error('ingest answered ' + res.status);
let stored: string | undefined;
for (let i = 0; i < 300 && stored !== 'delivered'; i++) {
  stored = (await server.store.search({ messageId: 'embedded-1' })).events[0]?.status;
  if (stored !== 'delivered') await new Promise((r) => setTimeout(r, 100));
}
const delivered = emulator.state().events.some((e) => e.id === 'lib-user' && e.event === 'Embedded');
await server.stop();
await emulator.close();
console.log(JSON.stringify({
  planned: plan.calls.map((c) => c.method + ' ' + c.endpoint),
  refusedState: refused.state,
  delivered,
  stored,
}));
`;
