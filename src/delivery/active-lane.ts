import type { GateWaitListener } from './gate-wait.ts';
import type { LaneSlots } from './lane-slots.ts';
import type { LaneRef, QueuedEvent } from './store.ts';

/** A lane a DeliveryWorker (worker.ts) holds, as its loop and the claim loop see it. */
export interface ActiveLane {
  lane: LaneRef;
  lost: boolean;
  /**
   * Until when we can vouch for our lease (the claim's, then each successful renewal's). Past
   * it, another worker may have the lane: finish the event in hand and stop.
   */
  validUntil: number;
  /** This worker claimed the lane again while its loop was still running (see startLane). */
  claimedAgain: boolean;
  /** The head events that claim read, for the loop to go on with. */
  reclaimed: QueuedEvent[];
  done: Promise<void>;
  /** Requests of this lane now waiting in the rate gate (see gateWaitListenerOf). */
  gateWaits: number;
  /** The lane stopped before a head whose endpoint is crowded: it is given back (shouldYield). */
  yielded: boolean;
  /** The loop has ended (it may be giving the lane back): a claim now cannot join it. */
  ending: boolean;
}

/** A lane's key in the worker's maps. */
export function laneId(lane: LaneRef): string {
  return JSON.stringify([lane.destinationId, lane.laneKey]);
}

/**
 * Keeps the slots' waiting lanes: a lane is one while any request of its delivery waits in the rate
 * gate. Starting to wait frees its slot, so another lane is claimed (`wake`); when let through, it
 * delivers at once (its point is taken) even if that puts more than `concurrency` lanes
 * delivering for a moment: the rate limit, not the slot, bounds what reaches Sailthru.
 * `isHeld`: the entry is still the worker's for its lane.
 */
export function gateWaitListenerOf(entry: ActiveLane, slots: LaneSlots<ActiveLane>, isHeld: () => boolean, wake: () => void): GateWaitListener {
  return {
    waiting: () => {
      entry.gateWaits++;
      // A request left behind by a delivery that has already returned counts for nothing.
      if (!isHeld() || !slots.startWaiting(entry)) return;
      wake();
    },
    granted: () => {
      entry.gateWaits = Math.max(0, entry.gateWaits - 1);
      if (entry.gateWaits === 0) slots.stopWaiting(entry);
    },
  };
}
