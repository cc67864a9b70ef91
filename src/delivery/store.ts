import type { CallRecord } from '../sailthru/types.ts';
import type { OutcomeState } from '../destination/outcome.ts';
import type { SegmentEvent } from '../segment/event.ts';
import type { IngestSink } from './ingest.ts';
import type { ActivityCursor, AuditLog, ConsoleSessionStore, DeadLetterReason, MappingStatsStore, SeriesStore, SignInFailureStore } from './operator-store.ts';
import type { SentProfileStore } from './sent-profile-store.ts';
import type { DestinationDirectory, WriteKeyStore } from './directory-types.ts';
import type { CrossLaneQueue, LaneRef } from './cross-lane-queue.ts';
export type * from './operator-store.ts';
export type * from './sent-profile-store.ts';
export type * from './directory-types.ts';
export type * from './cross-lane-queue.ts';

/**
 * The lane queue's storage, as one interface that SQLite (embedded, one process) and PostgreSQL
 * (many processes) both implement with the same semantics; test/delivery/store-contract.ts holds
 * the one suite both must pass. Every method is async so a networked store fits the same shape;
 * ids and times cross it as plain numbers and Dates, never as driver types.
 */

/**
 * SPEC.md §9: `pending`/`retrying` are in progress; the rest are final. `dropped`: a dead letter
 * an operator dropped, kept in the log (who and when) until retention prunes it.
 */
export type EventStatus = 'pending' | 'retrying' | 'delivered' | 'skipped' | 'failed' | 'rejected' | 'dropped';

export const UNSETTLED_STATUSES: readonly EventStatus[] = ['pending', 'retrying'];
export const EVENT_STATUSES: readonly EventStatus[] = ['pending', 'retrying', 'delivered', 'skipped', 'failed', 'rejected', 'dropped'];

/** The store's notion of now; injected so tests can move time (leases, retry windows). */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** What the last attempt (or ingest, for rejected events) concluded, as the delivery log shows it. */
export interface OutcomeDetail {
  state: OutcomeState | 'rejected';
  reason?: string;
  calls: CallRecord[];
  warnings: string[];
}

export interface StoredEvent {
  /** Increasing in arrival order; a lane delivers in this order. */
  id: number;
  destinationId: string;
  /** userId ?? anonymousId; null only for rejected events that had neither. */
  laneKey: string | null;
  messageId: string | null;
  type: string | null;
  /** track: `event`; page/screen: `name`. */
  eventName: string | null;
  /** The normalised SegmentEvent (or, when rejected, the event as received). */
  payload: unknown;
  status: EventStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  firstAttemptAt: Date | null;
  lastError: string | null;
  receivedAt: Date;
  updatedAt: Date;
  settledAt: Date | null;
  outcome: OutcomeDetail | null;
  /** Who dropped it (the admin token's name), when status is `dropped`. */
  droppedBy: string | null;
  droppedAt: Date | null;
}

/** An event at the head of its lane: always an accepted (hence valid) SegmentEvent. */
export interface QueuedEvent extends StoredEvent {
  laneKey: string;
  messageId: string;
  payload: SegmentEvent;
}

/** One delivery attempt, one row, so the console can show each. */
export interface AttemptRecord {
  eventId: number;
  /** 1-based attempt number of this event. */
  attempt: number;
  startedAt: Date;
  durationMs: number;
  /** What the worker concluded: the outcome state, or `failed` when the retry window ran out. */
  state: OutcomeState;
  error: string | null;
  calls: CallRecord[];
  warnings: string[];
  workerId: string;
}

export interface LaneLease extends LaneRef {
  pending: number;
  leaseUntil: Date;
  /**
   * The lane's head events, oldest first, read by the claim itself (up to the window asked
   * for): the worker starts on them without another round trip.
   */
  events: QueuedEvent[];
}

/**
 * How the worker settles the head of a lane. `retrying` keeps it at the head until nextAttemptAt;
 * `paused` keeps it queued and pauses its destination; the others are final.
 */
export type Settlement =
  | { state: 'delivered' }
  | { state: 'skipped'; reason: string }
  | { state: 'retrying'; reason: string; nextAttemptAt: Date }
  | { state: 'failed'; reason: string }
  /**
   * settingsVersion: the destination settings version the attempt used. The pause applies only
   * while the settings are still that version, so an operator's fix made meanwhile wins.
   */
  | { state: 'paused'; reason: string; settingsVersion?: number };

export interface SettleInput {
  event: Pick<StoredEvent, 'id' | 'destinationId' | 'laneKey'> & { laneKey: string };
  workerId: string;
  settlement: Settlement;
  attempt: {
    startedAt: Date;
    durationMs: number;
    calls: CallRecord[];
    warnings: string[];
  };
}

export interface SettleResult {
  /** False when the event was already settled (a worker whose lease had run out settling late). */
  applied: boolean;
}

/** One event of a lane's settled run: what settle() takes, without the lane and worker. */
export type SettledHead = Omit<SettleInput, 'workerId'>;

/**
 * Several heads of one lane settled in one transaction, in the order they were delivered (the
 * lane's id order): all but the last must be final (delivered, skipped, failed), since a retrying
 * or paused head holds the lane. Afterwards, unless that last head hands the lane back:
 * - `keep`: the lease stays (what settle() does);
 * - `continue`: read the lane's next head events, up to `window`, in the same round trip, and
 *   give the lane back if it has none;
 * - `release`: give the lane back (due again at once if it still has events).
 * The lane's count of unsettled events goes down by the finals applied; nothing recounts it.
 */
export interface LaneSettlement {
  lane: LaneRef;
  workerId: string;
  heads: SettledHead[];
  then: 'keep' | 'continue' | 'release';
  /** For `continue`: how many next head events to read. */
  window?: number;
}

export interface LaneSettleResult {
  /** Per head, in order: false when it had already been settled (a late settle). */
  applied: boolean[];
  /** For `continue`: the lane's next head events, oldest first; empty when it was given back. */
  next: QueuedEvent[];
  /** The lane is no longer held by this worker: handed back by a retry or pause, or released. */
  released: boolean;
}

export interface DestinationBacklog {
  destinationId: string;
  /** pending + retrying */
  unsettled: number;
  retrying: number;
  failed: number;
  /** Age of the oldest unsettled event, ms; null when none. */
  oldestUnsettledAgeMs: number | null;
}

/** Unsettled events of a destination by (type, event name); a sample's counts when `sampled`. */
export interface QueuedKinds {
  /** Unsettled events in all (pending and retrying). */
  total: number;
  kinds: Array<{ type: string | null; eventName: string | null; count: number }>;
  /** The kinds count only a sample of the queue (its oldest and newest events), not all of it. */
  sampled: boolean;
}

export interface EventFilter {
  destinationId?: string;
  /** userId or anonymousId: the lane key, or the anonymousId of an event whose lane is its userId. */
  laneKey?: string;
  messageId?: string;
  /** A case-insensitive prefix of the track event or page/screen name (SQLite folds ASCII letters only). */
  eventName?: string;
  type?: string;
  status?: EventStatus | EventStatus[];
  receivedFrom?: Date;
  /** exclusive */
  receivedTo?: Date;
}

export interface EventQuery extends EventFilter {
  /** Keyset paging, newest first: pass the previous page's nextBeforeId. */
  beforeId?: number;
  /** default 50, at most 500 */
  limit?: number;
}

export interface EventPage {
  events: StoredEvent[];
  /** Pass as beforeId for the next (older) page; null when this was the last. */
  nextBeforeId: number | null;
}

export interface EventDetail {
  event: StoredEvent;
  attempts: AttemptRecord[];
}

/** Which dead letters (status `failed`) an operator retries or drops. */
export type DeadLetterSelector = { ids: number[] } | { filter: Omit<EventFilter, 'status'> };


export interface PruneOptions {
  /** Final events received before this are deleted (with their attempts). */
  olderThan: Date;
  /** default delivered, skipped, rejected, dropped; dead letters (`failed`) stay until retried or dropped. */
  statuses?: EventStatus[];
  /** Rows per transaction, so no lock is held for long; default 1000. */
  batchSize?: number;
}

/** The part the delivery worker uses. */
export interface LaneQueue extends CrossLaneQueue {
  /**
   * Lease up to `limit` due lanes of unpaused destinations for `leaseMs`, each with up to
   * `window` (default 1) of its head events. A lane is due when it has unsettled events, its
   * head's retry time has come and no live lease holds it; a lease that runs out (dead worker)
   * makes the lane due again.
   */
  claimLanes(workerId: string, limit: number, leaseMs: number, window?: number): Promise<LaneLease[]>;
  /** The oldest unsettled event of the lane, or null when the lane is empty. */
  head(lane: LaneRef): Promise<QueuedEvent | null>;
  /** Settle one head, keeping the lease (settleLane with `then: 'keep'`). */
  settle(input: SettleInput): Promise<SettleResult>;
  /** Settle a run of a lane's heads in one transaction, then keep, continue or release (LaneSettlement). */
  settleLane(input: LaneSettlement): Promise<LaneSettleResult>;
  /** Extend the leases this worker still holds; returns those it still holds. */
  renewLeases(workerId: string, lanes: LaneRef[], leaseMs: number): Promise<LaneRef[]>;
  /**
   * Give the lane back (due again at once if it still has events). For the unusual cases (a
   * worker stopping, a claimed lane found empty); it also heals a count of unsettled events that
   * says a lane has some when it has none. The usual release is settleLane's.
   */
  releaseLane(workerId: string, lane: LaneRef): Promise<void>;
  /**
   * Make every lane of the destination that waits out a retry due now (Sailthru answered again
   * after an outage: no reason to keep the others waiting for their backoff). Leased lanes are
   * left alone. Returns how many lanes.
   */
  wakeRetryingLanes(destinationId: string): Promise<number>;
  /**
   * Called (in this process) whenever events may have become due: appends, dead-letter retries,
   * resumes. Postgres adds LISTEN/NOTIFY for other processes. Returns an unsubscribe function.
   */
  onWorkAvailable(listener: () => void): () => void;
}

/** What happened in the log after a cursor: events stored and attempts recorded, oldest first. */
export interface LogActivity {
  events: StoredEvent[];
  attempts: Array<{ id: number; attempt: AttemptRecord; event: StoredEvent }>;
  cursor: ActivityCursor;
}

/** The part the console, admin API, metrics and CLI use. */
export interface DeliveryLog {
  backlogByDestination(): Promise<DestinationBacklog[]>;
  /** A destination's unsettled events by kind, reading at most `sample` event rows (the forecast's input). */
  queuedKinds(destinationId: string, sample: number): Promise<QueuedKinds>;
  search(query: EventQuery): Promise<EventPage>;
  getEvent(id: number): Promise<EventDetail | null>;
  /** Put dead letters back at the head of their lanes with a fresh retry window; returns how many. */
  retryDeadLetters(selector: DeadLetterSelector): Promise<number>;
  /**
   * Mark dead letters `dropped` by `droppedBy` (an admin's name): they leave the dead letters but
   * stay in the log, with their attempts, until retention prunes them. Returns how many.
   */
  dropDeadLetters(selector: DeadLetterSelector, droppedBy: string): Promise<number>;
  /** Delete old final events in batches; returns how many. */
  prune(options: PruneOptions): Promise<number>;
  /** Dead letters matching the filter, counted by exact reason, most frequent first (at most 10 000 reasons). */
  deadLetterReasons(filter: Omit<EventFilter, 'status'>): Promise<DeadLetterReason[]>;
  /**
   * Events stored and attempts recorded after `after`, oldest first, at most `limit` of each; with
   * no cursor, the newest `limit` of each. The live view polls this.
   */
  recentActivity(after: ActivityCursor | null, limit: number): Promise<LogActivity>;
}


/**
 * Which userId an anonymousId was identified as, per destination (SPEC.md §0): written when an
 * identify or alias ties them, read for every later event that carries only the anonymousId.
 */
export interface IdentityLinkStore {
  /** Ties the anonymousId to the userId; a later tie of the same anonymousId replaces it. */
  linkIdentity(destinationId: string, anonymousId: string, userId: string): Promise<void>;
  linkedUserId(destinationId: string, anonymousId: string): Promise<string | null>;
  /** Forgets every anonymousId tied to the userId (the user was deleted); returns how many. */
  forgetIdentities(destinationId: string, userId: string): Promise<number>;
}

/** Where a cart's marker stands in its lane (src/destination/cart-markers.ts). */
export interface CartMarkerStore {
  /**
   * Of `markers` (messageIds), one that names an event of the destination still pending in the
   * lane of the event `afterMessageId`, queued after it; null when none does.
   */
  pendingAfterInLane(destinationId: string, markers: string[], afterMessageId: string): Promise<string | null>;
}

export interface EventStore
  extends IngestSink, LaneQueue, DeliveryLog, DestinationDirectory, WriteKeyStore, ConsoleSessionStore, SignInFailureStore, IdentityLinkStore, SentProfileStore, CartMarkerStore, AuditLog, SeriesStore, MappingStatsStore {
  /**
   * Resolves when an append would be taken now: the write lock can be had, the disk has room, the
   * database is not read-only; rejects naming what stands in the way (what /readyz asks).
   */
  checkWritable(): Promise<void>;
  /** Create or upgrade the schema; safe to call on every start. */
  migrate(): Promise<void>;
  /** Finish pending writes and close. */
  close(): Promise<void>;
}
