/**
 * Sailthru calls per delivered event on the standard mix, and what a naive port would need for
 * the same events.
 *
 *   npx tsx bench/calls-per-event.ts [--quick] [--events 10000]
 *
 * The events go through the real path: /v1/batch → SQLite → lane worker → destination → the
 * emulator (in this process, limits far above what is used, so no call is a 429 retry). Our
 * figure counts every call the emulator received; the delivery log gives each event's calls,
 * which must add up to the same number.
 *
 * The naive figure is a MODEL, not a second implementation: the same event sequence, with the
 * calls our destination made per event rewritten as a port would make them that (a) looks up the
 * email with GET /user on every Order Completed, even when the event or a cache has it, (b)
 * fetches the user twice on every cart change (once for the email, once for the cart), never
 * remembering the cart, and (c) looks up the anonymous profile on every first identify that
 * merges one, never remembering the profiles it created. Every other event costs the naive port
 * what it cost us.
 *
 * Our own figure runs where the service remembers carts (one SQLite process delivers every
 * event); docs/sailthru-setup.md says when it fetches instead.
 */
import type { StoredEvent } from '../src/delivery/store.ts';
import { standardMix } from '../src/cli/traffic.ts';
import { startEmulator } from '../src/emulator/index.ts';
import type { CallRecord } from '../src/sailthru/types.ts';
import { parseArgs } from './lib/args.ts';
import { allEvents, ingestAll, startInProcessService, waitForDrain } from './lib/in-process.ts';
import { kindOf, MIX_KINDS, type MixKind } from './lib/mix-events.ts';
import { printTable, printTargets, round, writeResult, type TargetCheck } from './lib/report.ts';
import { BENCH_CREDENTIALS } from './lib/stack.ts';

const TARGET = 1.15;

const args = parseArgs();
const quick = args.quick;
const eventCount = args.number('events', quick ? 2_000 : 10_000);
const seed = args.number('seed', 1);

const emulatorCalls = new Map<string, number>();
const emulator = await startEmulator({
  ...BENCH_CREDENTIALS,
  // One-minute windows far above the load: this benchmark counts calls, it does not pace them.
  windowMs: 60_000,
  limits: { 'GET *': 10_000_000, 'POST *': 10_000_000, 'DELETE *': 10_000_000 },
  maxRequestLog: 1000,
  onRequest(entry) {
    const key = `${entry.method} ${entry.path} ${entry.status}`;
    emulatorCalls.set(key, (emulatorCalls.get(key) ?? 0) + 1);
  },
});
const stack = await startInProcessService({
  emulatorUrl: emulator.url,
  env: { SAILTHRU_RATE_LIMITS: 'GET=100000,POST=100000,DELETE=100000,POST /user=100000' },
});

let events: StoredEvent[];
const started = performance.now();
try {
  const wire = standardMix({ seed, users: 2000 }).take(eventCount);
  await ingestAll(stack.service.url, wire);
  await waitForDrain(stack.service, 30 * 60_000);
  events = await allEvents(stack.service);
  // Events retried (should be none here) carry calls in earlier attempts too.
  for (const e of events.filter((x) => x.attempts > 1)) {
    const detail = await stack.service.store.getEvent(e.id);
    (e as StoredEvent & { allCalls?: CallRecord[] }).allCalls = detail?.attempts.flatMap((a) => a.calls) ?? [];
  }
} finally {
  await stack.stop();
  await emulator.close();
}
const seconds = (performance.now() - started) / 1000;

const callsOf = (e: StoredEvent): CallRecord[] => (e as StoredEvent & { allCalls?: CallRecord[] }).allCalls ?? e.outcome?.calls ?? [];
const isGetUser = (c: CallRecord) => c.method === 'GET' && c.endpoint === '/user';
/** POST /user in the merge form (`keys.extid` re-keys the profile it names): a lookup found it, or we knew it. */
const isMergeWithoutLookup = (c: CallRecord) =>
  c.method === 'POST' && c.endpoint === '/user' && (c.payload as { keys?: { extid?: unknown } } | null)?.keys?.extid !== undefined;

/** The naive port's calls for the same event (see the header comment): a model. */
function naiveCallCount(kind: MixKind | 'other', calls: CallRecord[]): number {
  const gets = calls.filter(isGetUser).length;
  const others = calls.length - gets;
  if (kind === 'Order Completed') return others + 1;
  if (kind === 'cart change') return others + 2;
  if (kind === 'identify' && gets === 0 && calls.some(isMergeWithoutLookup)) return calls.length + 1;
  return calls.length;
}

interface KindTally {
  events: number;
  delivered: number;
  skipped: number;
  failed: number;
  calls: number;
  getUser: number;
  naiveCalls: number;
}
const tally = new Map<string, KindTally>();
const byState: Record<string, number> = {};
for (const e of events) {
  const kind = kindOf({ type: e.type, event: e.eventName });
  const t = tally.get(kind) ?? { events: 0, delivered: 0, skipped: 0, failed: 0, calls: 0, getUser: 0, naiveCalls: 0 };
  const calls = callsOf(e);
  t.events++;
  if (e.status === 'delivered') t.delivered++;
  if (e.status === 'skipped') t.skipped++;
  if (e.status === 'failed') t.failed++;
  t.calls += calls.length;
  t.getUser += calls.filter(isGetUser).length;
  t.naiveCalls += naiveCallCount(kind, calls);
  tally.set(kind, t);
  byState[e.status] = (byState[e.status] ?? 0) + 1;
}
/**
 * Identify's anonymous-profile lookups (GET /user by extid = anonymousId), in delivery order:
 * found (then merged), not found the first time for that anonymousId, or not found again.
 */
const lookups = { found: 0, absentFirst: 0, absentRepeat: 0, other: 0 };
const absentBefore = new Set<string>();
const inDeliveryOrder = [...events].sort((a, b) => (a.settledAt?.getTime() ?? 0) - (b.settledAt?.getTime() ?? 0) || a.id - b.id);
for (const e of inDeliveryOrder) {
  if (e.type !== 'identify') continue;
  for (const c of callsOf(e).filter(isGetUser)) {
    const id = String((c.payload as { id?: unknown } | null)?.id ?? '');
    if (c.status === 200) lookups.found++;
    else if (c.status === 400 && absentBefore.has(id)) lookups.absentRepeat++;
    else if (c.status === 400) {
      lookups.absentFirst++;
      absentBefore.add(id);
    } else lookups.other++;
  }
}

/** First identifies that merged an anonymous profile this process had created, with no lookup. */
const mergesKnown = events.filter((e) => e.type === 'identify' && !callsOf(e).some(isGetUser) && callsOf(e).some(isMergeWithoutLookup)).length;

const sum = (f: (t: KindTally) => number) => [...tally.values()].reduce((s, t) => s + f(t), 0);
const delivered = sum((t) => t.delivered);
const totalCalls = sum((t) => t.calls);
const naiveCalls = sum((t) => t.naiveCalls);
const emulatorTotal = [...emulatorCalls.values()].reduce((a, b) => a + b, 0);
const perDelivered = totalCalls / delivered;
const naivePerDelivered = naiveCalls / delivered;

const kinds: Array<MixKind | 'other'> = [...MIX_KINDS, ...(tally.has('other') ? (['other'] as const) : [])];
printTable(
  kinds.map((kind) => {
    const t = tally.get(kind) ?? { events: 0, delivered: 0, skipped: 0, failed: 0, calls: 0, getUser: 0, naiveCalls: 0 };
    return {
      kind,
      events: t.events,
      delivered: t.delivered,
      skipped: t.skipped,
      failed: t.failed,
      calls: t.calls,
      'of which GET /user': t.getUser,
      'calls/event': round(t.calls / Math.max(1, t.events), 3),
      'naive model calls': t.naiveCalls,
    };
  }),
  `Sailthru calls on the standard mix (${events.length} events, seed ${seed}, 2000 users)`,
);
printTable(
  [
    { 'identify lookup (GET /user extid=anonymousId)': 'none: a profile this process created, merged', calls: mergesKnown },
    { 'identify lookup (GET /user extid=anonymousId)': 'found, then merged', calls: lookups.found },
    { 'identify lookup (GET /user extid=anonymousId)': 'not found, first time for that anonymousId', calls: lookups.absentFirst },
    { 'identify lookup (GET /user extid=anonymousId)': 'not found AGAIN (same anonymousId already not found)', calls: lookups.absentRepeat },
    { 'identify lookup (GET /user extid=anonymousId)': 'other answer', calls: lookups.other },
  ],
  'Why identify calls GET /user',
);
printTable(
  [...emulatorCalls.entries()].sort().map(([k, n]) => ({ 'emulator saw': k, calls: n })),
  'Calls by endpoint and status, as the emulator received them',
);

const targets: TargetCheck[] = [
  {
    figure: 'Sailthru calls per delivered event (standard mix)',
    target: `<= ${TARGET}`,
    measured: `${round(perDelivered, 4)} (${totalCalls} calls / ${delivered} delivered)`,
    met: perDelivered <= TARGET,
  },
  {
    figure: 'naive port (MODEL: GET /user on every purchase, cart fetched twice, no memory)',
    target: 'report (~1.3)',
    measured: `${round(naivePerDelivered, 4)} (${naiveCalls} calls / ${delivered} delivered)`,
    met: null,
  },
];
printTargets(targets);
if (emulatorTotal !== totalCalls) {
  process.stdout.write(`\nWARNING: the emulator saw ${emulatorTotal} calls but the delivery log records ${totalCalls}\n`);
}

const path = writeResult({
  name: 'calls-per-event',
  quick,
  parameters: {
    events: eventCount,
    seed,
    users: 2000,
    mix: 'src/cli/traffic.ts standardMix: 25% identify (1/5 first logins merging an anonymousId), 45% custom track, 10% page, 5% Order Completed (half with context.traits.email), 15% Product Added/Removed',
    emulator: 'in process, one-minute windows, limits far above the load (no 429)',
  },
  figures: {
    callsPerDeliveredEvent: round(perDelivered, 4),
    callsPerSettledEvent: round(totalCalls / events.length, 4),
    calls: totalCalls,
    emulatorCalls: emulatorTotal,
    delivered,
    eventsByState: byState,
    identifyLookups: lookups,
    mergesWithoutLookup: mergesKnown,
    naiveModel: { callsPerDeliveredEvent: round(naivePerDelivered, 4), calls: naiveCalls },
    perKind: Object.fromEntries([...tally.entries()].map(([k, t]) => [k, { ...t, callsPerEvent: round(t.calls / t.events, 4) }])),
    emulatorByEndpointAndStatus: Object.fromEntries([...emulatorCalls.entries()].sort()),
    seconds: round(seconds, 1),
  },
  targets,
  notes: [
    'Our figure is measured (delivery log, cross-checked against the emulator count). The naive figure is a model applied to the same events, not a measurement of another program.',
    'Naive model: Order Completed = its non-GET calls + 1 GET /user (always); cart change = its non-GET calls + 2 GET /user; identify merging a profile we knew without a lookup = our calls + 1 GET /user; every other event = our calls.',
  ],
});
process.stdout.write(`\nwrote ${path}\n`);
