/**
 * Mapping alone (no I/O), on one core: events per second per event kind of the standard mix.
 *
 *   npx tsx bench/mapping.ts [--quick] [--rounds 7] [--round-ms 1000]
 *
 * Two figures per kind:
 * - "payload builders": the pure functions of src/destination that turn an event into the
 *   Sailthru payload (identifyPayload, customEventPayload, pageViewBody,
 *   completedPurchasePayload, and for a cart change itemFromProduct + cartFromStored +
 *   addToCart/removeFromCart + cartPurchasePayload), after resolveEventSettings;
 * - "whole action": createDestination(settings).deliver(event) with an in-memory Sailthru port
 *   that answers at once (routing, overrides, the action's logic, call records, the outcome),
 *   still without sockets, signing or serialising.
 * Each round runs every kind's events in a loop for round-ms; the table gives the median and the
 * best round.
 */
import { createDestination } from '../src/destination/index.ts';
import { addToCart, cartFromStored, cartPurchasePayload, remindersOf, removeFromCart } from '../src/destination/cart.ts';
import { identifyPayload } from '../src/destination/actions/identify.ts';
import { completedPurchasePayload } from '../src/destination/actions/order-completed.ts';
import { pageViewBody } from '../src/destination/actions/page-view.ts';
import { customEventPayload } from '../src/destination/actions/track-event.ts';
import { resolveEventSettings } from '../src/destination/overrides.ts';
import { DEFAULT_MAPPINGS } from '../src/destination/mappings/defaults.ts';
import { compileMappings, firstMatch } from '../src/destination/mappings/match.ts';
import { itemFromProduct, productIdOf, quantityOf } from '../src/destination/products.ts';
import { objectOf, pathOf, stringOf } from '../src/destination/read.ts';
import { validateSettings, type DestinationSettings } from '../src/destination/settings.ts';
import type { SailthruClient } from '../src/sailthru/client.ts';
import type { CallRecord, HttpMethod, SailthruResult, SailthruStoredCart } from '../src/sailthru/types.ts';
import type { SegmentEvent } from '../src/segment/event.ts';
import { parseArgs } from './lib/args.ts';
import { kindOf, MIX_KINDS, normalisedMix, type MixKind } from './lib/mix-events.ts';
import { printTable, printTargets, round, writeResult, type TargetCheck } from './lib/report.ts';
import { sortedCopy } from './lib/stats.ts';

const TARGET_CUSTOM_PER_SECOND = 50_000;
/** Issue 21: mapping evaluation (the default list, the custom-event catch-all last of 13) + the builder. */
const TARGET_MAPPED_CUSTOM_PER_SECOND = 100_000;
const compiledDefaults = compileMappings(DEFAULT_MAPPINGS);

const args = parseArgs();
const quick = args.quick;
const rounds = args.number('rounds', quick ? 3 : 7);
const roundMs = args.number('round-ms', quick ? 300 : 1000);
const eventCount = args.number('events', 20_000);

const checked = validateSettings({
  apiKey: 'bench-api-key',
  sharedSecret: 'bench-shared-secret',
  customerId: 'bench-customer',
  defaultListName: 'Newsletter',
  reminderTemplate: 'abandoned-cart',
  reminderTime: '60 minutes',
  sendTemplate: 'receipt',
  productBaseUrl: 'https://shop.example.com/products',
  apiUrl: 'http://127.0.0.1:9',
  trackUrl: 'http://127.0.0.1:9',
});
if (!checked.ok) throw new Error(checked.errors.join('; '));
const settings: DestinationSettings = checked.settings;

const events = normalisedMix(eventCount);
const byKind = new Map<MixKind, SegmentEvent[]>(MIX_KINDS.map((k) => [k, []]));
for (const e of events) {
  const kind = kindOf(e);
  if (kind !== 'other') byKind.get(kind)!.push(e);
}

/** The cart GET /user would return before each cart change: two items, one of them this product. */
function storedCartFor(event: SegmentEvent): SailthruStoredCart {
  const p = objectOf(event.properties) ?? {};
  const id = String(p.product_id ?? 'prod-1');
  return {
    time: 'Thu, 01 May 2025 09:58:00 +0000',
    items: [
      { id, qty: 2, title: String(p.name ?? ''), price: 1999, url: String(p.url ?? ''), images: { full: String(p.image_url ?? '') } },
      { id: 'prod-99', qty: 1, title: 'Wool Beanie', price: 1999, url: 'https://shop.example.com/products/prod-99', images: { full: 'https://cdn.example.com/img/prod-99.jpg' } },
    ],
    vars: { segment_last_message_id: 'earlier-change' },
  };
}
const storedCarts = new Map<SegmentEvent, SailthruStoredCart>(byKind.get('cart change')!.map((e) => [e, storedCartFor(e)]));

/** One kind's pure mapping: returns something derived from the payload so the work is not dropped. */
const builders: Record<MixKind, (event: SegmentEvent) => number> = {
  identify(event) {
    const { eventSettings } = resolveEventSettings(event, settings);
    return Object.keys(identifyPayload(event, eventSettings).payload).length;
  },
  'custom track'(event) {
    const mapped = customEventPayload(event);
    return mapped.ok ? Object.keys(mapped.value).length : 0;
  },
  page(event) {
    const mapped = pageViewBody(event, settings.customerId);
    return mapped.ok ? Object.keys(mapped.value).length : 0;
  },
  'Order Completed'(event) {
    const { eventSettings } = resolveEventSettings(event, settings);
    const mapped = completedPurchasePayload(event, eventSettings, settings.productBaseUrl);
    return mapped.ok ? Object.keys(mapped.value).length : 0;
  },
  'cart change'(event) {
    const { eventSettings } = resolveEventSettings(event, settings);
    const properties = objectOf(event.properties);
    let { cart } = cartFromStored(storedCarts.get(event));
    if (event.event === 'Product Added') {
      const mapped = itemFromProduct(properties, {
        label: 'properties',
        pageUrl: stringOf(pathOf(event.context, 'page', 'url')),
        productBaseUrl: settings.productBaseUrl,
      });
      if (!mapped.ok) return 0;
      cart = addToCart(cart, mapped.item);
    } else {
      const qty = quantityOf(properties, 'properties', []);
      if (typeof qty !== 'number') return 0;
      const removal = removeFromCart(cart, productIdOf(properties) ?? '', qty);
      if (removal.kind !== 'removed') return 0;
      cart = removal.cart;
    }
    const reminders = remindersOf(eventSettings.reminderTemplate, eventSettings.reminderTime);
    return Object.keys(cartPurchasePayload('someone@example.com', cart, event.messageId, reminders.fields)).length;
  },
};

/** The Sailthru client's surface, answering at once from memory (no sockets, no signing). */
function instantClient(): SailthruClient {
  const ok = <T>(method: HttpMethod, endpoint: string, payload: unknown, body: T): SailthruResult<T> => {
    const call: CallRecord = { method, endpoint, payload, status: 200, durationMs: 0, response: body };
    return { ok: true, status: 200, body, call };
  };
  const profile = (payload: { id?: string }) => ({
    keys: { email: `${payload.id ?? 'someone'}@example.com`, extid: payload.id },
    purchase_incomplete: storedCartFor({ type: 'track', messageId: 'x', properties: { product_id: 'prod-3' } }),
  });
  const client = {
    getUser: async (p: { id?: string }) => ok('GET', '/user', p, profile(p)),
    postUser: async (p: unknown) => ok('POST', '/user', p, { ok: true }),
    deleteUser: async (p: unknown) => ok('DELETE', '/user', p, { ok: true }),
    postEvent: async (p: unknown) => ok('POST', '/event', p, { ok: true }),
    postPurchase: async (p: unknown) => ok('POST', '/purchase', p, { purchase: {} }),
    postReturn: async (p: unknown) => ok('POST', '/return', p, { return: {} }),
    pageView: async (p: unknown) => ok('POST', '/v1/track/event/pageview', p, { ok: true }),
    close: async () => {},
  };
  // The destination only uses these methods (SailthruPort); the rest of the class is not needed here.
  return client as unknown as SailthruClient;
}

function timeSync(list: SegmentEvent[], fn: (e: SegmentEvent) => number, ms: number): { perSecond: number; sink: number } {
  let n = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    // Check the clock once per pass over a slice, not per event.
    for (let i = 0; i < 256; i++) sink += fn(list[(n + i) % list.length]!);
    n += 256;
    now = performance.now();
  }
  return { perSecond: (n * 1000) / (now - start), sink };
}

async function timeAsync(list: SegmentEvent[], fn: (e: SegmentEvent) => Promise<unknown>, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 256; i++) await fn(list[(n + i) % list.length]!);
    n += 256;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const destination = createDestination(settings, { client: instantClient() });
/** What the whole action concluded for each kind in one pass (so a fast path is not a refusal). */
const outcomes: Record<string, Record<string, number>> = {};
for (const kind of MIX_KINDS) {
  const counts: Record<string, number> = {};
  for (const e of byKind.get(kind)!) {
    const state = (await destination.deliver(e)).state;
    counts[state] = (counts[state] ?? 0) + 1;
  }
  outcomes[kind] = counts;
}
const results = new Map<MixKind, { builders: number[]; action: number[] }>(MIX_KINDS.map((k) => [k, { builders: [], action: [] }]));
let sink = 0;
// Warm-up: let the JIT see every path before anything is timed.
for (const kind of MIX_KINDS) {
  sink += timeSync(byKind.get(kind)!, builders[kind], 200).sink;
  await timeAsync(byKind.get(kind)!, (e) => destination.deliver(e), 200);
}
/** Issue 21: which mapping (first match over the default list), its fields applied, then the payload builder. */
const mappedCustom = (event: SegmentEvent): number => {
  const match = firstMatch(compiledDefaults, event);
  if (match === null) return 0;
  const mapped = customEventPayload(match.compiled.map(event).event);
  return mapped.ok ? Object.keys(mapped.value).length + match.index : 0;
};
const mappedRounds: number[] = [];
sink += timeSync(byKind.get('custom track')!, mappedCustom, 200).sink;
for (let r = 0; r < rounds; r++) {
  const m = timeSync(byKind.get('custom track')!, mappedCustom, roundMs);
  sink += m.sink;
  mappedRounds.push(m.perSecond);
  for (const kind of MIX_KINDS) {
    const list = byKind.get(kind)!;
    const b = timeSync(list, builders[kind], roundMs);
    sink += b.sink;
    results.get(kind)!.builders.push(b.perSecond);
    results.get(kind)!.action.push(await timeAsync(list, (e) => destination.deliver(e), roundMs));
  }
}
await destination.close();

const median = (xs: number[]) => sortedCopy(xs)[Math.floor(xs.length / 2)]!;
const rows = MIX_KINDS.map((kind) => {
  const r = results.get(kind)!;
  return {
    kind,
    events: byKind.get(kind)!.length,
    'builders/s median': Math.round(median(r.builders)),
    'builders/s best': Math.round(Math.max(...r.builders)),
    'action/s median': Math.round(median(r.action)),
    'action/s best': Math.round(Math.max(...r.action)),
    'action outcomes': Object.entries(outcomes[kind]!).map(([k, v]) => `${k} ${v}`).join(', '),
  };
});
printTable(rows, `Mapping without I/O, one core (${rounds} rounds of ${roundMs} ms per kind)`);

const custom = rows.find((r) => r.kind === 'custom track')!;
const targets: TargetCheck[] = [
  {
    figure: 'custom track events through the payload builder (median round)',
    target: `>= ${TARGET_CUSTOM_PER_SECOND}/s`,
    measured: `${custom['builders/s median']}/s`,
    met: custom['builders/s median'] >= TARGET_CUSTOM_PER_SECOND,
  },
  {
    figure: 'custom track events through mapping evaluation + payload builder (median round)',
    target: `>= ${TARGET_MAPPED_CUSTOM_PER_SECOND}/s`,
    measured: `${Math.round(median(mappedRounds))}/s`,
    met: median(mappedRounds) >= TARGET_MAPPED_CUSTOM_PER_SECOND,
  },
  {
    figure: 'custom track events through the whole action, instant port (median round)',
    target: 'report',
    measured: `${custom['action/s median']}/s`,
    met: null,
  },
];
printTargets(targets);

const path = writeResult({
  name: 'mapping',
  quick,
  parameters: { rounds, roundMs, events: eventCount, mix: 'standard mix, seed 1, 2000 users, normalised as ingest stores it' },
  figures: {
    perKind: Object.fromEntries(
      MIX_KINDS.map((kind) => {
        const r = results.get(kind)!;
        return [
          kind,
          {
            events: byKind.get(kind)!.length,
            actionOutcomes: outcomes[kind],
            buildersPerSecond: { median: round(median(r.builders), 0), best: round(Math.max(...r.builders), 0), rounds: r.builders.map((v) => round(v, 0)) },
            actionPerSecond: { median: round(median(r.action), 0), best: round(Math.max(...r.action), 0), rounds: r.action.map((v) => round(v, 0)) },
          },
        ];
      }),
    ),
  },
  targets,
  notes: [
    'builders: the pure payload functions of src/destination (plus resolveEventSettings where the action uses it).',
    'action: createDestination().deliver() against an in-memory client answering at once: no sockets, no signing, no JSON serialising.',
    'Single JS thread; the VM is shared, so rounds vary: the median is the figure, the best shows the spread.',
    `sink ${sink % 997}`,
  ],
});
process.stdout.write(`\nwrote ${path}\n`);
