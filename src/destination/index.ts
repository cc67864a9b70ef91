import type { SegmentEvent } from '../segment/event.ts';
import { ingestWarningsOf } from '../segment/event-rules.ts';
import { SailthruClient } from '../sailthru/client.ts';
import type { CallRecord, RequestGate } from '../sailthru/types.ts';
import type { ActionContext, DestinationMemory } from './action.ts';
import { BoundedCache } from './bounded-cache.ts';
import type { CartMarkers } from './cart-markers.ts';
import { CartMemory } from './cart-memory.ts';
import { deliverCoalesced } from './coalesce.ts';
import { extidOf } from './identity.ts';
import { MemoryIdentityLinks, withLinkedUser, type IdentityLinks } from './identity-links.ts';
import { outcomeOf, type ActionResult, type Outcome } from './outcome.ts';
import { resolveEventSettings, skipReasonOf } from './overrides.ts';
import { dropReasonOf } from './mappings/actions.ts';
import { DEFAULT_MAPPINGS } from './mappings/defaults.ts';
import { compileMappings, firstMatch } from './mappings/match.ts';
import { EVENT_TYPES, type Mapping } from './mappings/schema.ts';
import { recordingPort, type SailthruPort } from './sailthru-port.ts';
import { SECRET_SETTING_KEYS, type DestinationSettings } from './settings.ts';
import { MemorySentProfiles, type SentProfiles } from './unchanged-profiles.ts';

export interface DestinationOptions {
  /** A client to use instead of one built from the settings (the caller then owns closing it). */
  client?: SailthruClient;
  /** The rate limiter the built client asks before each request. */
  gate?: RequestGate;
  /** Per Sailthru call, for the built client (default 10 s). */
  timeoutMs?: number;
  /** extid → email cache: entries (default 10 000) and time to live (default 15 minutes). */
  emailCacheSize?: number;
  emailCacheTtlMs?: number;
  /** Merged anonymousIds remembered (default 10 000). */
  mergedIdsSize?: number;
  /**
   * Remember each user's cart between cart events instead of fetching it every time. Only safe
   * when this process delivers every event of those users (one SQLite process); off by default.
   */
  rememberCarts?: boolean;
  /** Where anonymousId → userId ties are kept (the service's store); in memory when absent. */
  identityLinks?: IdentityLinks;
  /** What identifies last sent per user (the service's store); in memory when absent. */
  sentProfiles?: SentProfiles;
  /** Where a cart's marker stands in its lane (the service's store); absent: never looked up (cart-markers.ts). */
  cartMarkers?: CartMarkers;
  now?: () => number;
  /** Where the calls go instead of the client (planCalls: a dry run that sends nothing). */
  sailthru?: SailthruPort;
  /**
   * Which events reach Sailthru and as what (docs/mappings.md), already validated
   * (validateMappings); absent or null: DEFAULT_MAPPINGS, SPEC.md's mapping.
   */
  mappings?: readonly Mapping[] | null;
  /** Hears which mapping each delivery took (null: none matched) with its outcome: the per-mapping cost figures. */
  onMatched?: (mapping: Mapping | null, outcome: Outcome) => void;
}

export interface Destination {
  /** Maps and delivers one event. Never rejects: every problem is an Outcome. */
  deliver(event: SegmentEvent): Promise<Outcome>;
  /**
   * Delivers the head of a lane's queue (oldest first): the first event alone, or with the events
   * after it that coalesce with it into one call (coalesce.ts). One Outcome per event delivered,
   * in order, at least one; the rest of `events` is left for later. Never rejects.
   */
  deliverGroup(events: readonly SegmentEvent[]): Promise<Outcome[]>;
  /** The Sailthru client (for `rateLimits()`). */
  readonly client: SailthruClient;
  close(): Promise<void>;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_EMAIL_TTL_MS = 15 * 60_000;
/** Merged ids stay merged; the bound is only about memory. */
const MERGED_TTL_MS = 7 * 24 * 3_600_000;
/** How long "Sailthru had no profile for this anonymousId" is believed. */
const ABSENT_ANONYMOUS_TTL_MS = 3_600_000;
/** Longer than the delivery layer's retry window (4 hours by default). */
const CLEARED_CART_TTL_MS = 24 * 3_600_000;
/** A profile we created stays there unless deleted or merged (both forget it here). */
const KNOWN_PROFILE_TTL_MS = 24 * 3_600_000;
/**
 * How long a remembered cart is trusted: a shopping session's cart events come minutes apart, and
 * a cart written by something other than this service is overlooked at most this long.
 */
const CART_MEMORY_TTL_MS = 15 * 60_000;

/** What a destination remembers between events, empty. */
export function destinationMemory(opts: DestinationOptions, now: () => number): DestinationMemory {
  return {
    emails: new BoundedCache(opts.emailCacheSize ?? DEFAULT_CACHE_SIZE, opts.emailCacheTtlMs ?? DEFAULT_EMAIL_TTL_MS, now),
    mergedAnonymousIds: new BoundedCache(opts.mergedIdsSize ?? DEFAULT_CACHE_SIZE, MERGED_TTL_MS, now),
    absentAnonymousIds: new BoundedCache(opts.mergedIdsSize ?? DEFAULT_CACHE_SIZE, ABSENT_ANONYMOUS_TTL_MS, now),
    clearedCarts: new BoundedCache(DEFAULT_CACHE_SIZE, CLEARED_CART_TTL_MS, now),
    postedMarkers: new BoundedCache(DEFAULT_CACHE_SIZE, CLEARED_CART_TTL_MS, now),
    cartMarkers: opts.cartMarkers ?? null,
    knownProfiles: new BoundedCache(opts.mergedIdsSize ?? DEFAULT_CACHE_SIZE, KNOWN_PROFILE_TTL_MS, now),
    carts: opts.rememberCarts === true ? new CartMemory(DEFAULT_CACHE_SIZE, CART_MEMORY_TTL_MS, now) : null,
    links: opts.identityLinks ?? new MemoryIdentityLinks(),
    sentProfiles: opts.sentProfiles ?? new MemorySentProfiles(),
  };
}

export function createDestination(settings: DestinationSettings, opts: DestinationOptions = {}): Destination {
  const now = opts.now ?? Date.now;
  const ownsClient = opts.client === undefined;
  const client =
    opts.client ??
    new SailthruClient(
      {
        apiKey: settings.apiKey,
        sharedSecret: settings.sharedSecret,
        apiUrl: settings.apiUrl,
        trackUrl: settings.trackUrl,
        ...(settings.customerId !== undefined ? { customerId: settings.customerId } : {}),
      },
      {
        ...(opts.gate !== undefined ? { gate: opts.gate } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      },
    );
  const memory = destinationMemory(opts, now);
  const redact = redactorFor(settings);
  const mappings = compileMappings(opts.mappings ?? DEFAULT_MAPPINGS);

  async function deliver(event: SegmentEvent): Promise<Outcome> {
    const calls: CallRecord[] = [];
    // What ingest corrected in the event (an invalid timestamp…) shows with every attempt.
    const warnings: string[] = ingestWarningsOf(event);
    let result: ActionResult;
    const matched: { mapping: Mapping | null } = { mapping: null };
    try {
      result = await run(event, opts.sailthru ?? client, calls, warnings, matched);
    } catch (err) {
      // A bug in the mapping fails the same way on every attempt: dead-letter it, say where.
      const detail = err instanceof Error ? `${err.name}: ${err.message}` : 'a non-error value was thrown';
      result = { state: 'failed', reason: `Internal error while mapping the event (${detail}); please report it` };
    }
    const outcome = outcomeOf(result, calls, warnings, redact);
    opts.onMatched?.(matched.mapping, outcome);
    return outcome;
  }

  async function run(
    received: SegmentEvent,
    sailthru: SailthruPort,
    calls: CallRecord[],
    warnings: string[],
    matched: { mapping: Mapping | null },
  ): Promise<ActionResult> {
    let event = received;
    let redirected = false;
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      return { state: 'failed', reason: 'not a Segment event: expected a JSON object' };
    }
    const skip = skipReasonOf(event);
    if (skip !== null) return { state: 'skipped', reason: skip };
    if (!KNOWN_TYPES.has(event.type)) {
      // Not String(type): an object like {toString: 1} (a library caller's) would throw converting.
      const type: unknown = event.type;
      const shown = typeof type === 'string' || typeof type === 'number' || typeof type === 'boolean' || typeof type === 'symbol' ? String(type) : type === null ? 'null' : Array.isArray(type) ? 'a list' : typeof type === 'object' ? 'an object' : typeof type;
      return { state: 'failed', reason: `unknown event type ${JSON.stringify(shown).slice(0, 40)}` };
    }
    const match = firstMatch(mappings, event);
    if (match === null) return { state: 'skipped', reason: 'no mapping matches' };
    const { mapping, action } = match.compiled;
    matched.mapping = mapping;
    if (action.id === 'drop') return { state: 'skipped', reason: dropReasonOf(match.compiled.map(event).texts, mapping.name) };
    // A deletion names exactly whom to delete: never redirect it to another user.
    if (action.followsIdentityLinks) {
      const linked = await withLinkedUser(event, memory.links);
      if ('retry' in linked) return { state: 'retry', reason: linked.retry };
      redirected = linked.event !== event;
      event = linked.event;
      if (linked.warning !== undefined) warnings.push(linked.warning);
    }
    const mapped = match.compiled.map(event);
    event = mapped.event;
    const extid = extidOf(event);
    if (extid === null) return { state: 'failed', reason: 'event has neither userId nor anonymousId' };

    const { eventSettings, warnings: overrideWarnings } = resolveEventSettings(event, settings);
    warnings.push(...overrideWarnings);
    const ctx: ActionContext = {
      event,
      extid,
      settings,
      eventSettings,
      redirected,
      sailthru: recordingPort(sailthru, calls),
      memory,
      now,
      warn: (...messages) => warnings.push(...messages),
    };
    return action.perform(ctx, mapped.texts, mapping.name);
  }

  async function deliverGroup(events: readonly SegmentEvent[]): Promise<Outcome[]> {
    if (events.length > 1 && settings.coalesceBacklog !== 'off') {
      let group: Outcome[] | null = null;
      try {
        group = await deliverCoalesced(
          { settings, mappings, memory, sailthru: opts.sailthru ?? client, now, redact, ...(opts.onMatched ? { onMatched: opts.onMatched } : {}) },
          events,
        );
      } catch {
        // A bug in grouping must not cost the events: the head goes alone, as without coalescing.
        group = null;
      }
      if (group !== null) return group;
    }
    return [await deliver(events[0]!)];
  }

  return {
    deliver,
    deliverGroup,
    client,
    async close() {
      if (ownsClient) await client.close();
    },
  };
}

/** Belt and braces: whatever an error message quotes, no secret setting reaches the delivery log. */
function redactorFor(settings: DestinationSettings): (text: string) => string {
  const secrets = SECRET_SETTING_KEYS.map((key) => settings[key]).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return (text) => secrets.reduce((redacted, secret) => redacted.split(secret).join('[redacted]'), text);
}

export { validateSettings } from './settings.ts';
export type { DestinationSettings, SettingsValidation } from './settings.ts';
export type { Outcome } from './outcome.ts';
export type { IdentityLinks } from './identity-links.ts';
export type { CartMarkers } from './cart-markers.ts';
export { resolveEventSettings, skipReasonOf } from './overrides.ts';
export { flatten } from './flatten.ts';
export type { Mapping } from './mappings/schema.ts';
