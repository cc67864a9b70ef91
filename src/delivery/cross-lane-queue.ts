/**
 * What the lane queue offers for ordering one person's two lanes (decisions.md, "Lanes are per
 * id"): an event whose lane is its userId may carry an anonymousId (or an alias's previousId) whose
 * own lane still holds events received before it; cross-lane-order.ts holds it back until those
 * have settled. Both stores implement it; test/delivery/store-contract.ts checks them alike.
 */

/** One lane: a user's events for one destination (store.ts re-exports it). */
export interface LaneRef {
  destinationId: string;
  laneKey: string;
}

/** Unsettled events of one lane received before a given event (lower id). */
export interface EarlierUnsettled {
  laneKey: string;
  /** How many: pending or retrying (a leased event in flight is still pending). */
  count: number;
  /** The oldest one's id. */
  oldestId: number;
}

export interface CrossLaneQueue {
  /**
   * For each of the destination's lanes in `laneKeys`, its unsettled events with an id below
   * `beforeId`; lanes that have none are left out. Final events (dead letters too) count as settled.
   */
  earlierUnsettled(destinationId: string, laneKeys: string[], beforeId: number): Promise<EarlierUnsettled[]>;
  /**
   * Give the lane back without settling anything, due again at `dueAt` (epoch ms) rather than at
   * once: its head waits for another lane. Like releaseLane, a no-op unless this worker holds it.
   */
  deferLane(workerId: string, lane: LaneRef, dueAt: number): Promise<void>;
}
