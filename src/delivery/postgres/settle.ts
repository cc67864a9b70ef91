import { UNSETTLED } from '../sql/event-query.ts';
import { settlementWrite } from '../sql/settlement.ts';
import type { SettleInput, SettleResult } from '../store.ts';
import { pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/**
 * Settling the head of a lane (sql/settlement.ts says what each settlement writes), in one
 * statement per kind: the event, its lane and the attempt row change together.
 */

// $1 event id, $2 started, $3 now, $4 error, $5 duration, $6 attempt state, $7 calls, $8 warnings,
// $9 worker, $10 outcome, $11 destination, $12 lane; then per kind.
const ATTEMPT = `INSERT INTO attempts (event_id, attempt, started_at, duration_ms, state, error, calls, warnings, worker_id)
  SELECT $1, greatest(coalesce((SELECT attempts FROM e), (SELECT attempts FROM events WHERE id = $1), 0), 1),
         $2, $5, $6, $4, $7::json, $8::json, $9`;

const FINAL = `WITH e AS (
    UPDATE events SET status = $13, attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, $2),
      next_attempt_at = NULL, last_error = $4, updated_at = $3, settled_at = $3, outcome = $10::json
    WHERE id = $1 AND ${UNSETTLED}
    RETURNING attempts
  ), lane AS (
    UPDATE lanes SET pending = greatest(pending - 1, 0)
    WHERE destination_id = $11 AND lane_key = $12 AND EXISTS (SELECT 1 FROM e)
  ), attempt AS (${ATTEMPT})
  SELECT count(*)::int AS applied FROM e`;

const RETRY = `WITH e AS (
    UPDATE events SET status = 'retrying', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, $2),
      next_attempt_at = $13, last_error = $4, updated_at = $3, outcome = $10::json
    WHERE id = $1 AND ${UNSETTLED}
    RETURNING attempts
  ), lane AS (
    UPDATE lanes SET next_run_at = $13, leased_by = NULL, lease_until = NULL
    WHERE destination_id = $11 AND lane_key = $12 AND leased_by = $9
  ), attempt AS (${ATTEMPT})
  SELECT count(*)::int AS applied FROM e`;

// An attempt that only found the account unusable does not start the retry window. The lane
// goes back due now; claims pass over it while its destination is paused.
const PAUSED = `WITH e AS (
    UPDATE events SET attempts = attempts + 1, last_error = $4, updated_at = $3, outcome = $10::json
    WHERE id = $1 AND ${UNSETTLED}
    RETURNING attempts
  ), d AS (
    -- Only while the settings are the version the attempt used: a fix made meanwhile wins.
    UPDATE destinations SET paused = true, pause_reason = $4, updated_at = $3
    WHERE id = $11 AND ($13::int IS NULL OR version = $13::int)
  ), lane AS (
    UPDATE lanes SET leased_by = NULL, lease_until = NULL, next_run_at = $3
    WHERE destination_id = $11 AND lane_key = $12 AND leased_by = $9
  ), attempt AS (${ATTEMPT})
  SELECT count(*)::int AS applied FROM e`;

export async function settle(ctx: PostgresStoreContext, input: SettleInput): Promise<SettleResult> {
  const { event, settlement, attempt, workerId } = input;
  const write = settlementWrite(settlement, attempt.calls, attempt.warnings);
  const values = [
    event.id,
    attempt.startedAt.getTime(),
    ctx.clock.now(),
    pgText(write.error),
    Math.round(attempt.durationMs),
    write.attemptState,
    JSON.stringify(attempt.calls),
    JSON.stringify(attempt.warnings),
    pgText(workerId),
    JSON.stringify(write.outcome),
    pgText(event.destinationId),
    pgText(event.laneKey),
  ];
  const query =
    settlement.state === 'retrying'
      ? { name: 'sd-settle-retry', text: RETRY, values: [...values, settlement.nextAttemptAt.getTime()] }
      : settlement.state === 'paused'
        ? { name: 'sd-settle-paused', text: PAUSED, values: [...values, settlement.settingsVersion ?? null] }
        : { name: 'sd-settle-final', text: FINAL, values: [...values, write.status] };
  const { rows } = await queryRetrying<{ applied: number }>(ctx.pool, query);
  const applied = rows[0]!.applied > 0;
  if (applied && write.final) ctx.backlogCache.settled();
  return { applied };
}
