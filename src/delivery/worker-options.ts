import type { Outcome } from '../destination/outcome.ts';
import type { DeliverGroup } from './coalesce.ts';
import type { LaneWait } from './cross-lane-order.ts';
import type { DeliveryResult } from './lane-run.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { Clock, LaneQueue, QueuedEvent, Settlement } from './store.ts';

/** What a DeliveryWorker (worker.ts) is given, and what it tells. */

/** Delivers one event to its destination; the destination module decides the outcome. */
export type Deliver = (destinationId: string, event: QueuedEvent) => Promise<DeliveryResult>;

export interface DeliveryWorkerOptions {
  store: LaneQueue;
  deliver: Deliver;
  /**
   * Delivers a lane's head with the queued events after it that go in the same call (coalesce.ts);
   * absent: one event at a time with `deliver`.
   */
  deliverGroup?: DeliverGroup;
  /** Lanes delivering at once, not counting those waiting in the rate gate (waitingLanes). */
  concurrency?: number;
  /**
   * Lanes that may wait in the rate gate for their endpoint's budget on top of `concurrency`,
   * so that a lane waiting for one saturated endpoint does not hold a slot that a lane needing
   * another could use. Lanes held at once: at most concurrency + waitingLanes. Default:
   * `concurrency`.
   */
  waitingLanes?: number;
  /**
   * Whether an event's endpoint is crowded (at least `atLeast` requests and a second of its
   * budget already waiting in the rate gate): its lane then yields, released to the back of the
   * due lanes, so that the worker can reach lanes that need other endpoints (decisions.md). The
   * registry's `crowded`; without it no lane yields.
   */
  crowded?: (event: QueuedEvent, atLeast: number) => boolean;
  /** How long a claimed lane stays ours without renewal; a dead worker's lanes return after it. */
  leaseMs?: number;
  /** Backstop for wake-ups that cannot reach us (other processes, retry times coming due). */
  pollMs?: number;
  retryPolicy?: RetryPolicy;
  clock?: Clock;
  workerId?: string;
  /** Least time between two wakes of one destination's waiting lanes after an outage. Default 10 s. */
  outageWakeIntervalMs?: number;
  /** Head events read per lane with each claim or settle (one round trip for all). Default 16. */
  window?: number;
  /**
   * Longest a delivered event waits for the next ones of its lane to be settled with it, ms: a
   * run ends at the end of the window, at a retry or pause, or once this long has passed since
   * it began. Default 0: each event is settled before its lane's next is delivered, so a crash
   * sends again only what was in flight. More settles a lane's consecutive events together (one
   * transaction), at the price of sending up to a run again after a crash.
   */
  settleDelayMs?: number;
}

/** What happened to one attempt, for metrics and logs. */
export interface SettledEvent {
  destinationId: string;
  event: QueuedEvent;
  outcome: Outcome;
  /** What the queue recorded: `failed` also when retries ran out. */
  settlement: Settlement;
  /** False when the event had already been settled elsewhere (our lease had run out). */
  applied: boolean;
  durationMs: number;
  /** From receipt to this final settlement; null while the event is still queued. */
  latencyMs: number | null;
}

export interface DeliveryWorkerEvents {
  settled: [SettledEvent];
  /** The store failed under us; the worker carries on and the lease brings the lane back. */
  problem: [unknown];
  /** Sailthru answered again after an outage: lanes that were waiting out a retry were made due. */
  recovered: [{ destinationId: string; lanes: number }];
  /** A lane's head was held back for earlier events of its other id's lane (cross-lane-order.ts). */
  waiting: [LaneWait];
}
