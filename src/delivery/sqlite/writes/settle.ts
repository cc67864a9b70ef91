import type { Database } from 'better-sqlite3';
import type { CallRecord } from '../../../sailthru/types.ts';
import { UNSETTLED } from '../../sql/event-query.ts';
import { settlementWrite } from '../../sql/settlement.ts';
import type { Settlement } from '../../store.ts';
import { RELEASE_LANE } from './lanes.ts';

/** Settling the head of a lane, on the writer (sql/settlement.ts says what each settlement writes). */

/** Whether a lane has anything left to deliver (exported for the index test). */
export const HAS_UNSETTLED = `SELECT 1 FROM events WHERE lane_key = ? AND destination_id = ? AND ${UNSETTLED} LIMIT 1`;

export interface SettleWrite {
  eventId: number;
  destinationId: string;
  laneKey: string;
  workerId: string;
  settlement: Settlement;
  startedAt: number;
  durationMs: number;
  calls: CallRecord[];
  warnings: string[];
  now: number;
}

export function settleWrites(db: Database) {
  const settleFinal = db.prepare(
    `UPDATE events SET status = @status, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, @started),
       next_attempt_at = NULL, last_error = @error, updated_at = @now, settled_at = @now, outcome = @outcome
     WHERE id = @id AND ${UNSETTLED}`,
  );
  const settleRetry = db.prepare(
    `UPDATE events SET status = 'retrying', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, @started),
       next_attempt_at = @next, last_error = @error, updated_at = @now, outcome = @outcome
     WHERE id = @id AND ${UNSETTLED}`,
  );
  // An attempt that only found the account unusable does not start the retry window.
  const settlePaused = db.prepare(
    `UPDATE events SET attempts = attempts + 1, last_error = @error, updated_at = @now, outcome = @outcome
     WHERE id = @id AND ${UNSETTLED}`,
  );
  const laneSettled = db.prepare('UPDATE lanes SET pending = max(pending - 1, 0) WHERE destination_id = ? AND lane_key = ?');
  const laneRetryAt = db.prepare(
    `UPDATE lanes SET next_run_at = @next, leased_by = NULL, lease_until = NULL
     WHERE destination_id = @destinationId AND lane_key = @laneKey AND leased_by = @worker`,
  );
  // Only while the settings are the version the attempt used: a fix made meanwhile wins.
  const pauseAtVersion = db.prepare(
    `UPDATE destinations SET paused = 1, pause_reason = @reason, updated_at = @now
     WHERE id = @id AND (@version IS NULL OR version = @version)`,
  );
  // The lane goes back due now; claims pass over it while its destination is paused.
  const releaseLane = db.prepare(RELEASE_LANE);
  const attemptsOf = db.prepare('SELECT attempts FROM events WHERE id = ?');
  const insertAttempt = db.prepare(
    `INSERT INTO attempts (event_id, attempt, started_at, duration_ms, state, error, calls, warnings, worker_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const holder = db.prepare('SELECT leased_by FROM lanes WHERE destination_id = ? AND lane_key = ?');
  const hasUnsettled = db.prepare(HAS_UNSETTLED);
  const settleOne = (input: SettleWrite): { applied: boolean; final: boolean } => {
      const { settlement, destinationId, laneKey, workerId, now } = input;
      const { eventId: id, startedAt: started } = input;
      const write = settlementWrite(settlement, input.warnings);
      const error = write.error;
      const outcome = JSON.stringify(write.outcome);
      let changes: number;
      switch (settlement.state) {
        case 'delivered':
        case 'skipped':
        case 'failed':
          changes = settleFinal.run({ id, status: write.status, started, now, error, outcome }).changes;
          if (changes > 0) laneSettled.run(destinationId, laneKey);
          break;
        case 'retrying': {
          const next = settlement.nextAttemptAt.getTime();
          changes = settleRetry.run({ id, started, now, next, error, outcome }).changes;
          laneRetryAt.run({ destinationId, laneKey, worker: workerId, next });
          break;
        }
        case 'paused':
          changes = settlePaused.run({ id, now, error, outcome }).changes;
          pauseAtVersion.run({ reason: error, now, id: destinationId, version: settlement.settingsVersion ?? null });
          releaseLane.run({ destinationId, laneKey, worker: workerId, now });
          break;
      }
      const attemptNo = (attemptsOf.get(id) as { attempts: number } | undefined)?.attempts ?? 0;
      insertAttempt.run(id, Math.max(attemptNo, 1), started, Math.round(input.durationMs), write.attemptState, error, JSON.stringify(input.calls), JSON.stringify(input.warnings), workerId);
      return { applied: changes > 0, final: write.final && changes > 0 };
  };
  return {
    /** applied: the event was still unsettled; final: it is settled for good now. */
    settle: settleOne,

    /**
     * A run of a lane's heads (store.ts, LaneSettlement), in one transaction; a continue gives
     * the lane back when nothing is left. The caller reads the next heads after the commit.
     */
    settleLane(input: SettleLaneWrite): { applied: boolean[]; finals: number; released: boolean } {
      const { destinationId, laneKey, workerId, now } = input;
      const results = input.heads.map((head) => settleOne({ ...head, destinationId, laneKey, workerId, now }));
      const last = input.heads[input.heads.length - 1]?.settlement.state;
      const final = last !== 'retrying' && last !== 'paused';
      const empty = () => hasUnsettled.get(laneKey, destinationId) === undefined;
      if (final && (input.then === 'release' || (input.then === 'continue' && empty()))) {
        releaseLane.run({ destinationId, laneKey, worker: workerId, now });
      }
      const held = (holder.get(destinationId, laneKey) as { leased_by: string | null } | undefined)?.leased_by === workerId;
      return { applied: results.map((r) => r.applied), finals: results.filter((r) => r.final).length, released: !held };
    },
  };
}

export interface SettleLaneWrite {
  destinationId: string;
  laneKey: string;
  workerId: string;
  heads: Array<Omit<SettleWrite, 'destinationId' | 'laneKey' | 'workerId' | 'now'>>;
  then: 'keep' | 'continue' | 'release';
  now: number;
}
