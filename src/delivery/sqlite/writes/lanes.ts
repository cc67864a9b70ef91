import type { Database } from 'better-sqlite3';
import { UNSETTLED } from '../../sql/event-query.ts';
import type { LaneRef } from '../../store.ts';

/** The lane queue's writes: claims, renewals, releases, outage wakes. */

export interface ClaimedLaneRow {
  destinationId: string;
  laneKey: string;
  pending: number;
}

/**
 * A count that says events are left when none is would keep an empty lane due forever: release
 * sets it right (one index probe, no count; settles keep it exact otherwise).
 */
export const RELEASE_LANE = releaseAt('@now');

/** RELEASE_LANE, due again at `at` (a parameter): now, or later for a lane deferred (cross-lane-queue.ts). */
function releaseAt(at: string): string {
  return `UPDATE lanes SET leased_by = NULL, lease_until = NULL, next_run_at = ${at},
  pending = CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.lane_key = @laneKey AND e.destination_id = @destinationId AND e.${UNSETTLED})
                 THEN pending ELSE 0 END
  WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`;
}

export function laneWrites(db: Database) {
  const claim = db.prepare(
    `UPDATE lanes SET leased_by = @worker, lease_until = @until, next_run_at = @until
     WHERE rowid IN (
       -- Without INDEXED BY the planner may walk every lane of the destination and sort them.
       SELECT rowid FROM lanes INDEXED BY lanes_due
       WHERE pending > 0 AND next_run_at <= @now
         AND destination_id IN (SELECT id FROM destinations WHERE paused = 0)
       ORDER BY next_run_at LIMIT @limit)
     RETURNING destination_id, lane_key, pending`,
  );
  const renew = db.prepare(
    `UPDATE lanes SET lease_until = @until, next_run_at = @until
     WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
  );
  const release = db.prepare(RELEASE_LANE);
  const defer = db.prepare(releaseAt('@dueAt'));
  const wakeLanes = db.prepare(
    `UPDATE lanes SET next_run_at = @now
     WHERE destination_id = @destinationId AND leased_by IS NULL AND pending > 0 AND next_run_at > @now`,
  );
  // Before wakeLanes, in the same transaction: the heads of exactly the lanes it wakes.
  const wakeHeads = db.prepare(
    `UPDATE events SET next_attempt_at = @now
     WHERE destination_id = @destinationId AND status = 'retrying' AND next_attempt_at > @now
       AND lane_key IN (SELECT lane_key FROM lanes
                        WHERE destination_id = @destinationId AND leased_by IS NULL AND pending > 0 AND next_run_at > @now)`,
  );
  return {
    claimLanes(workerId: string, limit: number, until: number, now: number): ClaimedLaneRow[] {
      const rows = claim.all({ worker: workerId, until, now, limit }) as Array<{ destination_id: string; lane_key: string; pending: number }>;
      return rows.map((r) => ({ destinationId: r.destination_id, laneKey: r.lane_key, pending: r.pending }));
    },

    renewLeases(workerId: string, lanes: LaneRef[], until: number): LaneRef[] {
      return lanes.filter((lane) => renew.run({ ...lane, worker: workerId, until }).changes > 0);
    },

    /** Returns whether this worker held the lane (and so whether it is due again). */
    releaseLane(workerId: string, lane: LaneRef, now: number): boolean {
      return release.run({ ...lane, worker: workerId, now }).changes > 0;
    },

    /** Releases the lane due again at `dueAt`; returns whether this worker held it. */
    deferLane(workerId: string, lane: LaneRef, dueAt: number): boolean {
      return defer.run({ ...lane, worker: workerId, dueAt }).changes > 0;
    },

    /**
     * Lanes of the destination waiting out a retry become due now, and their heads' retry times
     * say so; returns how many lanes. Unleased lanes with a future due time are exactly those.
     */
    wakeRetryingLanes(destinationId: string, now: number): number {
      wakeHeads.run({ destinationId, now });
      return wakeLanes.run({ destinationId, now }).changes;
    },
  };
}
