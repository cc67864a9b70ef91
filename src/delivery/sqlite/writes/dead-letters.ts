import type { Database } from 'better-sqlite3';

/** Dead letters retried or dropped, on the writer. */

export function deadLetterWrites(db: Database) {
  const retry = db.prepare(
    `UPDATE events SET status = 'pending', next_attempt_at = @now, first_attempt_at = NULL, settled_at = NULL, updated_at = @now
     WHERE id = @id AND status = 'failed' RETURNING destination_id, lane_key`,
  );
  // A retried dead letter is older than anything queued behind it: due now, lease permitting.
  const addRetriedToLane = db.prepare(
    `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at) VALUES (@destinationId, @laneKey, @count, @now)
     ON CONFLICT (destination_id, lane_key) DO UPDATE SET
       pending = lanes.pending + excluded.pending,
       next_run_at = CASE WHEN lanes.leased_by IS NULL OR lanes.lease_until <= @now THEN @now ELSE lanes.next_run_at END`,
  );
  const markDropped = db.prepare(
    "UPDATE events SET status = 'dropped', dropped_by = @by, dropped_at = @now, updated_at = @now WHERE id = @id AND status = 'failed'",
  );
  return {
    /** Dead letters among `ids` back to pending at the head of their lanes; returns how many. */
    retryDeadLetters(ids: number[], now: number): number {
      const lanes = new Map<string, { destinationId: string; laneKey: string; count: number }>();
      for (const id of ids) {
        const row = retry.get({ now, id }) as { destination_id: string; lane_key: string } | undefined;
        if (!row) continue;
        const key = JSON.stringify([row.destination_id, row.lane_key]);
        const lane = lanes.get(key) ?? { destinationId: row.destination_id, laneKey: row.lane_key, count: 0 };
        lane.count++;
        lanes.set(key, lane);
      }
      let count = 0;
      for (const lane of lanes.values()) {
        addRetriedToLane.run({ ...lane, now });
        count += lane.count;
      }
      return count;
    },

    /** Dead letters among `ids` marked dropped (kept, with their attempts, until pruned). */
    dropDeadLetters(ids: number[], by: string, now: number): number {
      let count = 0;
      for (const id of ids) count += markDropped.run({ id, by, now }).changes;
      return count;
    },
  };
}
