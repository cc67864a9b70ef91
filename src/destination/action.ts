import type { SegmentEvent } from '../segment/event.ts';
import type { BoundedCache } from './bounded-cache.ts';
import type { CartMarkers } from './cart-markers.ts';
import type { CartMemory } from './cart-memory.ts';
import type { IdentityLinks } from './identity-links.ts';
import type { ActionResult } from './outcome.ts';
import type { EventSettings } from './overrides.ts';
import type { SailthruPort } from './sailthru-port.ts';
import type { DestinationSettings } from './settings.ts';
import type { SentProfiles } from './unchanged-profiles.ts';

/**
 * One event kind's work (Segment action-destinations style): what it reads from the event, which
 * Sailthru calls it may make, and `perform`, which builds the payloads with the pure mapping
 * functions next to it and makes the calls.
 */
export interface Action {
  name: string;
  /** Event fields the mapping reads (the mapping table in docs/sailthru-setup.md follows these). */
  reads: readonly string[];
  /** Sailthru calls it may make, in order. */
  sends: readonly string[];
  perform(ctx: ActionContext): Promise<ActionResult>;
}

/** What the destination remembers between events, per process and bounded (docs/decisions.md, "What a destination remembers between events"). */
export interface DestinationMemory {
  /** extid → email, so repeat buyers cost no lookup (SPEC.md §5). */
  emails: BoundedCache<string, string>;
  /** anonymousIds already merged into a userId profile (SPEC.md §2.3). */
  mergedAnonymousIds: BoundedCache<string, true>;
  /** anonymousId → the userId it was identified with while Sailthru had no profile for it (skips a repeat lookup). */
  absentAnonymousIds: BoundedCache<string, string>;
  /** messageIds of cart changes whose POST emptied the cart (how their retries know they landed). */
  clearedCarts: BoundedCache<string, true>;
  /** messageIds of cart changes this destination posted, confirmed (their carts' markers): events already in the past of their lane (cart-markers.ts). */
  postedMarkers: BoundedCache<string, true>;
  /** Where a cart marker stands in its lane (the service's store); null: not known, never looked up. */
  cartMarkers: CartMarkers | null;
  /** extids whose profile one of our POSTs created (an identify merging them needs no lookup). */
  knownProfiles: BoundedCache<string, true>;
  /** userId → the cart last read or written; null where several processes deliver (see CartMemory). */
  carts: CartMemory | null;
  /** anonymousId → userId ties (SPEC.md §0): durable, in the store, when the service provides it. */
  links: IdentityLinks;
  /** extid → hash of the last POST /user identify made for it (issue 19): durable, in the store, when the service provides it. */
  sentProfiles: SentProfiles;
}

export interface ActionContext {
  event: SegmentEvent;
  /** userId, else anonymousId; deliver refuses events with neither before any action runs. */
  extid: string;
  settings: DestinationSettings;
  eventSettings: EventSettings;
  /** The event carried only an anonymousId and is sent under the userId it was identified as (identity-links.ts). */
  redirected?: boolean;
  /** Every call made through it is recorded in the outcome, in order. */
  sailthru: SailthruPort;
  memory: DestinationMemory;
  now(): number;
  warn(...messages: string[]): void;
}

export const delivered: ActionResult = { state: 'delivered' };

export function failed(reason: string): ActionResult {
  return { state: 'failed', reason };
}

export function skipped(reason: string): ActionResult {
  return { state: 'skipped', reason };
}

/** What a pure mapping function returns: the payload, or why the event cannot be sent. */
export type Mapped<T> = { ok: true; value: T; warnings: string[] } | { ok: false; reason: string };
