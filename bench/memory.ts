/**
 * Memory under a deep backlog: 1,000,000 standard-mix events queued while the destination is
 * paused, then drained with the emulator's limits and ours raised. One `serve` process does both
 * (ingest, then delivery); its resident memory is sampled from /proc every second, and its peak
 * (VmHWM) read at the end. The drain rate is reported per tenth of the backlog, first to last.
 *
 *   npx tsx bench/memory.ts [--quick] [--events 1000000] [--concurrency 64] [--server-node-args "…"]
 *                           [--server-output FILE]
 *
 * `--quick` queues 100,000 events. The emulator runs in its own process (and is not measured).
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { standardMix } from '../src/cli/traffic.ts';
import { parseArgs } from './lib/args.ts';
import { startEmulatorHost } from './lib/emulator-host.ts';
import { printTable, printTargets, round, writeResult, type TargetCheck } from './lib/report.ts';
import { cpuSecondsOf, memoryOf, metric, schedMeter, schedOf, startCli, sumSamples } from './lib/service-process.ts';
import { basicAuth, BENCH_CREDENTIALS, BENCH_WRITE_KEY, scratchDir, serviceEnv } from './lib/stack.ts';
import { sleep } from './lib/stats.ts';

const TARGET_PEAK_RSS_MB = 200;
const ADMIN_TOKEN = 'bench-admin-token';

const args = parseArgs();
const quick = args.quick;
const eventCount = args.number('events', quick ? 100_000 : 1_000_000);
const concurrency = args.number('concurrency', 64);
const batchSize = args.number('batch', 500);
const ingestConnections = args.number('connections', 4);
const pollMs = args.number('poll-ms', 2000);
const seed = args.number('seed', 1);
const HIGH = 100_000;
/** Node flags for the server process, to try memory settings: --server-node-args="--max-semi-space-size=4". */
const serverNodeArgs = (args.get('server-node-args') ?? '').split(' ').filter((a) => a !== '');

/** Copy the server's stdout and stderr to a file, e.g. with --server-node-args=--trace-gc. */
const serverOutput = args.get('server-output');

const emulator = await startEmulatorHost(
  {
    ...BENCH_CREDENTIALS,
    windowMs: 1000,
    // Raised far above what one process can send: this benchmark is about our memory and pace.
    limits: { 'GET *': HIGH, 'POST *': HIGH, 'DELETE *': HIGH },
    maxRequestLog: 1000,
    maxActivityLog: 1000,
  },
  'per-second',
  1000,
);
const callsPerSecond = new Map<number, number>();
let calls429 = 0;
emulator.onReport((r) => {
  if (r.kind !== 'per-second') return;
  for (const [second, , status, n] of r.counts) {
    callsPerSecond.set(second, (callsPerSecond.get(second) ?? 0) + n);
    if (status === 429) calls429 += n;
  }
});

const scratch = scratchDir('memory');
const server = await startCli(
  ['serve'],
  serviceEnv({
    emulatorUrl: emulator.url,
    databaseUrl: `sqlite:${join(scratch.path, 'memory.db')}`,
    extra: {
      ADMIN_TOKEN,
      DELIVERY_CONCURRENCY: String(concurrency),
      SAILTHRU_RATE_LIMITS: `POST=${HIGH},GET=${HIGH},DELETE=${HIGH},POST /user=${HIGH}`,
    },
  }),
  { nodeArgs: serverNodeArgs },
);

if (serverOutput !== undefined) {
  const file = createWriteStream(serverOutput);
  server.child.stdout!.pipe(file);
  server.child.stderr!.pipe(file);
}

interface RssSample {
  t: number;
  phase: 'fill' | 'drain';
  rssMb: number;
  anonMb: number;
  fileMb: number;
}
const rss: RssSample[] = [];
let phase: RssSample['phase'] = 'fill';
// Started and idle: what the process costs before any event arrives.
await sleep(2000);
const idle = memoryOf(server.pid);
const startedAt = Date.now();
/** When VmHWM last rose (between two samples): where the peak happened, even if no sample caught it. */
let peakSeenAt: { t: number; phase: RssSample['phase'] | 'start'; hwmMb: number } = { t: Date.now(), phase: 'start', hwmMb: idle?.hwmMb ?? 0 };
const sampler = setInterval(() => {
  const m = memoryOf(server.pid);
  if (!m) return;
  rss.push({ t: Date.now(), phase, rssMb: m.rssMb, anonMb: m.anonMb, fileMb: m.fileMb });
  if (m.hwmMb > peakSeenAt.hwmMb) peakSeenAt = { t: Date.now(), phase, hwmMb: m.hwmMb };
}, 1000);

async function admin(path: string, body: unknown = {}): Promise<void> {
  const res = await fetch(`${server.url}/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${path} answered ${res.status}: ${await res.text()}`);
}

async function settledSoFar(): Promise<{ settled: number; metricsMs: number }> {
  const t = performance.now();
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const settled = ['delivered', 'skipped', 'failed'].reduce((s, k) => s + sumSamples(text, `sailthru_destination_events_${k}_total`), 0);
  return { settled, metricsMs: performance.now() - t };
}

let fillSeconds = 0;
let drainSeconds = 0;
/** Polls during the drain: settled events, and the server's CPU and run-queue time so far (seconds). */
const progress: Array<{ t: number; settled: number; cpu: number; starved: number }> = [];
const cpuNow = () => cpuSecondsOf(server.pid) ?? Number.NaN;
const starvedNow = () => schedOf(server.pid)?.waitingSeconds ?? Number.NaN;
let metricsMs: number[] = [];
let peakHwmMb = Number.NaN;
let rssAfterFillMb = Number.NaN;
let drainSched: { cores: number; starvedShare: number } | null = null;
let fillSched: { cores: number; starvedShare: number } | null = null;
try {
  await admin('/destinations/default/pause', { reason: 'benchmark: queueing the backlog' });

  // --- fill ------------------------------------------------------------------------------------
  const fillStart = performance.now();
  const fillMeter = schedMeter(server.pid);
  const generator = standardMix({ seed, users: 2000, messageIdPrefix: `mem-${seed}` });
  const pool = new Pool(server.url, { connections: ingestConnections });
  const headers = { 'content-type': 'application/json', authorization: basicAuth(BENCH_WRITE_KEY) };
  let sent = 0;
  const loop = async () => {
    while (sent < eventCount) {
      const n = Math.min(batchSize, eventCount - sent);
      sent += n;
      const body = JSON.stringify({ batch: generator.take(n) });
      for (;;) {
        const res = await pool.request({ path: '/v1/batch', method: 'POST', headers, body });
        const text = await res.body.text();
        if (res.statusCode === 200) break;
        if (res.statusCode === 429 || res.statusCode === 503) {
          await sleep(1000);
          continue;
        }
        throw new Error(`ingest answered ${res.statusCode}: ${text.slice(0, 300)}`);
      }
    }
  };
  let lastReport = 0;
  const reporter = setInterval(() => {
    if (sent - lastReport >= eventCount / 10) {
      lastReport = sent;
      process.stdout.write(`queued ${sent} events, server RSS ${round(memoryOf(server.pid)?.rssMb ?? Number.NaN, 1)} MB\n`);
    }
  }, 1000);
  await Promise.all(Array.from({ length: ingestConnections }, loop));
  clearInterval(reporter);
  await pool.close();
  fillSeconds = (performance.now() - fillStart) / 1000;
  fillSched = fillMeter.stop();
  rssAfterFillMb = memoryOf(server.pid)?.rssMb ?? Number.NaN;
  const backlog = await metric(server.url, 'sailthru_destination_backlog_events');
  process.stdout.write(`queued ${eventCount} events in ${round(fillSeconds, 1)} s (backlog gauge ${backlog}); resuming delivery\n`);

  // --- drain -----------------------------------------------------------------------------------
  phase = 'drain';
  const drainMeter = schedMeter(server.pid);
  const drainStart = Date.now();
  await admin('/destinations/default/resume');
  progress.push({ t: drainStart, settled: 0, cpu: cpuNow(), starved: starvedNow() });
  let nextReport = eventCount / 10;
  for (;;) {
    await sleep(pollMs);
    const { settled, metricsMs: ms } = await settledSoFar();
    metricsMs.push(ms);
    progress.push({ t: Date.now(), settled, cpu: cpuNow(), starved: starvedNow() });
    if (settled >= nextReport) {
      process.stdout.write(`settled ${settled} events after ${round((Date.now() - drainStart) / 1000, 0)} s, server RSS ${round(memoryOf(server.pid)?.rssMb ?? Number.NaN, 1)} MB\n`);
      while (nextReport <= settled) nextReport += eventCount / 10;
    }
    if (settled >= eventCount) break;
    if (server.child.exitCode !== null) throw new Error(`the server exited during the drain:\n${server.output()}`);
  }
  drainSeconds = (Date.now() - drainStart) / 1000;
  drainSched = drainMeter.stop();
  peakHwmMb = memoryOf(server.pid)?.hwmMb ?? Number.NaN;
  await emulator.flush();
} finally {
  clearInterval(sampler);
  await server.stop();
  await emulator.stop();
  scratch.dispose();
}

// --- drain rate per tenth of the backlog (times interpolated between polls) -------------------
/** A polled quantity (time, CPU seconds…) at the moment `n` events had settled, interpolated. */
function whenSettled(n: number, pick: (p: (typeof progress)[number]) => number): number {
  for (let i = 1; i < progress.length; i++) {
    const a = progress[i - 1]!;
    const b = progress[i]!;
    if (b.settled >= n) return b.settled === a.settled ? pick(b) : pick(a) + ((n - a.settled) / (b.settled - a.settled)) * (pick(b) - pick(a));
  }
  return pick(progress.at(-1)!);
}
const timeWhenSettled = (n: number) => whenSettled(n, (p) => p.t);
const deciles = Array.from({ length: 10 }, (_, k) => {
  const from = (k * eventCount) / 10;
  const to = ((k + 1) * eventCount) / 10;
  const t0 = timeWhenSettled(from);
  const t1 = timeWhenSettled(to);
  const inside = rss.filter((s) => s.phase === 'drain' && s.t >= t0 && s.t <= t1).map((s) => s.rssMb);
  const cpu = whenSettled(to, (p) => p.cpu) - whenSettled(from, (p) => p.cpu);
  const starved = whenSettled(to, (p) => p.starved) - whenSettled(from, (p) => p.starved);
  return {
    tenth: `${k * 10}-${(k + 1) * 10}%`,
    'events/s': Math.round((to - from) / ((t1 - t0) / 1000)),
    seconds: round((t1 - t0) / 1000, 1),
    // Load-independent: what delivering these events cost the server in CPU.
    'server CPU ms/1000 events': round((1e6 * cpu) / (to - from), 0),
    'main thread starved': `${round((100 * starved) / ((t1 - t0) / 1000), 0)}%`,
    'max RSS MB': inside.length > 0 ? round(Math.max(...inside), 1) : null,
  };
});
const rates = deciles.map((d) => d['events/s']);
const firstLast = rates[rates.length - 1]! / rates[0]!;
const cpuPerK = deciles.map((d) => d['server CPU ms/1000 events']);
const cpuFirstLast = cpuPerK[cpuPerK.length - 1]! / cpuPerK[0]!;
const peakRssSampled = Math.max(...rss.map((s) => s.rssMb));
const highest = rss.reduce((a, b) => (b.rssMb > a.rssMb ? b : a));
const idleRssMb = idle?.rssMb ?? Number.NaN;
const fillPeak = Math.max(...rss.filter((s) => s.phase === 'fill').map((s) => s.rssMb));
const drainPeak = Math.max(...rss.filter((s) => s.phase === 'drain').map((s) => s.rssMb));

printTable(deciles, `Drain of ${eventCount} events (${round(drainSeconds, 1)} s, ${Math.round(eventCount / drainSeconds)} events/s overall)`);
printTable(
  [
    { what: 'peak RSS (VmHWM, whole run)', MB: round(peakHwmMb, 1) },
    { what: `peak reached (VmHWM last rose): ${peakSeenAt.phase}, ${round((peakSeenAt.t - startedAt) / 1000, 0)} s after the idle reading`, MB: round(peakSeenAt.hwmMb, 1) },
    { what: 'RSS started and idle (2 s after listening, nothing sent)', MB: round(idleRssMb, 1) },
    { what: `highest sample: anonymous (heaps) / file-backed (binary, libraries)`, MB: `${round(highest.anonMb, 1)} / ${round(highest.fileMb, 1)}` },
    { what: 'highest RSS sample while filling', MB: round(fillPeak, 1) },
    { what: 'RSS after the fill', MB: round(rssAfterFillMb, 1) },
    { what: 'highest RSS sample while draining', MB: round(drainPeak, 1) },
  ],
  'Server memory',
);

const targets: TargetCheck[] = [
  {
    figure: `peak RSS of the server process, ${eventCount} events queued then drained`,
    target: `<= ${TARGET_PEAK_RSS_MB} MB (10^6 bytes)`,
    // Judged on the stricter reading, 250 x 10^6 bytes (238.4 MiB).
    measured: `${round(peakHwmMb, 1)} MiB = ${round((peakHwmMb * 1048576) / 1e6, 1)} MB (VmHWM)`,
    met: (peakHwmMb * 1048576) / 1e6 <= TARGET_PEAK_RSS_MB,
  },
  {
    figure: 'drain rate, last tenth / first tenth of the backlog',
    target: 'flat (report)',
    measured: `${round(firstLast, 3)} (${rates[0]} -> ${rates[rates.length - 1]} events/s; min ${Math.min(...rates)}, max ${Math.max(...rates)})`,
    met: null,
  },
  {
    figure: 'server CPU per delivered event, last tenth / first tenth (load-independent)',
    target: 'flat (report)',
    measured: `${round(cpuFirstLast, 3)} (${cpuPerK[0]} -> ${cpuPerK[cpuPerK.length - 1]} ms per 1000 events; min ${Math.min(...cpuPerK)}, max ${Math.max(...cpuPerK)})`,
    met: null,
  },
];
printTargets(targets);

const path = writeResult({
  name: serverNodeArgs.length > 0 ? 'memory-node-args' : 'memory',
  quick,
  parameters: {
    events: eventCount,
    seed,
    users: 2000,
    mix: 'standard mix (src/cli/traffic.ts)',
    ingest: `/v1/batch, ${batchSize} events per batch, ${ingestConnections} connections`,
    server: `one serve process (ingest + delivery), SQLite, DELIVERY_CONCURRENCY=${concurrency}, SAILTHRU_RATE_LIMITS raised to ${HIGH}/s`,
    pause: 'POST /api/destinations/default/pause before the fill, /resume to drain',
    emulator: `own process, one-second windows, every route limited to ${HIGH}`,
    pollMs,
    serverNodeArgs,
  },
  figures: {
    peakRssMb: round(peakHwmMb, 1),
    peakRssSampledMb: round(peakRssSampled, 1),
    peakReached: { phase: peakSeenAt.phase, secondsAfterIdle: round((peakSeenAt.t - startedAt) / 1000, 0), hwmMb: round(peakSeenAt.hwmMb, 1) },
    idleRssMb: round(idleRssMb, 1),
    idleAnonMb: idle ? round(idle.anonMb, 1) : null,
    highestSample: { phase: highest.phase, rssMb: round(highest.rssMb, 1), anonMb: round(highest.anonMb, 1), fileMb: round(highest.fileMb, 1) },
    rssAfterFillMb: round(rssAfterFillMb, 1),
    fillPeakRssMb: round(fillPeak, 1),
    drainPeakRssMb: round(drainPeak, 1),
    fillSeconds: round(fillSeconds, 1),
    fillEventsPerSecond: round(eventCount / fillSeconds, 0),
    drainSeconds: round(drainSeconds, 1),
    drainEventsPerSecond: round(eventCount / drainSeconds, 1),
    drainPerTenth: deciles,
    lastOverFirstTenth: round(firstLast, 3),
    cpuLastOverFirstTenth: round(cpuFirstLast, 3),
    emulatorCalls: [...callsPerSecond.values()].reduce((a, b) => a + b, 0),
    emulator429: calls429,
    metricsScrapeMs: { median: round([...metricsMs].sort((a, b) => a - b)[Math.floor(metricsMs.length / 2)] ?? Number.NaN, 1), max: round(Math.max(...metricsMs), 1) },
    serverMainThread: {
      fill: fillSched ? { cores: round(fillSched.cores, 3), starvedShare: round(fillSched.starvedShare, 3) } : null,
      drain: drainSched ? { cores: round(drainSched.cores, 3), starvedShare: round(drainSched.starvedShare, 3) } : null,
    },
    rssSeries: rss.filter((_, i) => i % 10 === 0).map((s) => ({ s: round((s.t - rss[0]!.t) / 1000, 0), phase: s.phase, mb: round(s.rssMb, 1), anonMb: round(s.anonMb, 1) })),
  },
  targets,
  notes: [
    'Progress is read from the server /metrics counters (delivered + skipped + failed) every pollMs; tenth boundaries are interpolated between polls.',
    'server CPU ms/1000 events: CPU seconds (all threads, /proc/<pid>/stat) the server used per tenth, per 1000 events; main thread starved: its run-queue wait (/proc/<pid>/schedstat) per wall second. The wall-clock rate moves with the other load on the VM; the CPU per event is the code.',
    'MB here are MiB (1024 x 1024 bytes), as /proc reports kB of 1024 bytes.',
    'RSS is sampled every second from /proc/<pid>/status (VmRSS); the peak is VmHWM at the end of the run, and peakReached the sample after which VmHWM last rose (the peak itself may fall between samples).',
  ],
});
metricsMs = [];
process.stdout.write(`\nwrote ${path}\n`);
