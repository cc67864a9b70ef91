import { eventColumns, PARSED_JSON_ROWS, type EventRow } from '../sql/rows.ts';
import { UNSETTLED } from '../sql/event-query.ts';
import type { EarlierUnsettled, LaneLease, LaneRef, QueuedEvent } from '../store.ts';
import { inTransaction, pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';
import { PARKED_SQL } from './lane-parking.ts';

/** The lane queue: claiming due lanes under a lease, the head of a lane, renewing and releasing. */

interface ClaimRow extends Partial<EventRow<unknown>> {
  lane_destination_id: string;
  lane_lane_key: string;
  lane_pending: number;
  lane_due_at: number;
}

export async function claimLanes(ctx: PostgresStoreContext, workerId: string, limit: number, leaseMs: number, window = 1): Promise<LaneLease[]> {
  const now = ctx.clock.now();
  const until = now + leaseMs;
  const { rows } = await queryRetrying<ClaimRow>(ctx.pool, {
    name: 'sd-claim-lanes',
    // SKIP LOCKED: concurrent claimers pass over each other's rows instead of waiting, and a
    // row another claim has just leased fails the re-check (next_run_at is now in the future).
    // The range on next_run_at is the index (lanes_next_run); empty lanes are parked past any
    // `now` (lane-parking.ts), so `pending > 0` only passes over a lane whose lease ran out
    // after its last event, which pruning deletes.
    // Each lane comes with its head events, one row per event (a lane with none: one row of NULLs).
    text: `WITH due AS (
             SELECT l.destination_id, l.lane_key, l.next_run_at
             FROM lanes l
             WHERE l.pending > 0 AND l.next_run_at <= $3
               AND EXISTS (SELECT 1 FROM destinations d WHERE d.id = l.destination_id AND NOT d.paused)
             ORDER BY l.next_run_at
             LIMIT $4
             FOR UPDATE OF l SKIP LOCKED
           ), claimed AS (
             UPDATE lanes SET leased_by = $1, lease_until = $2, next_run_at = $2
             FROM due
             WHERE lanes.destination_id = due.destination_id AND lanes.lane_key = due.lane_key
             RETURNING lanes.destination_id, lanes.lane_key, lanes.pending, due.next_run_at AS due_at
           )
           SELECT c.destination_id AS lane_destination_id, c.lane_key AS lane_lane_key, c.pending AS lane_pending,
                  c.due_at AS lane_due_at, h.*
           FROM claimed c LEFT JOIN LATERAL (
             SELECT ${eventColumns('ev')} FROM events ev
             WHERE ev.destination_id = c.destination_id AND ev.lane_key = c.lane_key AND ev.${UNSETTLED}
             ORDER BY ev.id LIMIT $5
           ) h ON true`,
    values: [workerId, until, now, limit, Math.max(1, window)],
  });
  const lanes = new Map<string, LaneLease & { dueAt: number }>();
  for (const row of rows) {
    const key = laneId(row.lane_destination_id, row.lane_lane_key);
    let lease = lanes.get(key);
    if (!lease) {
      lease = {
        destinationId: row.lane_destination_id,
        laneKey: row.lane_lane_key,
        pending: row.lane_pending,
        leaseUntil: new Date(until),
        events: [],
        dueAt: row.lane_due_at,
      };
      lanes.set(key, lease);
    }
    if (row.id !== undefined && row.id !== null) lease.events.push(PARSED_JSON_ROWS.event(row as EventRow<unknown>) as QueuedEvent);
  }
  return [...lanes.values()]
    .sort((a, b) => a.dueAt - b.dueAt)
    .map(({ dueAt: _dueAt, ...lease }) => ({ ...lease, events: lease.events.sort((a, b) => a.id - b.id) }));
}

export async function head(ctx: PostgresStoreContext, lane: LaneRef): Promise<QueuedEvent | null> {
  const { rows } = await ctx.pool.query<EventRow<unknown>>({
    name: 'sd-head',
    text: `SELECT ${eventColumns()} FROM events WHERE destination_id = $1 AND lane_key = $2 AND ${UNSETTLED} ORDER BY id LIMIT 1`,
    values: [pgText(lane.destinationId), pgText(lane.laneKey)],
  });
  return rows[0] ? (PARSED_JSON_ROWS.event(rows[0]) as QueuedEvent) : null;
}

export async function renewLeases(ctx: PostgresStoreContext, workerId: string, lanes: LaneRef[], leaseMs: number): Promise<LaneRef[]> {
  if (lanes.length === 0) return [];
  const until = ctx.clock.now() + leaseMs;
  const { rows } = await queryRetrying<{ destination_id: string; lane_key: string }>(ctx.pool, {
    name: 'sd-renew-leases',
    // Locked in the same order as appends lock lanes, so the two never deadlock.
    text: `WITH mine AS (
             SELECT l.destination_id, l.lane_key FROM lanes l
             JOIN unnest($1::text[], $2::text[]) AS r(d, k) ON l.destination_id = r.d AND l.lane_key = r.k
             WHERE l.leased_by = $3
             ORDER BY l.destination_id, l.lane_key
             FOR UPDATE OF l
           )
           UPDATE lanes SET lease_until = $4, next_run_at = $4
           FROM mine
           WHERE lanes.destination_id = mine.destination_id AND lanes.lane_key = mine.lane_key AND lanes.leased_by = $3
           RETURNING lanes.destination_id, lanes.lane_key`,
    values: [lanes.map((l) => pgText(l.destinationId)), lanes.map((l) => pgText(l.laneKey)), pgText(workerId), until],
  });
  const held = new Set(rows.map((r) => laneId(r.destination_id, r.lane_key)));
  return lanes.filter((lane) => held.has(laneId(pgText(lane.destinationId), pgText(lane.laneKey))));
}

export async function releaseLane(ctx: PostgresStoreContext, workerId: string, lane: LaneRef): Promise<void> {
  const now = ctx.clock.now();
  if (await releaseLaneAt(ctx, workerId, lane, now)) ctx.announce();
}

/** No announce: the lane is not due now (the worker that deferred it wakes itself at dueAt; others poll). */
export async function deferLane(ctx: PostgresStoreContext, workerId: string, lane: LaneRef, dueAt: number): Promise<void> {
  await releaseLaneAt(ctx, workerId, lane, dueAt);
}

/** Gives the lane back due at `dueAt`; returns whether this worker held it and it still has events. */
async function releaseLaneAt(ctx: PostgresStoreContext, workerId: string, lane: LaneRef, dueAt: number): Promise<boolean> {
  const destinationId = pgText(lane.destinationId);
  const laneKey = pgText(lane.laneKey);
  const pending = await inTransaction(ctx.pool, async (client) => {
    const held = await client.query({
      name: 'sd-lock-lane',
      text: 'SELECT 1 FROM lanes WHERE destination_id = $1 AND lane_key = $2 AND leased_by = $3 FOR UPDATE',
      values: [destinationId, laneKey, pgText(workerId)],
    });
    if (held.rowCount === 0) return null;
    // A new statement, hence a snapshot taken after the lock: it sees every append that touched
    // this lane. A count that says events are left when none is would keep an empty lane due:
    // it is set right (one index probe, no count; settleLane keeps it exact otherwise).
    const { rows } = await client.query<{ pending: number }>({
      name: 'sd-release-lane',
      // Given back with nothing left, the lane is parked (lane-parking.ts).
      text: `UPDATE lanes SET leased_by = NULL, lease_until = NULL,
               next_run_at = CASE WHEN left_.any AND pending > 0 THEN $3 ELSE ${PARKED_SQL} END,
               pending = CASE WHEN left_.any THEN pending ELSE 0 END
             FROM (SELECT EXISTS (SELECT 1 FROM events e WHERE e.destination_id = $1 AND e.lane_key = $2 AND e.${UNSETTLED}) AS any) left_
             WHERE destination_id = $1 AND lane_key = $2
             RETURNING pending`,
      values: [destinationId, laneKey, dueAt],
    });
    return rows[0]?.pending ?? 0;
  });
  return pending !== null && pending > 0;
}

export async function earlierUnsettled(ctx: PostgresStoreContext, destinationId: string, laneKeys: string[], beforeId: number): Promise<EarlierUnsettled[]> {
  if (laneKeys.length === 0) return [];
  // Keys as the column holds them (pgText), answered under the caller's spelling.
  const asGiven = new Map(laneKeys.map((k) => [pgText(k), k]));
  const { rows } = await ctx.pool.query<{ lane_key: string; n: number; oldest: number }>({
    name: 'sd-earlier-unsettled',
    // Per lane, one range of events_lane_head (destination_id, lane_key, id), unsettled rows only.
    text: `SELECT k.lane_key, e.n, e.oldest
           FROM unnest($2::text[]) AS k(lane_key)
           CROSS JOIN LATERAL (
             SELECT count(*)::int AS n, min(ev.id) AS oldest FROM events ev
             WHERE ev.destination_id = $1 AND ev.lane_key = k.lane_key AND ev.${UNSETTLED} AND ev.id < $3
           ) e
           WHERE e.n > 0`,
    values: [pgText(destinationId), [...asGiven.keys()], beforeId],
  });
  return rows.map((r) => ({ laneKey: asGiven.get(r.lane_key) ?? r.lane_key, count: r.n, oldestId: r.oldest }));
}

export async function wakeRetryingLanes(ctx: PostgresStoreContext, destinationId: string): Promise<number> {
  const { rows } = await queryRetrying<{ lanes: number }>(ctx.pool, {
    name: 'sd-wake-retrying-lanes',
    // Lanes locked in the order appends lock them (so the two never deadlock), waiting for an
    // append that holds one rather than skipping it: that lane is waiting out a retry too. Only
    // the heads of the lanes woken get their retry time changed.
    text: `WITH waiting AS (
             SELECT destination_id, lane_key FROM lanes
             WHERE destination_id = $1 AND leased_by IS NULL AND pending > 0 AND next_run_at > $2
             ORDER BY destination_id COLLATE "C", lane_key COLLATE "C"
             FOR UPDATE
           ), woken AS (
             UPDATE lanes SET next_run_at = $2
             FROM waiting
             WHERE lanes.destination_id = waiting.destination_id AND lanes.lane_key = waiting.lane_key
               AND lanes.leased_by IS NULL AND lanes.next_run_at > $2
             RETURNING lanes.destination_id, lanes.lane_key
           ), heads AS (
             UPDATE events SET next_attempt_at = $2
             FROM woken
             WHERE events.destination_id = woken.destination_id AND events.lane_key = woken.lane_key
               AND events.status = 'retrying' AND events.next_attempt_at > $2
             RETURNING events.id
           )
           SELECT (SELECT count(*) FROM woken)::int AS lanes, (SELECT count(*) FROM heads)::int AS heads`,
    values: [pgText(destinationId), ctx.clock.now()],
  });
  const woken = rows[0]?.lanes ?? 0;
  if (woken > 0) ctx.announce();
  return woken;
}

function laneId(destinationId: string, laneKey: string): string {
  return JSON.stringify([destinationId, laneKey]);
}

export function onWorkAvailable(ctx: PostgresStoreContext, listener: () => void): () => void {
  return ctx.subscribe(listener);
}
