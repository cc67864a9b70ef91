/**
 * End-to-end latency at half the rate limit: custom track events sent one per request to
 * /v1/track at a steady 20/s while the emulator limits POST /event to 40 per one-second window.
 * Latency is from the moment our 200 reached the client to the moment the emulator received the
 * POST /event carrying that event (matched by a sequence number in the event's properties,
 * which the mapping passes through as a var).
 *
 *   npx tsx bench/latency.ts [--quick] [--rate 20] [--seconds 60]
 *
 * The server runs as `serve` in a child process; the sender and the emulator share this process
 * (a light load: 20 requests/s), so both timestamps come from one clock.
 */
import { join } from 'node:path';
import { Pool } from 'undici';
import { TrafficGenerator } from '../src/cli/traffic.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { parseArgs } from './lib/args.ts';
import { printTable, printTargets, round, writeResult, type TargetCheck } from './lib/report.ts';
import { schedMeter, startCli } from './lib/service-process.ts';
import { basicAuth, BENCH_CREDENTIALS, BENCH_WRITE_KEY, scratchDir, serviceEnv } from './lib/stack.ts';
import { percentile, sleep, sortedCopy } from './lib/stats.ts';

const args = parseArgs();
const quick = args.quick;
const rate = args.number('rate', 20);
const seconds = args.number('seconds', quick ? 15 : 60);
const limit = args.number('limit', 40);
const seed = args.number('seed', 1);

/** Emulator arrival time (epoch ms) of the POST /event of each sequence number. */
const arrivedAt = new Map<number, number>();
let otherCalls = 0;
let answered429 = 0;
const emulator = await startEmulator({
  ...BENCH_CREDENTIALS,
  windowMs: 1000,
  limits: { 'POST /event': limit },
  maxRequestLog: 1000,
  onRequest(entry) {
    if (entry.status === 429) answered429++;
    const seq = (entry.payload as { vars?: { bench_seq?: unknown } } | undefined)?.vars?.bench_seq;
    if (entry.method === 'POST' && entry.path === '/event' && entry.status === 200 && typeof seq === 'number') {
      if (!arrivedAt.has(seq)) arrivedAt.set(seq, Date.parse(entry.time));
    } else {
      otherCalls++;
    }
  },
});
const scratch = scratchDir('latency');
const server = await startCli(['serve'], serviceEnv({ emulatorUrl: emulator.url, databaseUrl: `sqlite:${join(scratch.path, 'latency.db')}` }));

const generator = new TrafficGenerator({ seed, users: 2000, messageIdPrefix: `lat-${seed}`, weights: { identify: 0, track: 1, page: 0, orderCompleted: 0, cart: 0 } });
const pool = new Pool(server.url, { connections: 8 });
const headers = { 'content-type': 'application/json', authorization: basicAuth(BENCH_WRITE_KEY) };
/** When the 200 reached us (epoch ms) and how long the request took (ms), per sequence number. */
const answeredAt = new Map<number, { at: number; ingestMs: number }>();
const failures: Record<string, number> = {};

const total = Math.round(rate * seconds);
const intervalMs = 1000 / rate;
const sched = schedMeter(server.pid);
const start = performance.now();
const inFlight: Array<Promise<void>> = [];
let serverSched: { cores: number; starvedShare: number } | null = null;
try {
  for (let seq = 0; seq < total; seq++) {
    // Open loop: each event leaves at its own time, whatever the previous answer took.
    const due = start + seq * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const event = generator.nextEvent();
    event.properties = { ...(event.properties as Record<string, unknown>), bench_seq: seq };
    const sentAt = performance.now();
    inFlight.push(
      (async () => {
        try {
          const res = await pool.request({ path: '/v1/track', method: 'POST', headers, body: JSON.stringify(event) });
          await res.body.dump();
          if (res.statusCode === 200) answeredAt.set(seq, { at: Date.now(), ingestMs: performance.now() - sentAt });
          else failures[String(res.statusCode)] = (failures[String(res.statusCode)] ?? 0) + 1;
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'error';
          failures[code] = (failures[code] ?? 0) + 1;
        }
      })(),
    );
  }
  await Promise.all(inFlight);
  // Let the last events through (at most a few seconds at half the limit).
  const deadline = Date.now() + 30_000;
  while (arrivedAt.size < answeredAt.size && Date.now() < deadline) await sleep(100);
  serverSched = sched.stop();
} finally {
  await pool.close();
  await server.stop();
  await emulator.close();
  scratch.dispose();
}
const sendSeconds = (performance.now() - start) / 1000;

const latencies: number[] = [];
const ingest: number[] = [];
let missing = 0;
for (const [seq, answer] of answeredAt) {
  ingest.push(answer.ingestMs);
  const arrived = arrivedAt.get(seq);
  if (arrived === undefined) missing++;
  else latencies.push(arrived - answer.at);
}
const sorted = sortedCopy(latencies);
const sortedIngest = sortedCopy(ingest);
const row = (what: string, xs: number[]) => ({
  what,
  n: xs.length,
  'p50 ms': round(percentile(xs, 50), 1),
  'p95 ms': round(percentile(xs, 95), 1),
  'p99 ms': round(percentile(xs, 99), 1),
  'max ms': round(xs[xs.length - 1] ?? Number.NaN, 1),
});
printTable(
  [row('200 at the client -> POST /event at the emulator', sorted), row('request -> 200 (ingest, for reference)', sortedIngest)],
  `End-to-end latency, ${total} custom track events at ${rate}/s, POST /event limited to ${limit}/s`,
);
if (missing > 0 || Object.keys(failures).length > 0) {
  process.stdout.write(`\n${missing} acknowledged events never reached the emulator; non-200 answers: ${JSON.stringify(failures)}\n`);
}

const targets: TargetCheck[] = [
  {
    figure: `latency from 200 to Sailthru call at ${rate}/s (limit ${limit}/s)`,
    target: 'report p50/p95/p99',
    measured: `p50 ${round(percentile(sorted, 50), 1)} ms, p95 ${round(percentile(sorted, 95), 1)} ms, p99 ${round(percentile(sorted, 99), 1)} ms`,
    met: null,
  },
];
printTargets(targets);

const path = writeResult({
  name: 'latency',
  quick,
  parameters: {
    rate,
    seconds,
    events: total,
    emulator: { windowMs: 1000, limits: { 'POST /event': limit } },
    sender: 'open loop, one event per POST /v1/track, undici Pool (8 connections), same process as the emulator',
    server: 'serve (ingest + delivery) in a child process, SQLite',
    matching: 'properties.bench_seq, sent to Sailthru as vars.bench_seq',
  },
  figures: {
    latencyMs: {
      p50: round(percentile(sorted, 50), 1),
      p95: round(percentile(sorted, 95), 1),
      p99: round(percentile(sorted, 99), 1),
      max: round(sorted[sorted.length - 1] ?? Number.NaN, 1),
      min: round(sorted[0] ?? Number.NaN, 1),
    },
    ingestMs: { p50: round(percentile(sortedIngest, 50), 1), p95: round(percentile(sortedIngest, 95), 1), p99: round(percentile(sortedIngest, 99), 1) },
    acknowledged: answeredAt.size,
    matched: latencies.length,
    missing,
    failures,
    answered429,
    otherCalls,
    sendSeconds: round(sendSeconds, 1),
    serverMainThread: serverSched ? { cores: round(serverSched.cores, 3), starvedShare: round(serverSched.starvedShare, 3) } : null,
  },
  targets,
  notes: ['Timestamps: Date.now() when the 200 arrived, and the emulator request log time (ms resolution) of the POST /event, in the same process.'],
});
process.stdout.write(`\nwrote ${path}\n`);
