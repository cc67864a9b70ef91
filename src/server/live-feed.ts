import type { ActivityCursor, DeliveryLog, StoredEvent } from '../delivery/store.ts';
import { isTestEvent } from './test-events.ts';

/**
 * The live view's source: while anyone watches, the delivery log's recent activity (events
 * stored, attempts recorded) is read every second and handed to every watcher. It reads the store,
 * not this process's own events, so with several processes on PostgreSQL every console shows
 * every process's events and outcomes (docs/console.md).
 */

export interface LiveItem {
  /** `received`: stored by ingest (or refused: state `rejected`); `attempt`: a delivery attempt ended. */
  kind: 'received' | 'attempt';
  eventId: number;
  at: string;
  destinationId: string;
  type: string | null;
  name: string | null;
  /** The lane key: userId, else anonymousId. */
  user: string | null;
  anonymousId: string | null;
  state: string;
  reason: string | null;
  attempt: number | null;
  test: boolean;
}

export interface LiveBatch {
  items: LiveItem[];
  /** Activity went by faster than the view reads it: this many reads were skipped to catch up. */
  skipped: boolean;
}

type Listener = (batch: LiveBatch) => void;

export interface LiveFeedOptions {
  pollMs?: number;
  /** Events and attempts read per poll; beyond it the feed jumps to the newest (default 200). */
  limit?: number;
  /** What a new watcher sees first. */
  recent?: number;
  onError?: (error: unknown) => void;
}

export class LiveFeed {
  private readonly listeners = new Set<Listener>();
  private readonly recentItems: LiveItem[] = [];
  private cursor: ActivityCursor | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The first read for the watchers of now: two arriving together share it. */
  private starting: Promise<void> | null = null;
  private polling: Promise<void> | null = null;
  private readonly pollMs: number;
  private readonly limit: number;
  private readonly keep: number;
  private closed = false;

  constructor(
    private readonly log: Pick<DeliveryLog, 'recentActivity'>,
    private readonly options: LiveFeedOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.limit = options.limit ?? 200;
    this.keep = options.recent ?? 50;
  }

  /** Starts reading if nobody was watching; the answer holds what happened just before. */
  async subscribe(listener: Listener): Promise<{ recent: LiveItem[]; unsubscribe: () => void }> {
    this.starting ??= (async () => {
      this.cursor = null;
      this.recentItems.length = 0;
      await this.poll();
      if (this.closed) return;
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.timer.unref();
    })();
    await this.starting;
    this.listeners.add(listener);
    return {
      recent: [...this.recentItems],
      unsubscribe: () => {
        this.listeners.delete(listener);
        if (this.listeners.size === 0) this.stop();
      },
    };
  }

  get watchers(): number {
    return this.listeners.size;
  }

  /** At shutdown: no more reads, whoever still watches. */
  close(): void {
    this.closed = true;
    this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.starting = null;
  }

  private poll(): Promise<void> {
    // One read at a time: a slow store must not pile reads up.
    this.polling ??= this.read().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async read(): Promise<void> {
    try {
      const first = this.cursor === null;
      const activity = await this.log.recentActivity(this.cursor, first ? this.keep : this.limit);
      const behind = !first && (activity.events.length >= this.limit || activity.attempts.length >= this.limit);
      const before = this.cursor;
      this.cursor = activity.cursor;
      const items = [
        ...activity.events.filter((e) => before === null || e.id > before.eventId).map((e) => received(e)),
        ...activity.attempts
          .filter((a) => before === null || a.id > before.attemptId)
          .map((a) => attemptItem(a.event, a.attempt.attempt, a.attempt.state, a.attempt.error, a.attempt.startedAt.getTime() + a.attempt.durationMs)),
      ].sort((a, b) => a.at.localeCompare(b.at));
      if (behind) {
        // Jump to the newest: a view cannot show thousands of events a second anyway.
        const newest = await this.log.recentActivity(null, 1);
        this.cursor = newest.cursor;
      }
      this.recentItems.push(...items);
      this.recentItems.splice(0, Math.max(0, this.recentItems.length - this.keep));
      if (first || (items.length === 0 && !behind)) return;
      for (const listener of this.listeners) listener({ items, skipped: behind });
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}

function base(e: StoredEvent): Omit<LiveItem, 'kind' | 'at' | 'state' | 'reason' | 'attempt'> {
  const payload = typeof e.payload === 'object' && e.payload !== null ? (e.payload as Record<string, unknown>) : {};
  return {
    eventId: e.id,
    destinationId: e.destinationId,
    type: e.type,
    name: e.eventName,
    user: e.laneKey,
    anonymousId: typeof payload.anonymousId === 'string' ? payload.anonymousId : null,
    test: isTestEvent(e.payload),
  };
}

function received(e: StoredEvent): LiveItem {
  const rejected = e.status === 'rejected';
  return { ...base(e), kind: 'received', at: e.receivedAt.toISOString(), state: rejected ? 'rejected' : 'received', reason: rejected ? e.lastError : null, attempt: null };
}

function attemptItem(e: StoredEvent, attempt: number, state: string, error: string | null, endedAt: number): LiveItem {
  return { ...base(e), kind: 'attempt', at: new Date(endedAt).toISOString(), state, reason: error, attempt };
}
