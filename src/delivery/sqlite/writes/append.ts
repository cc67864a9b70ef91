import type { Database } from 'better-sqlite3';
import type { AppendResult } from '../../ingest.ts';
import { rejectedOutcome, type AcceptedColumns, type RejectedRow } from '../../sql/append-rows.ts';

/** Ingest's rows, on the writer. */

export interface AppendRows {
  destinationId: string;
  receivedAt: number;
  now: number;
  accepted: AcceptedColumns;
  rejected: RejectedRow[];
}

export function appendWrites(db: Database) {
  const insertEvent = db.prepare(
    `INSERT INTO events (destination_id, lane_key, anonymous_id, message_id, type, event_name, payload, status, received_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
  );
  const insertRejected = db.prepare(
    `INSERT INTO events (destination_id, lane_key, anonymous_id, message_id, type, event_name, payload, status, last_error,
                         received_at, updated_at, settled_at, outcome)
     VALUES (@destinationId, @laneKey, @anonymousId, @messageId, @type, @eventName, @payload, 'rejected', @reason,
             @receivedAt, @now, @receivedAt, @outcome)`,
  );
  // A lane that was empty becomes due now, unless a live lease holds it (its worker either sees
  // the new events or releases the lane, which makes it due).
  const addToLane = db.prepare(
    `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at) VALUES (@destinationId, @laneKey, @count, @now)
     ON CONFLICT (destination_id, lane_key) DO UPDATE SET
       pending = lanes.pending + excluded.pending,
       next_run_at = CASE WHEN lanes.pending = 0 AND (lanes.leased_by IS NULL OR lanes.lease_until <= @now)
                          THEN @now ELSE lanes.next_run_at END`,
  );
  return {
    /** Dedupe on (destination, messageId): a duplicate is counted, not stored. */
    append(input: AppendRows): AppendResult {
      const { destinationId, receivedAt, now } = input;
      const lanes = new Map<string, number>();
      let stored = 0;
      let duplicates = 0;
      const { laneKeys, anonymousIds, messageIds, types, eventNames, payloads } = input.accepted;
      for (let i = 0; i < laneKeys.length; i++) {
        const laneKey = laneKeys[i]!;
        const result = insertEvent.run(destinationId, laneKey, anonymousIds[i], messageIds[i], types[i], eventNames[i], payloads[i], receivedAt, now);
        if (result.changes === 0) {
          duplicates++;
          continue;
        }
        stored++;
        lanes.set(laneKey, (lanes.get(laneKey) ?? 0) + 1);
      }
      for (const r of input.rejected) {
        insertRejected.run({ destinationId, ...r, receivedAt, now, outcome: JSON.stringify(rejectedOutcome(r.reason)) });
      }
      for (const [laneKey, count] of lanes) addToLane.run({ destinationId, laneKey, count, now });
      return { stored, duplicates };
    },
  };
}
