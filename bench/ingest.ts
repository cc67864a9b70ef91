/**
 * Durable ingest: `/v1/batch` with 100 events of about 1 KB each into SQLite (WAL,
 * synchronous=FULL, group commit, 200 only after the commit), at several numbers of concurrent
 * connections, against a no-op fastify route that only parses the same bodies, in the same run.
 *
 *   npx tsx bench/ingest.ts [--quick] [--connections 8,16,32,64] [--seconds 20] [--cpu-prof] [--gzip]
 *
 * `--gzip` sends every ingest body gzipped (`Content-Encoding: gzip`, as RudderStack's SDKs do);
 * the bodies are compressed before the run (a pool of `--gzip-bodies`, default 12,000, each with
 * its own messageIds), so the load generator spends no CPU on it. The no-op route keeps plain
 * bodies. It also times the body reader alone (src/server/ingest-body.ts), plain and gzipped.
 *
 * `--delivery` runs the ingest server with delivery on (`serve`), against the emulator in its own
 * process with every limit raised to --emulator-limit (default 100,000/s), ours too
 * (SAILTHRU_RATE_LIMITS), and reports the events
 * settled per second during each measured window beside the ingest rate (issue 19 item 5: what a
 * settle costs the writer moves with the lane indexes). The backlog grows when ingest outruns
 * delivery; the server CPU per event then counts delivery's CPU too. Then the load stops and
 * delivery alone works on that backlog for --drain-seconds (default 15): settles per second and
 * server CPU per settled event.
 *
 * `--servers-only` leaves out the in-process figures (store alone, body reader), for A/B runs of
 * two builds (BENCH_BIN, bench/lib/service-process.ts).
 *
 * `--cpu-prof` writes the server's V8 profiles to $TMPDIR/st-bench-profiles (summarise one with
 * `npx tsx bench/lib/profile-summary.ts FILE.cpuprofile`).
 *
 * Both servers run in their own process (`serve --no-delivery`, an ingest-only node, and
 * bench/lib/noop-server.ts); the load generator is an undici Pool in this process. Each
 * connection count gets a fresh database, so no level starts with a bigger table than another.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { batchBodies } from './lib/batch-bodies.ts';
import { parseArgs } from './lib/args.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { printTable, printTargets, round, writeResult, BENCH_DIR, type TargetCheck } from './lib/report.ts';
import { startEmulatorHost, type EmulatorHost } from './lib/emulator-host.ts';
import { cpuSecondsOf, memoryOf, schedMeter, startCli, startScript, sumSamples, type ServiceProcess } from './lib/service-process.ts';
import { basicAuth, scratchDir, serviceEnv, BENCH_CREDENTIALS, BENCH_WRITE_KEY } from './lib/stack.ts';
import { openSqliteStore } from '../src/delivery/sqlite-store.ts';
import { normalizeTrackingBody } from '../src/segment/normalize.ts';
import { MAX_REQUEST_BYTES } from '../src/segment/limits.ts';
import { receiveBody } from '../src/server/ingest-body.ts';

const TARGET_EVENTS_PER_SECOND = 20_000;
const EVENTS_PER_BATCH = 100;

const args = parseArgs();
const quick = args.quick;
const connectionLevels = args.numbers('connections', [8, 16, 32, 64]);
const seconds = args.number('seconds', quick ? 5 : 20);
const warmupSeconds = args.number('warmup', quick ? 1 : 3);
const cpuProfile = args.has('cpu-prof');
/** Node flags for the ingest server, e.g. --server-node-args="--heap-growing-percent=0" (V8's own growth). */
const serverNodeArgs = (args.get('server-node-args') ?? '').split(' ').filter((a) => a !== '');
/** HEAP_GROWING_PERCENT as the server process gets it (inherited from this one's environment). */
const heapGrowth = process.env.HEAP_GROWING_PERCENT || undefined;
const gzip = args.has('gzip');
const gzipPoolSize = args.number('gzip-bodies', quick ? 2_000 : 12_000);
const withDelivery = args.has('delivery');
const emulatorLimit = args.number('emulator-limit', 100_000);
const deliveryConcurrency = args.get('delivery-concurrency');
/** Only the two servers: no in-process store and body reader figures (A/B runs of two builds). */
const serversOnly = args.has('servers-only');
/** With --delivery: seconds of delivery alone after the load stops (the backlog it left). */
const drainSeconds = args.number('drain-seconds', 15);

interface LevelRun {
  server: 'ingest' | 'no-op';
  load: LoadResult;
  /** CPU seconds the server process used per wall second of the measured run (1 = one core). */
  serverCores: number | null;
  serverPeakRssMb: number | null;
  /** Share of the run the server's main thread was runnable but waiting for a CPU (other load). */
  serverStarved: number | null;
  /** With --delivery: events settled (delivered, skipped, failed) per second over the same window. */
  settledPerSecond: number | null;
  /** With --delivery: after the load stops, events settled per second and server CPU per settled event. */
  drain: { settledPerSecond: number; cpuMicrosPerSettled: number | null } | null;
}

/** Delivery alone for drainSeconds, the load stopped: settles per second and CPU per settle. */
async function measureDrain(server: ServiceProcess): Promise<NonNullable<LevelRun['drain']>> {
  const settledBefore = await settledCount(server);
  const cpuBefore = cpuSecondsOf(server.pid);
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, drainSeconds * 1000));
  const settled = (await settledCount(server)) - settledBefore;
  const cpuAfter = cpuSecondsOf(server.pid);
  const wall = (performance.now() - start) / 1000;
  return {
    settledPerSecond: settled / wall,
    cpuMicrosPerSettled: cpuBefore !== null && cpuAfter !== null && settled > 0 ? ((cpuAfter - cpuBefore) * 1e6) / settled : null,
  };
}

/** Events the server settled so far, from its /metrics. */
async function settledCount(server: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return ['delivered', 'skipped', 'failed'].reduce((n, k) => n + sumSamples(text, `sailthru_destination_events_${k}_total`), 0);
}

async function measure(server: ServiceProcess, kind: LevelRun['server'], connections: number, firstRequest: number): Promise<LevelRun> {
  const compressed = gzip && kind === 'ingest';
  const delivering = withDelivery && kind === 'ingest';
  // Counted from the start of the warm-up: settles keep going while the load ramps, and the
  // measured window is most of the run.
  const settledBefore = delivering ? await settledCount(server) : 0;
  const cpuBefore = cpuSecondsOf(server.pid);
  const sched = schedMeter(server.pid);
  const wallBefore = performance.now();
  const load = await runLoad({
    url: server.url,
    path: '/v1/batch',
    connections,
    warmupMs: warmupSeconds * 1000,
    durationMs: seconds * 1000,
    headers: {
      'content-type': 'application/json',
      authorization: basicAuth(BENCH_WRITE_KEY),
      ...(compressed ? { 'content-encoding': 'gzip' } : {}),
    },
    body: (n) => (compressed ? gzippedBody(n) : batch.body(n)),
    unitsPerRequest: EVENTS_PER_BATCH,
    firstRequest,
  });
  const cpuAfter = cpuSecondsOf(server.pid);
  const starved = sched.stop()?.starvedShare ?? null;
  const wall = (performance.now() - wallBefore) / 1000;
  const settledPerSecond = delivering ? ((await settledCount(server)) - settledBefore) / wall : null;
  return {
    settledPerSecond,
    drain: null,
    server: kind,
    load,
    serverCores: cpuBefore !== null && cpuAfter !== null ? (cpuAfter - cpuBefore) / wall : null,
    serverPeakRssMb: memoryOf(server.pid)?.hwmMb ?? null,
    serverStarved: starved,
  };
}

const batch = batchBodies({ templates: 64, eventsPerBody: EVENTS_PER_BATCH });

/** Gzipped bodies made before the run; past the pool, numbers wrap (duplicates, counted below). */
const gzipPool: Buffer[] = gzip ? Array.from({ length: gzipPoolSize }, (_, n) => gzipSync(batch.body(n))) : [];
let gzipWrapped = 0;
function gzippedBody(n: number): Buffer {
  if (n >= gzipPool.length) gzipWrapped++;
  return gzipPool[n % gzipPool.length]!;
}

/**
 * The body reader alone, in this process: receiveBody (stream in, limit, gunzip) and the JSON
 * parse, for the same bodies plain and gzipped. What gzip adds per event, without HTTP or storage.
 */
async function measureBodyReader(): Promise<{ plainMicrosPerEvent: number; gzipMicrosPerEvent: number; compressionRatio: number }> {
  const plain = Array.from({ length: 64 }, (_, n) => batch.body(n));
  const zipped = plain.map((b) => gzipSync(b));
  const time = async (bodies: Buffer[], headers: Record<string, string>): Promise<number> => {
    const rounds = quick ? 20 : 100;
    const start = process.cpuUsage();
    for (let r = 0; r < rounds; r++) {
      for (const body of bodies) {
        const received = await receiveBody(Readable.from([body]), { ...headers, 'content-length': String(body.length) }, MAX_REQUEST_BYTES);
        JSON.parse(received.decoded.toString('utf8'));
      }
    }
    const cpu = process.cpuUsage(start);
    return (cpu.user + cpu.system) / (rounds * bodies.length * EVENTS_PER_BATCH);
  };
  await time(plain, {});
  await time(zipped, { 'content-encoding': 'gzip' });
  const plainMicrosPerEvent = await time(plain, {});
  const gzipMicrosPerEvent = await time(zipped, { 'content-encoding': 'gzip' });
  const sum = (list: Buffer[]) => list.reduce((s, b) => s + b.length, 0);
  return { plainMicrosPerEvent, gzipMicrosPerEvent, compressionRatio: sum(plain) / sum(zipped) };
}

/**
 * The store alone, for the analysis: SqliteEventStore.append of the same events, already
 * normalised, `inFlight` batches at a time, in this process (no HTTP, no JSON parsing, no
 * normalising). It bounds what the HTTP path can reach on this machine.
 */
async function measureStoreAlone(inFlight: number): Promise<{ eventsPerSecond: number; commits: number; batches: number; cpuMicrosPerEvent: number }> {
  const scratch = scratchDir('store');
  const store = await openSqliteStore({ path: join(scratch.path, 'store.db') });
  try {
    const templates = Array.from({ length: 64 }, (_, i) => {
      const result = normalizeTrackingBody(JSON.parse(batch.body(i).toString('utf8')), 'batch', new Date());
      if (!result.ok) throw new Error(result.error);
      return result.accepted;
    });
    let n = 0;
    let stored = 0;
    const commitsBefore = store.commitCount;
    const start = performance.now();
    const warmEnd = start + warmupSeconds * 1000;
    const end = warmEnd + seconds * 1000;
    let commitsAtWarmEnd = commitsBefore;
    let batches = 0;
    let cpuAtWarmEnd: NodeJS.CpuUsage | null = null;
    const loop = async () => {
      while (performance.now() < end) {
        const k = n++;
        const accepted = templates[k % templates.length]!.map((e, i) => ({ ...e, messageId: `store-${k}-${i}` }));
        await store.append({ destinationId: 'default', accepted, rejected: [], receivedAt: new Date() });
        const now = performance.now();
        if (now >= warmEnd && now < end) {
          stored += accepted.length;
          batches++;
          cpuAtWarmEnd ??= process.cpuUsage();
        } else if (now < warmEnd) commitsAtWarmEnd = store.commitCount;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, loop));
    const cpu = process.cpuUsage(cpuAtWarmEnd ?? undefined);
    return { eventsPerSecond: stored / seconds, commits: store.commitCount - commitsAtWarmEnd, batches, cpuMicrosPerEvent: (cpu.user + cpu.system) / Math.max(1, stored) };
  } finally {
    // ThreadWriteChannel.close() waits for the writer thread's exit with the thread and its timer
    // both unref'd: with nothing else alive the process would end there (exit code 13).
    const keepAlive = setInterval(() => {}, 1000);
    await store.close();
    clearInterval(keepAlive);
    scratch.dispose();
  }
}
process.stdout.write(
  `ingest${gzip ? ' (gzipped bodies)' : ''}: ${EVENTS_PER_BATCH} events per batch, ${Math.round(batch.meanEventBytes)} bytes per event on average ` +
    `(${Math.round(batch.meanBodyBytes / 1024)} KB per body); ${seconds} s per level after ${warmupSeconds} s warm-up\n`,
);

const noop = await startScript(join(BENCH_DIR, 'lib', 'noop-server.ts'));
const emulator: EmulatorHost | null = withDelivery
  ? await startEmulatorHost(
      { ...BENCH_CREDENTIALS, windowMs: 1000, limits: { 'GET *': emulatorLimit, 'POST *': emulatorLimit, 'DELETE *': emulatorLimit }, maxRequestLog: 1000, maxActivityLog: 1000 },
      'per-second',
      1000,
    )
  : null;
const runs: LevelRun[] = [];
try {
  for (const connections of connectionLevels) {
    runs.push(await measure(noop, 'no-op', connections, 0));
    const scratch = scratchDir('ingest');
    const profileDir = join(tmpdir(), 'st-bench-profiles');
    const server = await startCli(
      withDelivery ? ['serve'] : ['serve', '--no-delivery'],
      serviceEnv({
        emulatorUrl: emulator?.url ?? 'http://127.0.0.1:9',
        databaseUrl: `sqlite:${join(scratch.path, 'ingest.db')}`,
        extra: withDelivery
          ? {
              SAILTHRU_RATE_LIMITS: `POST=${emulatorLimit},GET=${emulatorLimit},DELETE=${emulatorLimit},POST /user=${emulatorLimit}`,
              ...(deliveryConcurrency !== undefined ? { DELIVERY_CONCURRENCY: deliveryConcurrency } : {}),
            }
          : {},
      }),
      { nodeArgs: [...serverNodeArgs, ...(cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])] },
    );
    if (cpuProfile) process.stdout.write(`server profile goes to ${profileDir}\n`);
    process.stdout.write(`ingest server pid ${server.pid}\n`);
    try {
      const run = await measure(server, 'ingest', connections, 0);
      if (withDelivery) run.drain = await measureDrain(server);
      runs.push(run);
    } finally {
      await server.stop();
      scratch.dispose();
    }
    const last = runs.slice(-2);
    printTable(last.map(rowOf), `${connections} connections`);
  }
} finally {
  await noop.stop();
  await emulator?.stop();
}

function rowOf(r: LevelRun) {
  return {
    server: r.server,
    connections: r.load.connections,
    'events/s': Math.round(r.load.unitsPerSecond),
    'batches/s': round(r.load.requestsPerSecond, 1),
    'p50 ms': round(r.load.latencyMs.p50, 1),
    'p99 ms': round(r.load.latencyMs.p99, 1),
    'non-200': Object.entries(r.load.failures).map(([s, n]) => `${s}:${n}`).join(' ') || '0',
    'server cores': r.serverCores === null ? null : round(r.serverCores, 2),
    'main thread starved': r.serverStarved === null ? null : `${round(100 * r.serverStarved, 0)}%`,
    'server CPU us/event': r.serverCores === null ? null : round((r.serverCores * 1e6) / r.load.unitsPerSecond, 1),
    ...(withDelivery
      ? {
          'settled/s': r.settledPerSecond === null ? null : Math.round(r.settledPerSecond),
          'drain settled/s': r.drain === null ? null : Math.round(r.drain.settledPerSecond),
          'drain CPU us/settled': r.drain?.cpuMicrosPerSettled == null ? null : round(r.drain.cpuMicrosPerSettled, 0),
        }
      : {}),
  };
}

const storeAlone = serversOnly ? null : await measureStoreAlone(32);
if (storeAlone) printTable(
  [
    {
      'in flight': 32,
      'events/s': Math.round(storeAlone.eventsPerSecond),
      'batches per commit': round(storeAlone.batches / Math.max(1, storeAlone.commits), 1),
      'CPU us/event': round(storeAlone.cpuMicrosPerEvent, 1),
    },
  ],
  'SqliteEventStore.append alone (no HTTP), same events, in this process',
);

const bodyReader = serversOnly ? null : await measureBodyReader();
if (bodyReader) printTable(
  [
    {
      'plain CPU us/event': round(bodyReader.plainMicrosPerEvent, 2),
      'gzip CPU us/event': round(bodyReader.gzipMicrosPerEvent, 2),
      'gzip costs us/event': round(bodyReader.gzipMicrosPerEvent - bodyReader.plainMicrosPerEvent, 2),
      'compression ratio': round(bodyReader.compressionRatio, 1),
    },
  ],
  'Body reader alone (receiveBody + JSON.parse), same bodies, in this process',
);
if (gzip) process.stdout.write(`gzip pool: ${gzipPool.length} bodies; ${gzipWrapped} requests reused a body (stored as duplicates)\n`);

const ingestRuns = runs.filter((r) => r.server === 'ingest');
const noopRuns = runs.filter((r) => r.server === 'no-op');
const best = (list: LevelRun[]) => list.reduce((a, b) => (b.load.unitsPerSecond > a.load.unitsPerSecond ? b : a));
const bestIngest = best(ingestRuns);
const bestNoop = best(noopRuns);
const ratio = bestIngest.load.unitsPerSecond / bestNoop.load.unitsPerSecond;

printTable(runs.map(rowOf), 'Durable ingest vs. no-op parse route (all levels)');
printTable(
  connectionLevels.map((c) => {
    const i = ingestRuns.find((r) => r.load.connections === c)!;
    const n = noopRuns.find((r) => r.load.connections === c)!;
    return { connections: c, 'ingest events/s': Math.round(i.load.unitsPerSecond), 'no-op events/s': Math.round(n.load.unitsPerSecond), ratio: round(i.load.unitsPerSecond / n.load.unitsPerSecond, 3) };
  }),
  'Ratio per level',
);

const targets: TargetCheck[] = [
  {
    figure: 'durable ingest, best of the connection levels',
    target: `>= ${TARGET_EVENTS_PER_SECOND} events/s`,
    measured: `${Math.round(bestIngest.load.unitsPerSecond)} events/s at ${bestIngest.load.connections} connections`,
    met: bestIngest.load.unitsPerSecond >= TARGET_EVENTS_PER_SECOND,
  },
  {
    figure: 'ratio to the no-op parse route (best / best)',
    target: 'report',
    measured: `${round(ratio, 3)} (no-op best ${Math.round(bestNoop.load.unitsPerSecond)} events/s at ${bestNoop.load.connections} connections)`,
    met: null,
  },
];
printTargets(targets);

const path = writeResult({
  // A run with another heap growth is kept beside the default one, not over it.
  name: `${heapGrowth === undefined ? 'ingest' : `ingest-heap-growing-${heapGrowth}`}${gzip ? '-gzip' : ''}${withDelivery ? '-delivery' : ''}`,
  quick,
  parameters: {
    eventsPerBatch: EVENTS_PER_BATCH,
    meanEventBytes: Math.round(batch.meanEventBytes),
    meanBodyBytes: Math.round(batch.meanBodyBytes),
    connectionLevels,
    secondsPerLevel: seconds,
    warmupSeconds,
    serverNodeArgs,
    serverBin: process.env.BENCH_BIN ?? 'this checkout',
    heapGrowingPercent: heapGrowth ?? '50 (bin/sailthru-destination.js default)',
    store: 'SQLite file in os.tmpdir(), WAL, synchronous=FULL, group commit; serve --no-delivery in a child process',
    noop: 'fastify 5, POST /v1/batch parses the JSON body and answers 200, in a child process',
    loadGenerator: 'undici Pool, one request in flight per connection, in the parent process (same machine)',
    cpuProfile,
    gzip,
    delivery: withDelivery ? { emulatorLimitPerSecond: emulatorLimit, deliveryConcurrency: deliveryConcurrency ?? 'default' } : false,
    ...(gzip ? { gzipPoolBodies: gzipPool.length, gzipWrappedRequests: gzipWrapped } : {}),
  },
  figures: {
    bestEventsPerSecond: round(bestIngest.load.unitsPerSecond, 0),
    bestConnections: bestIngest.load.connections,
    noopBestEventsPerSecond: round(bestNoop.load.unitsPerSecond, 0),
    noopBestConnections: bestNoop.load.connections,
    ratioToNoop: round(ratio, 3),
    ...(storeAlone
      ? {
          storeAloneEventsPerSecond: round(storeAlone.eventsPerSecond, 0),
          storeAloneCpuMicrosPerEvent: round(storeAlone.cpuMicrosPerEvent, 1),
          storeAloneBatchesPerCommit: round(storeAlone.batches / Math.max(1, storeAlone.commits), 2),
        }
      : {}),
    ...(bodyReader
      ? {
          bodyReaderPlainCpuMicrosPerEvent: round(bodyReader.plainMicrosPerEvent, 2),
          bodyReaderGzipCpuMicrosPerEvent: round(bodyReader.gzipMicrosPerEvent, 2),
          gzipCompressionRatio: round(bodyReader.compressionRatio, 1),
        }
      : {}),
    levels: runs.map((r) => ({
      server: r.server,
      connections: r.load.connections,
      eventsPerSecond: round(r.load.unitsPerSecond, 0),
      batchesPerSecond: round(r.load.requestsPerSecond, 1),
      requests: r.load.requests,
      failures: r.load.failures,
      latencyMs: { p50: round(r.load.latencyMs.p50, 1), p95: round(r.load.latencyMs.p95, 1), p99: round(r.load.latencyMs.p99, 1), max: round(r.load.latencyMs.max, 1) },
      serverCpuCores: r.serverCores === null ? null : round(r.serverCores, 2),
      serverCpuMicrosPerEvent: r.serverCores === null ? null : round((r.serverCores * 1e6) / r.load.unitsPerSecond, 1),
      serverPeakRssMb: r.serverPeakRssMb === null ? null : round(r.serverPeakRssMb, 1),
      serverMainThreadStarvedShare: r.serverStarved === null ? null : round(r.serverStarved, 3),
      settledPerSecond: r.settledPerSecond === null ? null : round(r.settledPerSecond, 0),
      drain: r.drain === null ? null : { settledPerSecond: round(r.drain.settledPerSecond, 0), cpuMicrosPerSettled: r.drain.cpuMicrosPerSettled === null ? null : round(r.drain.cpuMicrosPerSettled, 0) },
    })),
  },
  targets,
  notes: [
    'Throughput counts batches answered 200 (stored and committed) that completed inside the measured window.',
    'store alone: SqliteEventStore.append of the same (already normalised) events in the load generator process, 32 batches in flight; an upper bound for the HTTP path.',
    'server cores: CPU seconds of the server process (all threads) per wall second.',
    'CPU us/event: CPU time (all threads) spent per stored event; 1e6 / it is what one core could do if nothing else waited (fsync waits are not CPU).',
    'main thread starved: share of the run the server main thread was runnable but waiting for a CPU (/proc schedstat): time lost to other load on the VM.',
  ],
});
process.stdout.write(`\nwrote ${path}\n`);
