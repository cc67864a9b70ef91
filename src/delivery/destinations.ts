import { createHash } from 'node:crypto';
import { createDestination, type CartMarkers, type IdentityLinks } from '../destination/index.ts';
import type { Outcome } from '../destination/outcome.ts';
import type { Mapping } from '../destination/mappings/schema.ts';
import { validateMappings } from '../destination/mappings/validate.ts';
import { validateSettings, type DestinationSettings } from '../destination/settings.ts';
import type { SegmentEvent } from '../segment/event.ts';
import type { RequestGate } from '../sailthru/types.ts';
import { callsOfKind, endpointOf } from './backlog-forecast.ts';
import { SailthruRateGate, type LimiterFactory, type RateLimits, type RateLimitWait } from './rate-limiter.ts';
import type { SentProfiles } from '../destination/unchanged-profiles.ts';
import type { CartMarkerStore, Destination, DestinationDirectory, IdentityLinkStore, QueuedEvent, SentProfileStore } from './store.ts';
import type { DeliveryResult } from './worker.ts';
import type { MappingStats } from './mapping-stats.ts';

/** What the registry needs of a built destination (src/destination's createDestination fits). */
export interface DeliveringDestination {
  deliver(event: SegmentEvent): Promise<Outcome>;
  /** The head of a lane with what coalesces with it (src/destination/index.ts); absent: one at a time. */
  deliverGroup?(events: readonly SegmentEvent[]): Promise<Outcome[]>;
  close(): Promise<void>;
}

export interface DestinationBuildOptions {
  gate: RequestGate;
  /** This process delivers every event (one SQLite process): per-user memory stays true. */
  deliversAlone: boolean;
  /** Per Sailthru call (SAILTHRU_TIMEOUT_MS); the client's default when absent. */
  timeoutMs?: number;
  /** This destination's anonymousId → userId ties in the store (SPEC.md §0). */
  identityLinks?: IdentityLinks;
  /** What identifies last sent per user, in the store, for this settings version (issue 19). */
  sentProfiles?: SentProfiles;
  /** Where a cart's marker stands in its lane, in the store (src/destination/cart-markers.ts). */
  cartMarkers?: CartMarkers;
  /** Its mappings, validated; null: none configured (the defaults). */
  mappings: Mapping[] | null;
  /** Hears which mapping each delivery took (the per-mapping cost figures). */
  onMatched?: (mapping: Mapping | null, outcome: Outcome) => void;
}

export type DestinationFactory = (settings: DestinationSettings, options: DestinationBuildOptions) => DeliveringDestination;

export const defaultDestinationFactory: DestinationFactory = (settings, options) =>
  createDestination(settings, {
    gate: options.gate,
    rememberCarts: options.deliversAlone,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.identityLinks !== undefined ? { identityLinks: options.identityLinks } : {}),
    ...(options.sentProfiles !== undefined ? { sentProfiles: options.sentProfiles } : {}),
    ...(options.cartMarkers !== undefined ? { cartMarkers: options.cartMarkers } : {}),
    mappings: options.mappings,
    ...(options.onMatched !== undefined ? { onMatched: options.onMatched } : {}),
  });

export interface DestinationRegistryOptions {
  directory: Pick<DestinationDirectory, 'getDestination'>;
  /** Where identify and alias ties are kept, shared by every worker; in each destination's memory when absent. */
  identities?: IdentityLinkStore;
  /** Where what identifies last sent is kept, shared by every worker; in each destination's memory when absent. */
  sentProfiles?: SentProfileStore;
  /** Where the lanes' events are, to place a cart's marker (src/destination/cart-markers.ts); never looked up when absent. */
  cartMarkers?: CartMarkerStore;
  factory?: DestinationFactory;
  /** Per-second limits per endpoint, over DEFAULT_RATE_LIMITS. */
  rateLimits?: RateLimits;
  /** Shared counters (Postgres/Redis) for several processes; memory by default. */
  limiterFactory?: LimiterFactory;
  onRateLimitWait?: (wait: RateLimitWait) => void;
  /**
   * No other process delivers these destinations' events (SQLite): a user's cart can be
   * remembered between events. False (the default) where several workers share the queue.
   */
  deliversAlone?: boolean;
  /** How long one Sailthru call may take, ms (SAILTHRU_TIMEOUT_MS). */
  sailthruTimeoutMs?: number;
  /** Counts events and calls per mapping (src/delivery/mapping-stats.ts). */
  mappingStats?: Pick<MappingStats, 'record'>;
  /** How long a built destination is used before its row is checked for new settings, ms. */
  refreshMs?: number;
  now?: () => number;
}

interface CachedDestination {
  version: number;
  checkedAt: number;
  instance: DeliveringDestination | null;
  /** The rate gate the instance spends from (null when it cannot deliver). */
  gate: SailthruRateGate | null;
  /** Why it cannot deliver (invalid settings), when instance is null. */
  problem: string | null;
  /** Deliveries running on this instance: a replaced instance closes only when they are done. */
  inFlight: number;
  retired: boolean;
}

/**
 * Destination rows → built destinations: one instance per destination id (its caches and
 * connections live across events), rebuilt when the row's settings version changes, and one
 * rate gate per Sailthru account shared by every destination that uses that account.
 */
export class DestinationRegistry {
  private readonly cache = new Map<string, CachedDestination>();
  /** One row lookup per destination at a time, so concurrent lanes never build twice. */
  private readonly lookups = new Map<string, Promise<CachedDestination | null>>();
  private readonly gates = new Map<string, SailthruRateGate>();
  private readonly factory: DestinationFactory;
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(private readonly options: DestinationRegistryOptions) {
    this.factory = options.factory ?? defaultDestinationFactory;
    this.refreshMs = options.refreshMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** The worker's `deliver`. */
  readonly deliver = async (destinationId: string, event: QueuedEvent): Promise<DeliveryResult> => {
    const outcome = await this.deliverWith(await this.entryFor(destinationId), destinationId, event);
    if (outcome.state !== 'paused') return outcome;
    // Never pause a destination on the strength of stale settings: if they changed since this
    // instance was built (the operator just fixed them), try once more with the new ones.
    const cached = this.cache.get(destinationId);
    if (cached) cached.checkedAt = -Infinity;
    const fresh = await this.entryFor(destinationId);
    if (fresh === null || fresh === cached) return outcome;
    return this.deliverWith(fresh, destinationId, event);
  };

  /**
   * The worker's `crowded`: whether an event's calls would only queue behind `atLeast` requests
   * and a second's worth of its endpoint's budget (SailthruRateGate.crowded), so that its lane may yield to lanes of
   * other endpoints. The endpoints come from the event's kind as the default mapping sends it
   * (backlog-forecast.ts callsOfKind); a custom mapping that sends elsewhere only makes this
   * guess wrong, which costs scheduling, never correctness. Unknown until the destination is
   * built: false.
   */
  readonly crowded = (event: QueuedEvent, atLeast: number): boolean => {
    const gate = this.cache.get(event.destinationId)?.gate;
    if (!gate) return false;
    for (const key of Object.keys(callsOfKind(event.type, event.eventName))) {
      const { method, path } = endpointOf(key);
      if (gate.crowded(method, path, atLeast)) return true;
    }
    return false;
  };

  /**
   * The worker's `deliverGroup`: the lane's head with the queued events after it that its
   * destination coalesces into one call (issue 19); at least the head's result.
   */
  readonly deliverGroup = async (destinationId: string, heads: readonly QueuedEvent[]): Promise<DeliveryResult[]> => {
    const head = heads[0]!;
    const entry = await this.entryFor(destinationId);
    const instance = entry?.instance;
    if (entry === null || entry === undefined || instance?.deliverGroup === undefined || heads.length < 2) return [await this.deliver(destinationId, head)];
    let outcomes: Outcome[];
    entry.inFlight++;
    try {
      outcomes = await instance.deliverGroup(heads.map((h) => h.payload));
    } finally {
      entry.inFlight--;
      if (entry.retired) this.closeIfIdle(entry);
    }
    // A pause is decided on fresh settings (deliver's second try): the head alone goes through that.
    if (outcomes.length === 0 || outcomes.some((o) => o.state === 'paused')) return [await this.deliver(destinationId, head)];
    return outcomes.map((o) => ({ ...o, settingsVersion: entry.version }));
  };

  private async deliverWith(entry: CachedDestination | null, destinationId: string, event: QueuedEvent): Promise<DeliveryResult> {
    if (entry === null) {
      return { state: 'failed', reason: `destination ${destinationId} no longer exists`, calls: [], warnings: [] };
    }
    const settingsVersion = entry.version;
    if (entry.instance === null) {
      const reason = entry.problem ?? 'destination settings are invalid';
      return { state: 'paused', reason, calls: [], warnings: [], settingsVersion };
    }
    entry.inFlight++;
    try {
      const outcome: Outcome = await entry.instance.deliver(event.payload);
      return { ...outcome, settingsVersion };
    } finally {
      entry.inFlight--;
      if (entry.retired) this.closeIfIdle(entry);
    }
  }

  /** The gate of a Sailthru account (for tests and for showing waits). */
  gateFor(settings: Pick<DestinationSettings, 'apiKey' | 'apiUrl'>): SailthruRateGate {
    const account = accountIdOf(settings);
    let gate = this.gates.get(account);
    if (!gate) {
      gate = new SailthruRateGate({
        account,
        ...(this.options.rateLimits ? { limits: this.options.rateLimits } : {}),
        ...(this.options.limiterFactory ? { factory: this.options.limiterFactory } : {}),
        ...(this.options.onRateLimitWait ? { onWait: this.options.onRateLimitWait } : {}),
      });
      this.gates.set(account, gate);
    }
    return gate;
  }

  /** Close every built destination (after the workers have stopped). */
  async close(): Promise<void> {
    const entries = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(entries.map((e) => e.instance?.close().catch(() => {})));
  }

  private entryFor(destinationId: string): Promise<CachedDestination | null> {
    const cached = this.cache.get(destinationId);
    if (cached && this.now() - cached.checkedAt < this.refreshMs) return Promise.resolve(cached);
    let lookup = this.lookups.get(destinationId);
    if (!lookup) {
      lookup = this.refresh(destinationId).finally(() => this.lookups.delete(destinationId));
      this.lookups.set(destinationId, lookup);
    }
    return lookup;
  }

  private async refresh(destinationId: string): Promise<CachedDestination | null> {
    const row = await this.options.directory.getDestination(destinationId);
    const now = this.now();
    const cached = this.cache.get(destinationId);
    if (cached && row !== null && cached.version === row.version) {
      cached.checkedAt = now;
      return cached;
    }
    if (cached) {
      this.cache.delete(destinationId);
      this.retire(cached);
    }
    if (row === null) return null;
    const entry = this.build(row, now);
    this.cache.set(destinationId, entry);
    return entry;
  }

  private build(row: Destination, now: number): CachedDestination {
    const base = { version: row.version, checkedAt: now, inFlight: 0, retired: false, gate: null };
    const validation = validateSettings(row.settings);
    if (!validation.ok) {
      return { ...base, instance: null, problem: `invalid settings: ${validation.errors.join('; ')}` };
    }
    const settings = validation.settings;
    let mappings: Mapping[] | null = null;
    if (row.mappings !== null) {
      const checked = validateMappings(row.mappings);
      if (!checked.ok) return { ...base, instance: null, problem: `invalid mappings: ${checked.errors.join('; ')}` };
      mappings = checked.mappings;
    }
    const instance = this.factory(settings, this.buildOptionsFor(row.id, row.version, settings, mappings));
    return { ...base, instance, gate: this.gateFor(settings), problem: null };
  }

  private buildOptionsFor(destinationId: string, version: number, settings: DestinationSettings, mappings: Mapping[] | null): DestinationBuildOptions {
    const timeout = this.options.sailthruTimeoutMs;
    const identities = this.options.identities;
    const sent = this.options.sentProfiles;
    const stats = this.options.mappingStats;
    const markers = this.options.cartMarkers;
    return {
      mappings,
      ...(stats !== undefined ? { onMatched: (mapping: Mapping | null, outcome: Outcome) => stats.record(destinationId, mapping?.id ?? null, outcome) } : {}),
      gate: this.gateFor(settings),
      deliversAlone: this.options.deliversAlone === true,
      ...(timeout !== undefined ? { timeoutMs: timeout } : {}),
      ...(identities !== undefined ? { identityLinks: identityLinksOf(identities, destinationId) } : {}),
      ...(sent !== undefined ? { sentProfiles: sentProfilesOf(sent, destinationId, version) } : {}),
      ...(markers !== undefined ? { cartMarkers: { queuedAfter: (found, messageId) => markers.pendingAfterInLane(destinationId, [...found], messageId) } } : {}),
    };
  }

  /** Settings changed: the old instance finishes what it has in hand, then closes. */
  private retire(entry: CachedDestination): void {
    entry.retired = true;
    this.closeIfIdle(entry);
  }

  private closeIfIdle(entry: CachedDestination): void {
    if (entry.inFlight > 0 || !entry.instance) return;
    const instance = entry.instance;
    entry.instance = null;
    entry.problem = 'settings changed';
    void instance.close().catch(() => {});
  }
}

/** One destination's view of the store's identity ties. */
function identityLinksOf(store: IdentityLinkStore, destinationId: string): IdentityLinks {
  return {
    userIdFor: (anonymousId) => store.linkedUserId(destinationId, anonymousId),
    link: (anonymousId, userId) => store.linkIdentity(destinationId, anonymousId, userId),
    forgetUser: async (userId) => {
      await store.forgetIdentities(destinationId, userId);
    },
  };
}

/**
 * One destination's view of what identifies last sent, for one settings version: what was sent
 * under other settings (another list, another optout) counts as not sent.
 */
function sentProfilesOf(store: SentProfileStore, destinationId: string, settingsVersion: number): SentProfiles {
  return {
    lastSent: async (extid) => {
      const record = await store.lastSentProfile(destinationId, extid);
      return record === null || record.settingsVersion !== settingsVersion ? null : record;
    },
    record: (extid, hash, sentAt) => store.recordSentProfile(destinationId, extid, { hash, settingsVersion, sentAt }),
    forget: async (extids) => {
      await store.forgetSentProfiles(destinationId, extids);
    },
    forgetUser: async (extid) => {
      await store.forgetSentProfilesOfUser(destinationId, extid);
    },
  };
}

/** An opaque, stable id for a Sailthru account: never the API key itself (it ends up in Redis/Postgres keys). */
export function accountIdOf(settings: Pick<DestinationSettings, 'apiKey' | 'apiUrl'>): string {
  return createHash('sha256').update(`${settings.apiUrl}\n${settings.apiKey}`).digest('hex').slice(0, 16);
}
