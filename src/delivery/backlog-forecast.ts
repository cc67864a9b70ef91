import type { HttpMethod } from '../sailthru/types.ts';
import { DEFAULT_MAPPINGS } from '../destination/mappings/defaults.ts';
import { nameMatcher } from '../destination/mappings/match.ts';
import type { ActionId, Mapping } from '../destination/mappings/schema.ts';

/**
 * How long a queued backlog takes to clear at the rate limits, and the best delivery rate a
 * mix allows. Each endpoint e has a per-second limit L_e; each queued event needs some calls of
 * some endpoints. With C_e calls of e queued in all, no schedule sends them in less than
 * C_e / L_e seconds, so the backlog needs at least max_e (C_e / L_e) seconds, and N events
 * clear at no more than N / max_e(C_e / L_e) = min_e (L_e / c_e) events/s, c_e = C_e / N.
 * The endpoint reaching the max is the bottleneck. Retries, a paused destination and calls
 * saved by memory (a cached email) are outside the figure: it is what the limits allow.
 */

/** One endpoint a call goes to, as the rate gate keys its budgets. */
export interface Endpoint {
  method: HttpMethod;
  path: string;
}

/** Queued events of one (type, event name), as the store counts them. */
export interface QueuedKind {
  type: string | null;
  eventName: string | null;
  count: number;
}

/** Calls one event of a kind needs, by endpoint key (`METHOD /path`). */
export type CallsPerEvent = Record<string, number>;

const POST_USER = 'POST /user';
const GET_USER = 'GET /user';

/** Calls one event needs under each mapping action (each action's `sends`, lookups counted as made). */
const ACTION_CALLS: Record<ActionId, CallsPerEvent> = {
  'profile-update': { [POST_USER]: 1 },
  'merge-profiles': { [GET_USER]: 1, [POST_USER]: 1 },
  'custom-event': { 'POST /event': 1 },
  purchase: { 'POST /purchase': 1 },
  return: { 'POST /return': 1 },
  'cart-add': { [GET_USER]: 1, 'POST /purchase': 1 },
  'cart-remove': { [GET_USER]: 1, 'POST /purchase': 1 },
  'cart-replace': { 'POST /purchase': 1 },
  'page-view': { 'POST /v1/track/event/pageview': 1 },
  'list-subscribe': { [POST_USER]: 1 },
  'list-unsubscribe': { [POST_USER]: 1 },
  'delete-user': { 'DELETE /user': 1 },
  drop: {},
};

/** A mapping reduced to what a forecast can test (type and event name) and the calls its action makes. */
interface KindRule {
  types: ReadonlySet<string>;
  name: (name: unknown) => boolean;
  calls: CallsPerEvent;
}

function kindRules(mappings: readonly Mapping[]): KindRule[] {
  return mappings
    .filter((m) => m.enabled)
    .map((m) => ({ types: new Set<string>(m.trigger.types), name: nameMatcher(m.trigger.event), calls: ACTION_CALLS[m.action] }));
}

function callsUnder(rules: readonly KindRule[], type: string | null, eventName: string | null): CallsPerEvent {
  if (type === null) return {};
  return rules.find((r) => r.types.has(type) && r.name(eventName))?.calls ?? {};
}

/** Built once: callsOfKind runs before each head a worker may yield (destinations.ts, crowded). */
const DEFAULT_RULES = kindRules(DEFAULT_MAPPINGS);

/**
 * What SPEC.md's mapping (the default mappings, each action's `sends`) calls for an event of a
 * kind. Lookups that memory often saves are counted as made (an upper bound on calls, so a
 * forecast errs long): cart changes read the cart (GET /user) every time. Cart Viewed and
 * Checkout Started are counted as cart syncs (POST /purchase) since the store does not say
 * whether they carry products; either way one 40/s POST. Screen, group and unknown types: none.
 */
export function callsOfKind(type: string | null, eventName: string | null): CallsPerEvent {
  return callsUnder(DEFAULT_RULES, type, eventName);
}

/**
 * The calls a queued kind needs under a destination's mappings (docs/mappings.md): the first
 * enabled mapping whose types and event name it meets, its conditions assumed to hold (the store
 * counts kinds by type and name only); none: no call. `null` mappings: the defaults, callsOfKind.
 */
export function callsOfKindMapped(mappings: readonly Mapping[] | null, type: string | null, eventName: string | null): CallsPerEvent {
  return mappings === null ? callsOfKind(type, eventName) : callsUnder(kindRules(mappings), type, eventName);
}

export function endpointOf(key: string): Endpoint {
  const space = key.indexOf(' ');
  return { method: key.slice(0, space) as HttpMethod, path: key.slice(space + 1) };
}

export interface EndpointLoad {
  endpoint: string;
  calls: number;
  limitPerSecond: number;
  /** calls / limit: how long this endpoint alone needs. */
  seconds: number;
}

export interface Forecast {
  events: number;
  /** Calls the queued events need, by endpoint, longest first. */
  endpoints: EndpointLoad[];
  /** The endpoint that needs longest (null when nothing is queued that makes a call). */
  bottleneck: string | null;
  /** max over endpoints of calls / limit: the least time the backlog can clear in. */
  seconds: number;
  /** min over endpoints of limit / calls-per-event: the best delivery rate of this mix (Infinity when no call is needed). */
  boundEventsPerSecond: number;
}

/** The forecast of queued kinds at the limits `limitOf` gives (per second, per endpoint), each kind's calls by `callsOf` (default: SPEC.md's mapping). */
export function forecastBacklog(
  kinds: readonly QueuedKind[],
  limitOf: (endpoint: Endpoint) => number,
  callsOf: (type: string | null, eventName: string | null) => CallsPerEvent = callsOfKind,
): Forecast {
  const calls = new Map<string, number>();
  let events = 0;
  for (const kind of kinds) {
    if (kind.count <= 0) continue;
    events += kind.count;
    for (const [key, n] of Object.entries(callsOf(kind.type, kind.eventName))) calls.set(key, (calls.get(key) ?? 0) + n * kind.count);
  }
  const endpoints = [...calls].map(([endpoint, n]): EndpointLoad => {
    const limit = limitOf(endpointOf(endpoint));
    return { endpoint, calls: n, limitPerSecond: limit, seconds: limit > 0 ? n / limit : Infinity };
  });
  endpoints.sort((a, b) => b.seconds - a.seconds || a.endpoint.localeCompare(b.endpoint));
  const seconds = endpoints[0]?.seconds ?? 0;
  return {
    events,
    endpoints,
    bottleneck: endpoints[0]?.endpoint ?? null,
    seconds,
    boundEventsPerSecond: seconds > 0 ? events / seconds : Infinity,
  };
}

/** Scales a sample's counts to the whole queue (the sample's shares times `total`). */
export function scaleKinds(sample: readonly QueuedKind[], total: number): QueuedKind[] {
  const sampled = sample.reduce((n, k) => n + k.count, 0);
  if (sampled === 0 || sampled === total) return [...sample];
  return sample.map((k) => ({ ...k, count: (k.count * total) / sampled }));
}

/** "about 3 h 10 min", "about 4 min", "under a minute", "none queued". */
export function describeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'never at current limits';
  if (seconds <= 0) return 'nothing to send';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours >= 48) return `about ${Math.round(minutes / 1440)} days`;
  return rest === 0 ? `about ${hours} h` : `about ${hours} h ${rest} min`;
}
