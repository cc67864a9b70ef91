import { UNSETTLED } from '../sql/event-query.ts';
import { eventColumns, PARSED_JSON_ROWS, type EventRow } from '../sql/rows.ts';
import { settlementWrite } from '../sql/settlement.ts';
import type { LaneSettlement, LaneSettleResult, QueuedEvent, SettleInput, SettleResult } from '../store.ts';
import { pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/**
 * Settling a run of a lane's heads (sql/settlement.ts says what each settlement writes) in one
 * statement, hence one round trip and one transaction: the events, their attempt rows, the
 * lane's count and lease, a pause of the destination, and the lane's next head events.
 */

const FINAL = "('delivered', 'skipped', 'failed')";
/** Whether the lane goes back: only ever a lease this worker holds. */
const BACK = `(coalesce(l.leased_by = $12::text, false) AND ($17::text <> 'final' OR $15::text = 'release' OR ($15::text = 'continue' AND NOT EXISTS (SELECT 1 FROM next))))`;

// Per head ($1–$10, arrays in run order): id, new status (null: paused, the status stays), started,
// duration, attempt state, error, retry time, outcome, calls, warnings. Then $11 now, $12 worker,
// $13 destination, $14 lane, $15 then, $16 window, $17 how the run ends (final, retrying, paused),
// $18 the settings version a pause applies to.
//
// Every part sees the snapshot the statement started with, so the next heads are read as "the
// unsettled ones but those settled here". The lane's row is updated last, after the events: it
// is locked after them, as appends lock it after inserting theirs.
const SETTLE_LANE = `WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::bigint[],
                         $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
      AS x(id, status, started, duration, state, error, next_at, outcome, calls, warnings, ord)
  ), e AS (
    UPDATE events ev SET status = coalesce(x.status, ev.status), attempts = ev.attempts + 1,
      first_attempt_at = CASE WHEN x.status IS NULL THEN ev.first_attempt_at ELSE coalesce(ev.first_attempt_at, x.started) END,
      next_attempt_at = CASE WHEN x.status IS NULL THEN ev.next_attempt_at ELSE x.next_at END,
      last_error = x.error, updated_at = $11::bigint, settled_at = CASE WHEN x.status IN ${FINAL} THEN $11::bigint END,
      outcome = x.outcome::json
    FROM input x
    WHERE ev.id = x.id AND ev.${UNSETTLED}
    RETURNING ev.id, ev.attempts, ev.status
  ), attempt AS (
    INSERT INTO attempts (event_id, attempt, started_at, duration_ms, state, error, calls, warnings, worker_id)
    SELECT x.id, greatest(coalesce(e.attempts, (SELECT attempts FROM events WHERE id = x.id), 0), 1),
           x.started, x.duration, x.state, x.error, x.calls::json, x.warnings::json, $12::text
    FROM input x LEFT JOIN e ON e.id = x.id
    ORDER BY x.ord
  ), next AS (
    SELECT ${eventColumns('n')} FROM events n
    WHERE n.destination_id = $13::text AND n.lane_key = $14::text AND n.${UNSETTLED} AND n.id <> ALL ($1::bigint[])
    ORDER BY n.id
    LIMIT CASE WHEN $15::text = 'continue' AND $17::text = 'final' THEN $16::int ELSE 0 END
  ), d AS (
    -- Only while the settings are the version the attempt used: a fix made meanwhile wins.
    UPDATE destinations SET paused = true, pause_reason = (SELECT error FROM input ORDER BY ord DESC LIMIT 1), updated_at = $11::bigint
    WHERE $17::text = 'paused' AND id = $13::text AND ($18::int IS NULL OR version = $18::int)
  ), lane AS (
    -- Handed back (BACK): by a retry (due at its time), a pause (due now; claims pass over it
    -- while its destination is paused), a release, or a continue that found nothing more.
    UPDATE lanes l SET
      pending = greatest(l.pending - (SELECT count(*) FROM e WHERE e.status IN ${FINAL}), 0),
      leased_by = CASE WHEN ${BACK} THEN NULL ELSE l.leased_by END,
      lease_until = CASE WHEN ${BACK} THEN NULL ELSE l.lease_until END,
      next_run_at = CASE WHEN NOT ${BACK} THEN l.next_run_at
                         WHEN $17::text = 'retrying' THEN (SELECT next_at FROM input ORDER BY ord DESC LIMIT 1)
                         ELSE $11::bigint END
    WHERE l.destination_id = $13::text AND l.lane_key = $14::text
    RETURNING l.leased_by IS DISTINCT FROM $12::text AS released, l.pending
  )
  SELECT (SELECT coalesce(json_agg(id), '[]') FROM e) AS applied,
         (SELECT coalesce(json_agg(n ORDER BY n.id), '[]') FROM next n) AS next,
         coalesce((SELECT released FROM lane), true) AS released,
         coalesce((SELECT pending FROM lane), 0) AS pending`;

export async function settleLane(ctx: PostgresStoreContext, input: LaneSettlement): Promise<LaneSettleResult> {
  const { lane, heads, workerId } = input;
  const writes = heads.map((h) => settlementWrite(h.settlement, h.attempt.warnings));
  const last = heads[heads.length - 1]?.settlement;
  const ending = last?.state === 'retrying' || last?.state === 'paused' ? last.state : 'final';
  const { rows } = await queryRetrying<{ applied: number[]; next: Array<EventRow<unknown>>; released: boolean; pending: number }>(ctx.pool, {
    name: 'sd-settle-lane',
    text: SETTLE_LANE,
    values: [
      heads.map((h) => h.event.id),
      writes.map((w) => w.status),
      heads.map((h) => h.attempt.startedAt.getTime()),
      heads.map((h) => Math.round(h.attempt.durationMs)),
      writes.map((w) => w.attemptState),
      writes.map((w) => pgText(w.error)),
      heads.map((h) => (h.settlement.state === 'retrying' ? h.settlement.nextAttemptAt.getTime() : null)),
      writes.map((w) => JSON.stringify(w.outcome)),
      heads.map((h) => JSON.stringify(h.attempt.calls)),
      heads.map((h) => JSON.stringify(h.attempt.warnings)),
      ctx.clock.now(),
      pgText(workerId),
      pgText(lane.destinationId),
      pgText(lane.laneKey),
      input.then,
      input.window ?? 0,
      ending,
      last?.state === 'paused' ? (last.settingsVersion ?? null) : null,
    ],
  });
  const row = rows[0]!;
  const appliedIds = new Set(row.applied);
  const applied = heads.map((h) => appliedIds.has(h.event.id));
  let finals = 0;
  heads.forEach((h, i) => {
    if (applied[i] && writes[i]!.final) finals++;
  });
  if (finals > 0) ctx.backlogCache.settled(finals);
  // Given back with events left (appended meanwhile, or a release): due now, for any process.
  if (row.released && row.pending > 0 && ending === 'final') ctx.announce();
  return { applied, next: row.next.map((r) => PARSED_JSON_ROWS.event(r) as QueuedEvent), released: row.released };
}

export async function settle(ctx: PostgresStoreContext, input: SettleInput): Promise<SettleResult> {
  const { workerId, ...head } = input;
  const result = await settleLane(ctx, { lane: input.event, workerId, heads: [head], then: 'keep' });
  return { applied: result.applied[0] ?? false };
}
