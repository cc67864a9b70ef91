import { UNSETTLED } from '../sql/event-query.ts';
import { eventColumns, PARSED_JSON_ROWS, type EventRow } from '../sql/rows.ts';
import { settlementWrite } from '../sql/settlement.ts';
import type { LaneSettlement, LaneSettleResult, QueuedEvent } from '../store.ts';
import { pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';
import { PARKED_SQL } from './lane-parking.ts';

/**
 * Settling runs of lanes' heads (sql/settlement.ts says what each settlement writes): the
 * events, their attempt rows, each lane's count and lease, a pause of a destination, and each
 * lane's next head events, in one statement for every lane whose settle is waiting
 * (context.ts: `settles`, a StatementGroup). A lane's worker waits for its settle before it
 * delivers the lane's next event, so sharing a statement never leaves more undone by a crash
 * than the one event per lane in flight. (One transaction of one statement per lane measured
 * five times slower on a loaded machine: each waited for the one before; bench/README.md.)
 */

const FINAL = "('delivered', 'skipped', 'failed')";
/** Whether the lane goes back: only ever a lease this worker holds. */
const BACK = `(coalesce(l.leased_by = r.worker, false) AND (r.ending <> 'final' OR r.then_ = 'release' OR (r.then_ = 'continue' AND NOT EXISTS (SELECT 1 FROM next WHERE next.lane = r.lane))))`;

// Per head ($1–$11, arrays in run order): id, new status (null: paused, the status stays),
// started, duration, attempt state, error, retry time, outcome, calls, warnings, its lane (an
// index into the lane arrays). Per lane ($12–$18): destination, lane key, then, window, how the
// run ends (final, retrying, paused), the settings version a pause applies to, worker. $19 now.
//
// Every part sees the snapshot the statement started with, so the next heads are read as "the
// unsettled ones but those settled here". Lane rows are locked after the events, in the order
// appends lock them, so the two never deadlock.
const SETTLE_LANES = `WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::text[], $7::bigint[],
                         $8::text[], $9::text[], $10::text[], $11::int[]) WITH ORDINALITY
      AS x(id, status, started, duration, state, error, next_at, outcome, calls, warnings, lane, ord)
  ), run AS (
    SELECT * FROM unnest($12::text[], $13::text[], $14::text[], $15::int[], $16::text[], $17::int[], $18::text[]) WITH ORDINALITY
      AS r(destination_id, lane_key, then_, win, ending, version, worker, lane)
  ), e AS (
    UPDATE events ev SET status = coalesce(x.status, ev.status), attempts = ev.attempts + 1,
      first_attempt_at = CASE WHEN x.status IS NULL THEN ev.first_attempt_at ELSE coalesce(ev.first_attempt_at, x.started) END,
      next_attempt_at = CASE WHEN x.status IS NULL THEN ev.next_attempt_at ELSE x.next_at END,
      last_error = x.error, updated_at = $19::bigint, settled_at = CASE WHEN x.status IN ${FINAL} THEN $19::bigint END,
      outcome = x.outcome::json
    FROM input x
    WHERE ev.id = x.id AND ev.${UNSETTLED}
    RETURNING ev.id, ev.attempts, ev.status
  ), attempt AS (
    INSERT INTO attempts (event_id, attempt, started_at, duration_ms, state, error, calls, warnings, worker_id)
    SELECT x.id, greatest(coalesce(e.attempts, (SELECT attempts FROM events WHERE id = x.id), 0), 1),
           x.started, x.duration, x.state, x.error, x.calls::json, x.warnings::json, r.worker
    FROM input x JOIN run r ON r.lane = x.lane LEFT JOIN e ON e.id = x.id
    ORDER BY x.ord
  ), last AS (
    SELECT DISTINCT ON (x.lane) x.lane, x.error, x.next_at FROM input x ORDER BY x.lane, x.ord DESC
  ), finals AS (
    SELECT x.lane, count(*)::int AS n FROM input x JOIN e ON e.id = x.id WHERE e.status IN ${FINAL} GROUP BY x.lane
  ), next AS (
    SELECT r.lane, h.id, to_json(h) AS row FROM run r CROSS JOIN LATERAL (
      SELECT ${eventColumns('n')} FROM events n
      WHERE n.destination_id = r.destination_id AND n.lane_key = r.lane_key AND n.${UNSETTLED} AND n.id <> ALL ($1::bigint[])
      ORDER BY n.id
      LIMIT CASE WHEN r.then_ = 'continue' AND r.ending = 'final' THEN r.win ELSE 0 END
    ) h
  ), d AS (
    -- Only while the settings are the version the attempt used: a fix made meanwhile wins.
    UPDATE destinations SET paused = true, pause_reason = last.error, updated_at = $19::bigint
    FROM run r JOIN last ON last.lane = r.lane
    WHERE r.ending = 'paused' AND destinations.id = r.destination_id AND (r.version IS NULL OR destinations.version = r.version)
  ), locked AS MATERIALIZED (
    -- The condition is always true: as an init plan it makes the events' update run to its end
    -- (finals reads it) before the first lane is locked.
    SELECT l.destination_id, l.lane_key FROM lanes l JOIN run r ON l.destination_id = r.destination_id AND l.lane_key = r.lane_key
    WHERE (SELECT count(*) FROM finals) >= 0
    ORDER BY l.destination_id, l.lane_key
    FOR UPDATE OF l
  ), lane AS (
    -- Handed back (BACK): by a retry (due at its time), a pause (due now; claims pass over it
    -- while its destination is paused), a release, or a continue that found nothing more; with
    -- nothing left, parked (lane-parking.ts). Kept (not BACK): only the count changes, no indexed
    -- column, so the update is HOT.
    UPDATE lanes l SET
      pending = greatest(l.pending - coalesce(f.n, 0), 0),
      leased_by = CASE WHEN ${BACK} THEN NULL ELSE l.leased_by END,
      lease_until = CASE WHEN ${BACK} THEN NULL ELSE l.lease_until END,
      next_run_at = CASE WHEN NOT ${BACK} THEN l.next_run_at
                         WHEN r.ending = 'retrying' THEN last.next_at
                         WHEN l.pending - coalesce(f.n, 0) <= 0 THEN ${PARKED_SQL}
                         ELSE $19::bigint END
    FROM locked k JOIN run r ON r.destination_id = k.destination_id AND r.lane_key = k.lane_key
      LEFT JOIN finals f ON f.lane = r.lane LEFT JOIN last ON last.lane = r.lane
    WHERE l.destination_id = k.destination_id AND l.lane_key = k.lane_key
    RETURNING r.lane, l.leased_by IS DISTINCT FROM r.worker AS released, l.pending
  )
  SELECT r.lane,
         (SELECT coalesce(json_agg(x.id ORDER BY x.ord), '[]') FROM input x JOIN e ON e.id = x.id WHERE x.lane = r.lane) AS applied,
         (SELECT coalesce(json_agg(n.row ORDER BY n.id), '[]') FROM next n WHERE n.lane = r.lane) AS next,
         coalesce(lane.released, true) AS released,
         coalesce(lane.pending, 0) AS pending
  FROM run r LEFT JOIN lane ON lane.lane = r.lane
  ORDER BY r.lane`;

interface LaneRow {
  lane: number;
  applied: number[];
  next: Array<EventRow<unknown>>;
  released: boolean;
  pending: number;
}

type Ending = 'final' | 'retrying' | 'paused';

function endingOf(input: LaneSettlement): Ending {
  const last = input.heads[input.heads.length - 1]?.settlement;
  return last?.state === 'retrying' || last?.state === 'paused' ? last.state : 'final';
}

/** What one statement does for the settles of several lanes (at most one settle per lane). */
export async function settleLanes(ctx: PostgresStoreContext, inputs: LaneSettlement[]): Promise<LaneSettleResult[]> {
  const heads = inputs.flatMap((input, i) => input.heads.map((head) => ({ head, lane: i + 1, write: settlementWrite(head.settlement, head.attempt.warnings) })));
  const endings = inputs.map(endingOf);
  const { rows } = await queryRetrying<LaneRow>(ctx.pool, {
    name: 'sd-settle-lanes',
    text: SETTLE_LANES,
    values: [
      heads.map(({ head }) => head.event.id),
      heads.map(({ write }) => write.status),
      heads.map(({ head }) => head.attempt.startedAt.getTime()),
      heads.map(({ head }) => Math.round(head.attempt.durationMs)),
      heads.map(({ write }) => write.attemptState),
      heads.map(({ write }) => pgText(write.error)),
      heads.map(({ head }) => (head.settlement.state === 'retrying' ? head.settlement.nextAttemptAt.getTime() : null)),
      heads.map(({ write }) => JSON.stringify(write.outcome)),
      heads.map(({ head }) => JSON.stringify(head.attempt.calls)),
      heads.map(({ head }) => JSON.stringify(head.attempt.warnings)),
      heads.map(({ lane }) => lane),
      inputs.map((input) => pgText(input.lane.destinationId)),
      inputs.map((input) => pgText(input.lane.laneKey)),
      inputs.map((input) => input.then),
      inputs.map((input) => input.window ?? 0),
      endings,
      inputs.map((input) => {
        const last = input.heads[input.heads.length - 1]?.settlement;
        return last?.state === 'paused' ? (last.settingsVersion ?? null) : null;
      }),
      inputs.map((input) => pgText(input.workerId)),
      ctx.clock.now(),
    ],
  });
  let finals = 0;
  let announce = false;
  const results = inputs.map((input, i): LaneSettleResult => {
    const row = rows[i]!;
    const appliedIds = new Set(row.applied);
    const applied = input.heads.map((h) => appliedIds.has(h.event.id));
    input.heads.forEach((h, j) => {
      if (applied[j] && settlementWrite(h.settlement, []).final) finals++;
    });
    // Given back with events left (appended meanwhile, or a release): due now, for any process.
    if (row.released && row.pending > 0 && endings[i] === 'final') announce = true;
    return { applied, next: row.next.map((r) => PARSED_JSON_ROWS.event(r) as QueuedEvent), released: row.released };
  });
  if (finals > 0) ctx.backlogCache.settled(finals);
  if (announce) ctx.announce();
  return results;
}
