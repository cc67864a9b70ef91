import type { ActivityCursor, DeadLetterReason } from './operator-store.ts';
import type { AttemptRecord, EventStatus, PruneOptions, StoredEvent } from './store.ts';

/** The delivery log's part of the store (store.ts): what the console, admin API, metrics and CLI read and do. */

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
