import { eventColumns, TEXT_JSON_ROWS, type EventRow } from '../sql/rows.ts';
import { UNSETTLED } from '../sql/event-query.ts';
import type { EarlierUnsettled, LaneLease, LaneRef, QueuedEvent } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';
import { laneWindow } from './event-select.ts';

/** The lane queue: claiming due lanes under a lease, the head of a lane, renewing and releasing. */

export async function claimLanes(ctx: SqliteStoreContext, workerId: string, limit: number, leaseMs: number, window = 1): Promise<LaneLease[]> {
  const now = ctx.clock.now();
  const until = now + leaseMs;
  const rows = await ctx.write.call('claimLanes', workerId, limit, until, now);
  // Read after the claim's commit (WAL readers see it); no other worker touches a leased lane.
  return rows.map((r) => ({ ...r, leaseUntil: new Date(until), events: laneWindow(ctx, r, window) }));
}

/** The head of a lane (exported for the index test, test/delivery/sqlite-indexes.test.ts). */
export const HEAD = `SELECT ${eventColumns()} FROM events WHERE id = (
  SELECT min(id) FROM events WHERE lane_key = @laneKey AND destination_id = @destinationId AND ${UNSETTLED})`;

export async function head(ctx: SqliteStoreContext, lane: LaneRef): Promise<QueuedEvent | null> {
  const row = ctx.read(HEAD).get({ destinationId: lane.destinationId, laneKey: lane.laneKey }) as EventRow<string> | undefined;
  return row ? (TEXT_JSON_ROWS.event(row) as QueuedEvent) : null;
}

export async function renewLeases(ctx: SqliteStoreContext, workerId: string, lanes: LaneRef[], leaseMs: number): Promise<LaneRef[]> {
  if (lanes.length === 0) return [];
  const refs = lanes.map((l) => ({ destinationId: l.destinationId, laneKey: l.laneKey }));
  return ctx.write.call('renewLeases', workerId, refs, ctx.clock.now() + leaseMs);
}

export async function releaseLane(ctx: SqliteStoreContext, workerId: string, lane: LaneRef): Promise<void> {
  const ref = { destinationId: lane.destinationId, laneKey: lane.laneKey };
  if (await ctx.write.call('releaseLane', workerId, ref, ctx.clock.now())) ctx.notify();
}

// One range of the lane index (lane_key, destination_id, status, id) per unsettled status.
export const EARLIER = `SELECT count(*) AS n, min(id) AS oldest FROM events
  WHERE lane_key = @laneKey AND destination_id = @destinationId AND ${UNSETTLED} AND id < @beforeId`;

export async function earlierUnsettled(ctx: SqliteStoreContext, destinationId: string, laneKeys: string[], beforeId: number): Promise<EarlierUnsettled[]> {
  const out: EarlierUnsettled[] = [];
  for (const laneKey of new Set(laneKeys)) {
    const row = ctx.read(EARLIER).get({ destinationId, laneKey, beforeId }) as { n: number; oldest: number | null };
    if (row.n > 0 && row.oldest !== null) out.push({ laneKey, count: row.n, oldestId: row.oldest });
  }
  return out;
}

/** No notify: the lane is not due now (the worker that deferred it wakes itself at dueAt). */
export async function deferLane(ctx: SqliteStoreContext, workerId: string, lane: LaneRef, dueAt: number): Promise<void> {
  await ctx.write.call('deferLane', workerId, { destinationId: lane.destinationId, laneKey: lane.laneKey }, dueAt);
}

export async function wakeRetryingLanes(ctx: SqliteStoreContext, destinationId: string): Promise<number> {
  const woken = await ctx.write.call('wakeRetryingLanes', destinationId, ctx.clock.now());
  if (woken > 0) ctx.notify();
  return woken;
}

export function onWorkAvailable(ctx: SqliteStoreContext, listener: () => void): () => void {
  return ctx.subscribe(listener);
}
