/**
 * PostgreSQL mode: deliveries per second with 1, 2 and 3 `worker` processes sharing one queue,
 * the emulator's limits and ours raised; then a shared limit set low (POST /event 100/s across
 * three workers) and the emulator's count of POST /event per one-second window.
 *
 *   npx tsx bench/postgres.ts [--quick] [--events 20000] [--workers 1,2,3] [--redis]
 *
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) names the server; each run
 * gets a schema of its own, dropped at the end. One `serve --no-delivery` ingest node queues the
 * backlog while the destination is paused; the workers start, then the destination is resumed
 * and the time to settle the whole backlog is measured. `--redis` puts the shared budget in
 * REDIS_URL (default redis://127.0.0.1:6379) instead of PostgreSQL.
 */
import pg from 'pg';
import { Pool } from 'undici';
import { standardMix, TrafficGenerator } from '../src/cli/traffic.ts';
import { parseArgs } from './lib/args.ts';
import { startEmulatorHost } from './lib/emulator-host.ts';
import { printTable, printTargets, round, writeResult, type TargetCheck } from './lib/report.ts';
import { cpuSecondsOf, startCli, sumSamples, type ServiceProcess } from './lib/service-process.ts';
import { basicAuth, BENCH_CREDENTIALS, BENCH_WRITE_KEY, serviceEnv } from './lib/stack.ts';
import { sleep } from './lib/stats.ts';

const args = parseArgs();
const quick = args.quick;
const databaseUrl = args.get('database') ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const eventCount = args.number('events', quick ? 5_000 : 20_000);
const workerLevels = args.numbers('workers', [1, 2, 3]);
const sharedLimit = args.number('shared-limit', 100);
const sharedSeconds = args.number('shared-seconds', quick ? 10 : 30);
const concurrency = args.number('concurrency', 64);
const poolMax = args.number('pool-max', 10);
const useRedis = args.has('redis');
const redisUrl = args.get('redis-url') ?? 'redis://127.0.0.1:6379';
const seed = args.number('seed', 1);
const ADMIN_TOKEN = 'bench-admin-token';
const HIGH = 100_000;

const emulator = await startEmulatorHost(
  { ...BENCH_CREDENTIALS, windowMs: 1000, limits: { 'GET *': HIGH, 'POST *': HIGH, 'DELETE *': HIGH }, maxRequestLog: 1000, maxActivityLog: 1000 },
  'per-second',
  500,
);
/** Calls per (second, route), as the emulator counted them. */
const perSecond = new Map<string, number>();
emulator.onReport((r) => {
  if (r.kind !== 'per-second') return;
  for (const [second, route, , n] of r.counts) {
    const key = `${second} ${r.routes[route]}`;
    perSecond.set(key, (perSecond.get(key) ?? 0) + n);
  }
});

const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();

function envFor(schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return serviceEnv({
    emulatorUrl: emulator.url,
    databaseUrl: `${databaseUrl}?schema=${schema}&pool_max=${poolMax}`,
    extra: { ADMIN_TOKEN, DELIVERY_CONCURRENCY: String(concurrency), LEASE_MS: '10000', ...(useRedis ? { REDIS_URL: redisUrl } : {}), ...extra },
  });
}

async function adminCall(url: string, path: string): Promise<void> {
  const res = await fetch(`${url}/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: '{}',
  });
  if (!res.ok) throw new Error(`admin ${path} answered ${res.status}: ${await res.text()}`);
}

async function queue(url: string, events: Array<Record<string, unknown>>): Promise<void> {
  const pool = new Pool(url, { connections: 4 });
  const headers = { 'content-type': 'application/json', authorization: basicAuth(BENCH_WRITE_KEY) };
  let next = 0;
  const loop = async () => {
    while (next < events.length) {
      const batch = events.slice(next, next + 500);
      next += 500;
      const res = await pool.request({ path: '/v1/batch', method: 'POST', headers, body: JSON.stringify({ batch }) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, loop));
  await pool.close();
}

async function settledBy(workers: ServiceProcess[]): Promise<number> {
  const texts = await Promise.all(workers.map(async (w) => (await fetch(`${w.url}/metrics`)).text()));
  return texts.reduce((s, t) => s + ['delivered', 'skipped', 'failed'].reduce((n, k) => n + sumSamples(t, `sailthru_destination_events_${k}_total`), 0), 0);
}

interface Run {
  schema: string;
  ingest: ServiceProcess;
  workers: ServiceProcess[];
}

/** An ingest node and `workers` worker processes on a fresh schema, with `events` queued and delivery paused. */
async function prepare(label: string, workers: number, events: Array<Record<string, unknown>>, workerEnv: Record<string, string>): Promise<Run> {
  const schema = `bench_${label}_${process.pid}`;
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const ingest = await startCli(['serve', '--no-delivery'], envFor(schema));
  await adminCall(ingest.url, '/destinations/default/pause');
  await queue(ingest.url, events);
  const started = await Promise.all(Array.from({ length: workers }, () => startCli(['worker'], envFor(schema, workerEnv))));
  return { schema, ingest, workers: started };
}

async function teardown(run: Run): Promise<void> {
  await Promise.all(run.workers.map((w) => w.stop()));
  await run.ingest.stop();
  await admin.query(`DROP SCHEMA IF EXISTS ${run.schema} CASCADE`);
}

interface LevelFigures {
  workers: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Between 10% and 90% settled, so start-up and the tail do not count. */
  steadyEventsPerSecond: number;
  callsPerSecond: number;
  workerCores: number[];
}

const levels: LevelFigures[] = [];
let shared: { windows: number; maxPerWindow: number; meanPerWindow: number; over: number; perWindow: number[]; calls: number } | null = null;
try {
  const mixed = standardMix({ seed, users: 2000, messageIdPrefix: `pg-${seed}` }).take(eventCount);
  const raised = { SAILTHRU_RATE_LIMITS: `POST=${HIGH},GET=${HIGH},DELETE=${HIGH},POST /user=${HIGH}` };
  for (const k of workerLevels) {
    const run = await prepare(`w${k}`, k, mixed, raised);
    try {
      const cpuBefore = run.workers.map((w) => cpuSecondsOf(w.pid) ?? Number.NaN);
      const start = Date.now();
      const firstSecond = Math.floor(start / 1000);
      await adminCall(run.ingest.url, '/destinations/default/resume');
      const progress: Array<{ t: number; n: number }> = [{ t: start, n: 0 }];
      for (;;) {
        await sleep(500);
        const n = await settledBy(run.workers);
        progress.push({ t: Date.now(), n });
        if (n >= eventCount) break;
        if (Date.now() - start > 30 * 60_000) throw new Error(`not drained after 30 minutes (${n} of ${eventCount})`);
      }
      const end = Date.now();
      await emulator.flush();
      const at = (share: number) => progress.find((p) => p.n >= share * eventCount)!;
      const p10 = at(0.1);
      const p90 = at(0.9);
      const seconds = (end - start) / 1000;
      let calls = 0;
      for (const [key, n] of perSecond) {
        const s = Number(key.split(' ')[0]);
        if (s >= firstSecond && s <= Math.floor(end / 1000)) calls += n;
      }
      levels.push({
        workers: k,
        events: eventCount,
        seconds,
        eventsPerSecond: eventCount / seconds,
        steadyEventsPerSecond: (p90.n - p10.n) / ((p90.t - p10.t) / 1000),
        callsPerSecond: calls / seconds,
        workerCores: run.workers.map((w, i) => ((cpuSecondsOf(w.pid) ?? Number.NaN) - cpuBefore[i]!) / seconds),
      });
      process.stdout.write(`${k} worker(s): ${eventCount} events in ${round(seconds, 1)} s\n`);
    } finally {
      await teardown(run);
    }
  }

  // --- a shared limit across three workers -------------------------------------------------------
  const trackOnly = new TrafficGenerator({ seed, users: 2000, messageIdPrefix: `pgl-${seed}`, weights: { identify: 0, track: 1, page: 0, orderCompleted: 0, cart: 0 } }).take(
    sharedLimit * sharedSeconds,
  );
  const run = await prepare('shared', 3, trackOnly, { SAILTHRU_RATE_LIMITS: `POST /event=${sharedLimit},GET=${HIGH},POST /user=${HIGH}` });
  try {
    const start = Date.now();
    await adminCall(run.ingest.url, '/destinations/default/resume');
    for (;;) {
      await sleep(500);
      if ((await settledBy(run.workers)) >= trackOnly.length) break;
      if (Date.now() - start > 10 * 60_000) throw new Error('shared-limit run did not drain in 10 minutes');
    }
    const end = Date.now();
    await emulator.flush();
    // Whole seconds only: the first and last are partial.
    const perWindow: number[] = [];
    for (let s = Math.floor(start / 1000) + 1; s < Math.floor(end / 1000); s++) perWindow.push(perSecond.get(`${s} POST /event`) ?? 0);
    shared = {
      windows: perWindow.length,
      maxPerWindow: Math.max(...perWindow),
      meanPerWindow: perWindow.reduce((a, b) => a + b, 0) / perWindow.length,
      over: perWindow.filter((n) => n > sharedLimit).length,
      perWindow,
      calls: trackOnly.length,
    };
  } finally {
    await teardown(run);
  }
} finally {
  await admin.end();
  await emulator.stop();
}

printTable(
  levels.map((l) => ({
    workers: l.workers,
    events: l.events,
    seconds: round(l.seconds, 1),
    'events/s': round(l.eventsPerSecond, 1),
    'events/s 10-90%': round(l.steadyEventsPerSecond, 1),
    'Sailthru calls/s': round(l.callsPerSecond, 1),
    'worker cores': l.workerCores.map((c) => round(c, 2)).join(' + '),
    'worker CPU ms/1000 events': round((1e6 * l.workerCores.reduce((a, b) => a + b, 0) * l.seconds) / l.events, 0),
  })),
  `PostgreSQL mode: deliveries with 1..3 workers (standard mix, limits raised, shared budget in ${useRedis ? 'Redis' : 'PostgreSQL'})`,
);
if (shared) {
  printTable(
    [{ 'limit/s': sharedLimit, workers: 3, 'whole windows': shared.windows, 'max per window': shared.maxPerWindow, 'mean per window': round(shared.meanPerWindow, 1), 'windows over the limit': shared.over }],
    'Shared limit: POST /event calls per one-second window at the emulator',
  );
}

const targets: TargetCheck[] = [
  ...levels.map((l) => ({
    figure: `deliveries/s with ${l.workers} worker(s)`,
    target: 'report',
    measured: `${round(l.eventsPerSecond, 1)} events/s (${round(l.steadyEventsPerSecond, 1)} between 10% and 90%)`,
    met: null,
  })),
  {
    figure: `shared limit POST /event=${sharedLimit}/s across 3 workers`,
    target: `<= ${sharedLimit} per 1 s window at the emulator`,
    measured: shared ? `max ${shared.maxPerWindow}, mean ${round(shared.meanPerWindow, 1)} over ${shared.windows} windows; ${shared.over} over` : 'not run',
    met: shared ? shared.over === 0 : null,
  },
];
printTargets(targets);

const path = writeResult({
  name: 'postgres',
  quick,
  parameters: {
    database: databaseUrl.replace(/\/\/[^@]*@/, '//…@'),
    events: eventCount,
    workerLevels,
    deliveryConcurrencyPerWorker: concurrency,
    poolMax,
    sharedBudgetStore: useRedis ? 'Redis' : 'PostgreSQL',
    sharedLimit: { 'POST /event': sharedLimit, seconds: sharedSeconds, events: sharedLimit * sharedSeconds, workers: 3 },
    topology: 'one serve --no-delivery ingest node (queues the backlog while paused) + N worker processes, each its own process; emulator in its own process',
    emulator: `one-second windows, every route limited to ${HIGH}`,
  },
  figures: {
    levels: levels.map((l) => ({
      ...l,
      seconds: round(l.seconds, 1),
      eventsPerSecond: round(l.eventsPerSecond, 1),
      steadyEventsPerSecond: round(l.steadyEventsPerSecond, 1),
      callsPerSecond: round(l.callsPerSecond, 1),
      workerCores: l.workerCores.map((c) => round(c, 3)),
    })),
    sharedLimit: shared ? { ...shared, meanPerWindow: round(shared.meanPerWindow, 2) } : null,
  },
  targets,
  notes: ['PostgreSQL runs on the same 2-core VM as the workers, the ingest node, the emulator and the load generator.'],
});
process.stdout.write(`\nwrote ${path}\n`);
