/**
 * PostgreSQL mode: deliveries per second with 1, 2 and 3 `worker` processes sharing one queue,
 * the emulator's limits and ours raised, each level beside graphile-worker with a queue per user
 * (per-user order, as our lanes) running a no-op task, interleaved and repeated; what PostgreSQL
 * did per delivered event (transactions, rows, WAL, HOT updates); then a shared limit set low
 * (POST /event 100/s across three workers) and the emulator's count of POST /event per window.
 *
 *   npx tsx bench/postgres.ts [--quick] [--events 20000] [--users 2000] [--workers 1,2,3] [--reps 2]
 *                             [--peer graphile|none] [--no-shared] [--settle-delay-ms N] [--redis]
 *                             [--cpu-prof DIR] [--count-queries]
 *
 * --database (default postgres://postgres@127.0.0.1:5432/test) names the server; the bench
 * creates a database of its own there (so pg_stat_database counts only this bench), and each
 * run a schema in it; both are dropped at the end. One `serve --no-delivery` ingest node queues
 * the backlog while the destination is paused; the workers start, then the destination is
 * resumed and the time to settle the whole backlog is measured. graphile-worker gets the same
 * events as jobs (queue = userId), added before its processes start. Throughputs are compared
 * between 10% and 90% done, so neither side's start-up counts. `--redis` puts the shared budget
 * in REDIS_URL (default redis://127.0.0.1:6379) instead of PostgreSQL. `--cpu-prof DIR` runs our
 * workers under `node --cpu-prof` into DIR (summarise with bench/lib/profile-summary.ts).
 * `--count-queries` preloads bench/lib/count-queries.cjs into our workers and prints the
 * statements per event each level sent, by name.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Pool } from 'undici';
import { standardMix, TrafficGenerator } from '../src/cli/traffic.ts';
import { parseArgs } from './lib/args.ts';
import { startEmulatorHost } from './lib/emulator-host.ts';
import { printTable, printTargets, round, writeResult, type TargetCheck } from './lib/report.ts';
import { backendCpu, backendCpuDelta, deltaOf, sampleDb, type DbDelta } from './lib/pg-stats.ts';
import { cpuSecondsOf, startCli, startScript, sumSamples, type ServiceProcess } from './lib/service-process.ts';
import { basicAuth, BENCH_CREDENTIALS, BENCH_WRITE_KEY, serviceEnv } from './lib/stack.ts';
import { spawn } from 'node:child_process';
import { schedDelta, schedOfAll, type SchedSample } from './lib/sched-stats.ts';
import { sleep } from './lib/stats.ts';

const args = parseArgs();
const quick = args.quick;
const serverUrl = args.get('database') ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const benchDatabase = `sd_bench_${process.pid}`;
const databaseUrl = serverUrl.replace(/\/[^/?]*(\?.*)?$/, `/${benchDatabase}$1`);
const reps = args.number('reps', quick ? 1 : 2);
const peer = args.get('peer') ?? 'graphile';
const runShared = !args.has('no-shared');
const graphileConcurrency = args.number('graphile-concurrency', 16);
/** SETTLE_DELAY_MS for our workers; the product's default when not given. */
const settleDelayMs = args.get('settle-delay-ms');
const eventCount = args.number('events', quick ? 5_000 : 20_000);
const users = args.number('users', 2000);
const workerLevels = args.numbers('workers', [1, 2, 3]);
const sharedLimit = args.number('shared-limit', 100);
const sharedSeconds = args.number('shared-seconds', quick ? 10 : 30);
const concurrency = args.number('concurrency', 64);
const poolMax = args.number('pool-max', 10);
const useRedis = args.has('redis');
const redisUrl = args.get('redis-url') ?? 'redis://127.0.0.1:6379';
const seed = args.number('seed', 1);
const cpuProfDir = args.get('cpu-prof');
const countQueries = args.has('count-queries');
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

/**
 * The CPU yardstick (lib/cpu-probe.ts) running beside every level: its CPU time per unit of fixed
 * work says how much the machine inflated CPU time over that level, whatever ran.
 */
const probe = spawn(process.execPath, ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'lib', 'cpu-probe.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
let probeBuffer = '';
let probeLast = { units: 0, cpuMicros: 0 };
probe.stdout.on('data', (chunk: Buffer) => {
  probeBuffer += chunk.toString();
  const lines = probeBuffer.split('\n');
  probeBuffer = lines.pop() ?? '';
  const line = lines.pop();
  if (line) {
    const [units, cpuMicros] = line.split(' ').map(Number);
    probeLast = { units: units ?? 0, cpuMicros: cpuMicros ?? 0 };
  }
});
/** The probe's CPU µs per unit between two of its samples. */
function probeCost(before: { units: number; cpuMicros: number }, after: { units: number; cpuMicros: number }): number {
  return (after.cpuMicros - before.cpuMicros) / Math.max(1, after.units - before.units);
}

const server = new pg.Client({ connectionString: serverUrl });
await server.connect();
await server.query(`DROP DATABASE IF EXISTS ${benchDatabase}`);
await server.query(`CREATE DATABASE ${benchDatabase}`);
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();

function envFor(schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return serviceEnv({
    emulatorUrl: emulator.url,
    databaseUrl: `${databaseUrl}?schema=${schema}&pool_max=${poolMax}`,
    extra: { ADMIN_TOKEN, DELIVERY_CONCURRENCY: String(concurrency), LEASE_MS: '10000', ...(settleDelayMs !== undefined ? { SETTLE_DELAY_MS: settleDelayMs } : {}), ...(useRedis ? { REDIS_URL: redisUrl } : {}), ...extra },
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
  const ingest = await startCli(['serve', '--no-delivery'], envFor(schema), { timeoutMs: 120_000 });
  await adminCall(ingest.url, '/destinations/default/pause');
  await queue(ingest.url, events);
  const counting: Record<string, string> = countQueries
    ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(dirname(fileURLToPath(import.meta.url)), 'lib', 'count-queries.cjs')}`.trim(), COUNT_QUERIES_DIR: countDirOf(label) }
    : {};
  const started = await Promise.all(Array.from({ length: workers }, () => startCli(['worker'], envFor(schema, { ...workerEnv, ...counting }), { timeoutMs: 120_000, ...(cpuProfDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] } : {}) })));
  return { schema, ingest, workers: started };
}

function countDirOf(label: string): string {
  const dir = join(tmpdir(), `sd-bench-counts-${process.pid}`, label);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Statements our workers of one level sent (written by count-queries.cjs as they stopped), by name. */
function countedQueries(label: string): Record<string, number> {
  const dir = countDirOf(label);
  const sum: Record<string, number> = {};
  for (const file of readdirSync(dir)) {
    for (const [name, n] of Object.entries(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, number>)) sum[name] = (sum[name] ?? 0) + n;
  }
  return sum;
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
  rep: number;
  db: DbDelta;
  /** CPU seconds over the drain: the bench database's PostgreSQL backends, and the emulator. */
  postgresCpuSeconds: number;
  emulatorCpuSeconds: number;
  /** The scheduler's view over the drain (sched-stats.ts): our workers, and the bench database's backends. */
  workerSched: SchedSample;
  postgresSched: SchedSample;
  postgresBackends: number;
  /** The yardstick's CPU µs per unit over the drain (cpu-probe.ts). */
  probeMicrosPerUnit: number;
  /** With --count-queries: statements our workers sent over the whole run (start-up included), by name. */
  statements?: Record<string, number>;
}

interface PeerFigures {
  workers: number;
  rep: number;
  jobs: number;
  seconds: number;
  steadyJobsPerSecond: number;
  workerCores: number[];
  db: DbDelta;
  postgresCpuSeconds: number;
}

/** Our workers draining `events` (queued while paused), with PostgreSQL's counts over the drain. */
async function measureOurs(k: number, rep: number, events: Array<Record<string, unknown>>, workerEnv: Record<string, string>): Promise<LevelFigures> {
  const eventCount = events.length;
  const run = await prepare(`w${k}_r${rep}`, k, events, workerEnv);
  try {
    const before = await sampleDb(admin, run.schema);
    const cpuBefore = run.workers.map((w) => cpuSecondsOf(w.pid) ?? Number.NaN);
    const pgCpuBefore = await backendCpu(admin);
    const emulatorCpuBefore = cpuSecondsOf(emulator.process.pid) ?? Number.NaN;
    const workerSchedBefore = schedOfAll(run.workers.map((w) => w.pid));
    const pgSchedBefore = schedOfAll([...pgCpuBefore.keys()]);
    const probeBefore = probeLast;
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
    const workerCores = run.workers.map((w, i) => ((cpuSecondsOf(w.pid) ?? Number.NaN) - cpuBefore[i]!) / ((end - start) / 1000));
    const pgCpuAfter = await backendCpu(admin);
    const postgresCpuSeconds = backendCpuDelta(pgCpuBefore, pgCpuAfter);
    const emulatorCpuSeconds = (cpuSecondsOf(emulator.process.pid) ?? Number.NaN) - emulatorCpuBefore;
    const workerSched = schedDelta(workerSchedBefore, schedOfAll(run.workers.map((w) => w.pid)));
    const postgresSched = schedDelta(pgSchedBefore, schedOfAll([...pgCpuAfter.keys()]));
    const db = await deltaOf(admin, before, await sampleDb(admin, run.schema));
    await emulator.flush();
    const seconds = (end - start) / 1000;
    let calls = 0;
    for (const [key, n] of perSecond) {
      const s = Number(key.split(' ')[0]);
      if (s >= firstSecond && s <= Math.floor(end / 1000)) calls += n;
    }
    const figures = {
      workers: k,
      rep,
      events: eventCount,
      seconds,
      eventsPerSecond: eventCount / seconds,
      steadyEventsPerSecond: steadyRate(progress, eventCount),
      callsPerSecond: calls / seconds,
      workerCores,
      db,
      postgresCpuSeconds,
      emulatorCpuSeconds,
      workerSched,
      postgresSched,
      postgresBackends: pgCpuAfter.size,
      probeMicrosPerUnit: probeCost(probeBefore, probeLast),
    };
    process.stdout.write(`ours, ${k} worker(s), rep ${rep}: ${eventCount} events in ${round(seconds, 1)} s, ${round(figures.steadyEventsPerSecond, 0)}/s steady, ${round(db.xacts / eventCount, 3)} transactions per event\n`);
    return figures;
  } finally {
    await teardown(run);
  }
}

/** Our workers draining `events`, and (with --count-queries) the statements they sent. */
async function measureOursCounted(k: number, rep: number, events: Array<Record<string, unknown>>, workerEnv: Record<string, string>): Promise<LevelFigures> {
  const figures = await measureOurs(k, rep, events, workerEnv);
  return countQueries ? { ...figures, statements: countedQueries(`w${k}_r${rep}`) } : figures;
}

/** Between 10% and 90% done, so start-up and the tail do not count. */
function steadyRate(progress: Array<{ t: number; n: number }>, total: number): number {
  const at = (share: number) => progress.find((p) => p.n >= share * total)!;
  const p10 = at(0.1);
  const p90 = at(0.9);
  return (p90.n - p10.n) / Math.max(0.001, (p90.t - p10.t) / 1000);
}

/** graphile-worker draining the same events as no-op jobs, a queue per user. */
async function measureGraphile(k: number, rep: number, events: Array<Record<string, unknown>>): Promise<PeerFigures> {
  const schema = `gw_w${k}_r${rep}_${process.pid}`;
  const { runMigrations } = await import('graphile-worker');
  await runMigrations({ connectionString: databaseUrl, schema, logger: new (await import('graphile-worker')).Logger(() => () => {}) });
  for (let i = 0; i < events.length; i += 2000) {
    const slice = events.slice(i, i + 2000);
    await admin.query(
      `SELECT count(*) FROM ${schema}.add_jobs((
         SELECT array_agg(ROW('noop', p::json, q, NULL, NULL, NULL, NULL, NULL)::${schema}.job_spec ORDER BY ord)
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(q, p, ord)))`,
      [slice.map((e) => String(e.userId ?? e.anonymousId)), slice.map((e) => JSON.stringify(e))],
    );
  }
  const before = await sampleDb(admin, schema);
  const pgCpuBefore = await backendCpu(admin);
  const start = Date.now();
  const workers = await Promise.all(
    Array.from({ length: k }, () =>
      startScript('bench/lib/graphile-runner.ts', {
        GW_URL: databaseUrl,
        GW_SCHEMA: schema,
        GW_CONCURRENCY: String(graphileConcurrency),
        GW_POOL_MAX: String(graphileConcurrency + 1),
      }, { listeningPattern: /graphile-worker listening on \((ready)\)/, timeoutMs: 120_000 }),
    ),
  );
  try {
    const cpuBefore = workers.map((w) => cpuSecondsOf(w.pid) ?? Number.NaN);
    const ranFrom = Date.now();
    const progress: Array<{ t: number; n: number }> = [{ t: start, n: 0 }];
    for (;;) {
      await sleep(500);
      const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}._private_jobs`);
      const done = events.length - rows[0]!.n;
      progress.push({ t: Date.now(), n: done });
      if (done >= events.length) break;
      if (Date.now() - start > 30 * 60_000) throw new Error(`graphile-worker not drained after 30 minutes (${done} of ${events.length})`);
    }
    const end = Date.now();
    const workerCores = workers.map((w, i) => ((cpuSecondsOf(w.pid) ?? Number.NaN) - cpuBefore[i]!) / ((end - ranFrom) / 1000));
    const postgresCpuSeconds = backendCpuDelta(pgCpuBefore, await backendCpu(admin));
    const db = await deltaOf(admin, before, await sampleDb(admin, schema));
    const figures = { workers: k, rep, jobs: events.length, seconds: (end - start) / 1000, steadyJobsPerSecond: steadyRate(progress, events.length), workerCores, db, postgresCpuSeconds };
    process.stdout.write(`graphile-worker, ${k} worker(s), rep ${rep}: ${events.length} jobs in ${round(figures.seconds, 1)} s, ${round(figures.steadyJobsPerSecond, 0)}/s steady, ${round(db.xacts / events.length, 3)} transactions per job\n`);
    return figures;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

const levels: LevelFigures[] = [];
const peers: PeerFigures[] = [];
let shared: { windows: number; maxPerWindow: number; meanPerWindow: number; over: number; perWindow: number[]; calls: number } | null = null;
try {
  const mixed = standardMix({ seed, users, messageIdPrefix: `pg-${seed}` }).take(eventCount);
  const raised = { SAILTHRU_RATE_LIMITS: `POST=${HIGH},GET=${HIGH},DELETE=${HIGH},POST /user=${HIGH}` };
  for (let rep = 1; rep <= reps; rep++) {
    for (const k of workerLevels) {
      levels.push(await measureOursCounted(k, rep, mixed, raised));
      if (peer === 'graphile') peers.push(await measureGraphile(k, rep, mixed));
    }
  }

  // --- a shared limit across three workers -------------------------------------------------------
  if (runShared) {
  const trackOnly = new TrafficGenerator({ seed, users, messageIdPrefix: `pgl-${seed}`, weights: { identify: 0, track: 1, page: 0, orderCompleted: 0, cart: 0 } }).take(
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
  }
} finally {
  await admin.end();
  await server.query(`DROP DATABASE IF EXISTS ${benchDatabase}`).catch(() => {});
  await server.end();
  await emulator.stop();
  probe.kill();
}

const perEvent = (db: DbDelta, n: number) => ({
  'transactions/event': round(db.xacts / n, 3),
  'rows inserted/event': round(db.inserted / n, 2),
  'rows updated/event': round(db.updated / n, 2),
  'rows deleted/event': round(db.deleted / n, 2),
  'WAL KB/event (server-wide)': round(db.walBytes / 1024 / n, 2),
  'HOT updates': Object.entries(db.tables).map(([t, v]) => `${t} ${v.hot}/${v.updates}`).join(', '),
});
printTable(
  levels.map((l) => ({
    workers: l.workers,
    rep: l.rep,
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
printTable(
  [
    ...levels.map((l) => ({ system: 'ours', workers: l.workers, rep: l.rep, ...perEvent(l.db, l.events) })),
    ...peers.map((p) => ({ system: 'graphile-worker', workers: p.workers, rep: p.rep, ...perEvent(p.db, p.jobs) })),
  ],
  'PostgreSQL per delivered event (ours) or job (graphile-worker), over the drain (pg_stat_database, pg_stat_user_tables)',
);
printTable(
  [
    ...levels.map((l) => ({
      system: 'ours',
      workers: l.workers,
      rep: l.rep,
      'worker CPU ms/event': round((l.workerCores.reduce((a, b) => a + b, 0) * l.seconds * 1000) / l.events, 2),
      'PostgreSQL CPU ms/event': round((l.postgresCpuSeconds * 1000) / l.events, 2),
      'emulator CPU ms/event': round((l.emulatorCpuSeconds * 1000) / l.events, 2),
    })),
    ...peers.map((p) => ({
      system: 'graphile-worker',
      workers: p.workers,
      rep: p.rep,
      // Its workers' cores are measured from when they were ready (start-up left out).
      'worker CPU ms/event': round((p.workerCores.reduce((a, b) => a + b, 0) * p.seconds * 1000) / p.jobs, 2),
      'PostgreSQL CPU ms/event': round((p.postgresCpuSeconds * 1000) / p.jobs, 2),
      'emulator CPU ms/event': '',
    })),
  ],
  'CPU per delivered event (ours) or job (graphile-worker), over the drain: the processes share 2 cores',
);
// Whether a level's CPU per event grew because its processes wake more often per event (voluntary
// switches: each blocks and is woken per message) or because they were starved (run-queue wait).
printTable(
  levels.map((l) => ({
    workers: l.workers,
    rep: l.rep,
    'worker wakes/event': round(l.workerSched.voluntary / l.events, 2),
    'worker preempted/event': round(l.workerSched.involuntary / l.events, 2),
    'worker run-queue wait ms/event': round((l.workerSched.waitSeconds * 1000) / l.events, 2),
    'PostgreSQL backends': l.postgresBackends,
    'PostgreSQL wakes/event': round(l.postgresSched.voluntary / l.events, 2),
    'PostgreSQL run-queue wait ms/event': round((l.postgresSched.waitSeconds * 1000) / l.events, 2),
    'yardstick CPU µs/unit': round(l.probeMicrosPerUnit, 0),
  })),
  'Scheduler, ours, over the drain (/proc/PID/task/*/schedstat and status; backends new since the start count whole)',
);
if (countQueries) {
  const names = [...new Set(levels.flatMap((l) => Object.keys(l.statements ?? {})))]
    .map((name) => ({ name, n: levels.reduce((s, l) => s + (l.statements?.[name] ?? 0), 0) }))
    .sort((a, b) => b.n - a.n)
    .slice(0, 14)
    .map((x) => x.name);
  // Claims that found no lane due: the wake-ups that were for nothing.
  if (!names.includes('sd-claim-lanes (no rows)')) names.push('sd-claim-lanes (no rows)');
  printTable(
    levels.map((l) => {
      const st = l.statements ?? {};
      const row: Record<string, string | number> = { workers: l.workers, rep: l.rep, all: round(Object.entries(st).reduce((a, [name, n]) => (name.endsWith('(no rows)') ? a : a + n), 0) / l.events, 3) };
      for (const name of names) row[name === 'sd-claim-lanes (no rows)' ? 'empty claims' : name.slice(0, 28)] = round((st[name] ?? 0) / l.events, 3);
      return row;
    }),
    'Statements per event our workers sent, whole run (start-up included), by name (--count-queries)',
  );
}
/** Our steady rate ÷ graphile-worker's, per (workers, rep) measured in the same run. */
const ratios = levels.flatMap((l) => {
  const p = peers.find((x) => x.workers === l.workers && x.rep === l.rep);
  return p ? [{ workers: l.workers, rep: l.rep, ours: l.steadyEventsPerSecond, graphile: p.steadyJobsPerSecond, ratio: l.steadyEventsPerSecond / p.steadyJobsPerSecond }] : [];
});
if (ratios.length > 0) {
  printTable(
    ratios.map((r) => ({ workers: r.workers, rep: r.rep, 'ours events/s': round(r.ours, 0), 'graphile-worker jobs/s': round(r.graphile, 0), 'ours ÷ graphile-worker': round(r.ratio, 2) })),
    `Beside graphile-worker 0.16.6, a queue per user, no-op task, concurrency ${graphileConcurrency} per process (10%-90% rates)`,
  );
}
const oursAt = (k: number) => levels.filter((l) => l.workers === k);
/** 3 workers ÷ 1 worker, per rep. */
const scaling = [...new Set(levels.map((l) => l.rep))].flatMap((rep) => {
  const one = levels.find((l) => l.rep === rep && l.workers === 1);
  const three = levels.find((l) => l.rep === rep && l.workers === 3);
  return one && three ? [three.steadyEventsPerSecond / one.steadyEventsPerSecond] : [];
});
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const xactsPerEvent = levels.map((l) => l.db.xacts / l.events);
const oneWorkerRatios = ratios.filter((r) => r.workers === 1).map((r) => r.ratio);
if (shared) {
  printTable(
    [{ 'limit/s': sharedLimit, workers: 3, 'whole windows': shared.windows, 'max per window': shared.maxPerWindow, 'mean per window': round(shared.meanPerWindow, 1), 'windows over the limit': shared.over }],
    'Shared limit: POST /event calls per one-second window at the emulator',
  );
}

const targets: TargetCheck[] = [
  ...workerLevels.map((k) => ({
    figure: `deliveries/s with ${k} worker(s)`,
    target: 'report',
    measured: oursAt(k).map((l) => `${round(l.eventsPerSecond, 1)} events/s (${round(l.steadyEventsPerSecond, 1)} between 10% and 90%)`).join('; '),
    met: null,
  })),
  {
    figure: 'transactions per delivered event',
    target: '<= 1.0',
    measured: xactsPerEvent.map((x) => round(x, 3)).join(', '),
    met: xactsPerEvent.length > 0 ? xactsPerEvent.every((x) => x <= 1) : null,
  },
  {
    figure: 'throughput with 3 workers ÷ with 1 worker, same run',
    target: '>= 1.0 (mean of the reps)',
    measured: scaling.length > 0 ? `${scaling.map((x) => round(x, 2)).join(', ')} (mean ${round(mean(scaling), 2)})` : 'not run',
    met: scaling.length > 0 ? mean(scaling) >= 1 : null,
  },
  {
    figure: 'ours ÷ graphile-worker with per-user queues, 1 worker, same run',
    target: '>= 4 (mean of the reps)',
    measured: oneWorkerRatios.length > 0 ? `${oneWorkerRatios.map((x) => round(x, 2)).join(', ')} (mean ${round(mean(oneWorkerRatios), 2)})` : 'not run',
    met: oneWorkerRatios.length > 0 ? mean(oneWorkerRatios) >= 4 : null,
  },
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
    users,
    workerLevels,
    reps,
    peer: peer === 'graphile' ? { name: 'graphile-worker 0.16.6', task: 'no-op', queue: 'one per userId', concurrencyPerProcess: graphileConcurrency, poolMaxPerProcess: graphileConcurrency + 1 } : null,
    deliveryConcurrencyPerWorker: concurrency,
    settleDelayMs: settleDelayMs ?? 'default (0)',
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
      transactionsPerEvent: round(l.db.xacts / l.events, 3),
    })),
    graphileWorker: peers.map((p) => ({ ...p, seconds: round(p.seconds, 1), steadyJobsPerSecond: round(p.steadyJobsPerSecond, 1), workerCores: p.workerCores.map((c) => round(c, 3)) })),
    oursOverGraphile: ratios.map((r) => ({ ...r, ours: round(r.ours, 1), graphile: round(r.graphile, 1), ratio: round(r.ratio, 3) })),
    threeOverOneWorker: scaling.map((x) => round(x, 3)),
    sharedLimit: shared ? { ...shared, meanPerWindow: round(shared.meanPerWindow, 2) } : null,
  },
  targets,
  notes: [
    'PostgreSQL runs on the same 2-core VM as the workers, the ingest node, the emulator and the load generator.',
    'WAL is server-wide (pg_current_wal_lsn): it includes whatever else the shared server wrote meanwhile; transactions and rows are this bench database only.',
  ],
});
process.stdout.write(`\nwrote ${path}\n`);
