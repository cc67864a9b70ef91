/**
 * The Sailthru client's own CPU per call (issue 22): this checkout's dist/ and another build's
 * (`--base DIR`, e.g. a copy of main's bin/ + dist/), alternating in rounds within one process,
 * against the emulator in its own process (limits raised). Calls are a POST /event and a
 * POST /user built like the worker's, `--concurrency` in flight.
 *
 *   npx tsx bench/sailthru-client-cpu.ts [--base DIR] [--calls 2000] [--rounds 6] [--concurrency 16]
 *
 * Reports CPU µs per call (user + system, process.cpuUsage) per build and round, and the median.
 */
import { join } from 'node:path';
import { parseArgs } from './lib/args.ts';
import { startEmulatorHost } from './lib/emulator-host.ts';
import { REPO_DIR, printTable, round } from './lib/report.ts';
import { BENCH_CREDENTIALS } from './lib/stack.ts';

interface ClientLike {
  postEvent(payload: Record<string, unknown>): Promise<{ ok: boolean }>;
  postUser(payload: Record<string, unknown>): Promise<{ ok: boolean }>;
  close(): Promise<void>;
}
type ClientCtor = new (creds: Record<string, string>, opts?: Record<string, unknown>) => ClientLike;

const args = parseArgs();
const calls = args.number('calls', 2000);
const rounds = args.number('rounds', 6);
const concurrency = args.number('concurrency', 16);
const baseDir = args.get('base');
const HIGH = 1_000_000;

const emulator = await startEmulatorHost(
  { ...BENCH_CREDENTIALS, windowMs: 1000, limits: { 'GET *': HIGH, 'POST *': HIGH, 'DELETE *': HIGH }, maxRequestLog: 100, maxActivityLog: 100 },
  'per-second',
  1000,
);
const creds = { apiKey: BENCH_CREDENTIALS.apiKey, sharedSecret: BENCH_CREDENTIALS.secret, customerId: BENCH_CREDENTIALS.customerId, apiUrl: emulator.url, trackUrl: emulator.url };

async function load(dir: string): Promise<ClientCtor> {
  const mod = (await import(join(dir, 'dist', 'sailthru', 'client.js'))) as { SailthruClient: ClientCtor };
  return mod.SailthruClient;
}
const builds: Array<{ name: string; client: ClientLike }> = [{ name: 'this checkout', client: new (await load(REPO_DIR))(creds) }];
if (baseDir) builds.push({ name: `base (${baseDir})`, client: new (await load(baseDir))(creds) });

function payloadOf(i: number): [kind: 'event' | 'user', Record<string, unknown>] {
  const id = `bench-${i % 400}@example.com`;
  if (i % 2 === 0) {
    return ['event', { id, key: 'email', event: 'Product Viewed', vars: { product_id: `p-${i}`, name: 'A product — with «quotes» & spaces', price: 12.5, url: 'https://shop.example.com/p?a=1&b=2' } }];
  }
  return ['user', { id, key: 'email', vars: { first_name: 'Ada', plan: 'gold', visits: i, tags: ['a', 'b c'], updated_at: '2026-12-03T17:00:00.000Z' } }];
}

async function runRound(client: ClientLike): Promise<number> {
  let next = 0;
  let failed = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const [kind, payload] = payloadOf(next++);
        const res = kind === 'event' ? await client.postEvent(payload) : await client.postUser(payload);
        if (!res.ok) failed++;
      }
    }),
  );
  const used = process.cpuUsage(before);
  if (failed > 0) throw new Error(`${failed} calls failed`);
  return (used.user + used.system) / calls;
}

// Warm-up: the JIT, the keep-alive connections.
for (const b of builds) await runRound(b.client);
const perBuild = new Map<string, number[]>(builds.map((b) => [b.name, []]));
const rows: Array<Record<string, string | number>> = [];
for (let r = 1; r <= rounds; r++) {
  const order = r % 2 === 0 ? [...builds].reverse() : builds;
  for (const b of order) {
    const us = await runRound(b.client);
    perBuild.get(b.name)!.push(us);
    rows.push({ round: r, build: b.name, 'CPU µs/call': round(us, 1) });
  }
}
printTable(rows, 'Sailthru client CPU per call (this process; emulator in its own)');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
printTable(
  builds.map((b) => ({ build: b.name, 'CPU µs/call (median)': round(median(perBuild.get(b.name)!), 1) })),
  'Median',
);
if (builds.length === 2) {
  // Paired: each round's two builds ran back to back, so their ratio sheds the minute's load.
  const [mine, base] = builds.map((b) => perBuild.get(b.name)!);
  const ratios = mine!.map((m, i) => m / base![i]!);
  const lower = ratios.filter((r) => r < 1).length;
  console.log(`this checkout ÷ base, per round: median ${round(median(ratios), 3)} (lower in ${lower} of ${ratios.length} rounds)`);
}
const [load1] = (await import('node:os')).loadavg();
console.log(`load average (1 min): ${load1!.toFixed(2)}, ${new Date().toISOString()}`);
for (const b of builds) await b.client.close();
await emulator.stop();
