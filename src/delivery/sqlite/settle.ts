import type { LaneSettlement, LaneSettleResult, SettleInput, SettleResult } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';
import { laneWindow } from './event-select.ts';

/** Settling the head of a lane (sql/settlement.ts says what each settlement writes). */

export async function settle(ctx: SqliteStoreContext, input: SettleInput): Promise<SettleResult> {
  const { applied, final } = await ctx.write.call('settle', {
    eventId: input.event.id,
    destinationId: input.event.destinationId,
    laneKey: input.event.laneKey,
    workerId: input.workerId,
    settlement: input.settlement,
    startedAt: input.attempt.startedAt.getTime(),
    durationMs: input.attempt.durationMs,
    calls: input.attempt.calls,
    warnings: input.attempt.warnings,
    now: ctx.clock.now(),
  });
  if (final) ctx.backlogCache.settled();
  return { applied };
}

/** A run of a lane's heads in one write; the next heads are read after its commit. */
export async function settleLane(ctx: SqliteStoreContext, input: LaneSettlement): Promise<LaneSettleResult> {
  const { applied, finals, released } = await ctx.write.call('settleLane', {
    destinationId: input.lane.destinationId,
    laneKey: input.lane.laneKey,
    workerId: input.workerId,
    heads: input.heads.map((h) => ({
      eventId: h.event.id,
      settlement: h.settlement,
      startedAt: h.attempt.startedAt.getTime(),
      durationMs: h.attempt.durationMs,
      calls: h.attempt.calls,
      warnings: h.attempt.warnings,
    })),
    then: input.then,
    now: ctx.clock.now(),
  });
  if (finals > 0) ctx.backlogCache.settled(finals);
  const last = input.heads[input.heads.length - 1]?.settlement.state;
  const final = last !== 'retrying' && last !== 'paused';
  if (released && final && input.then !== 'keep') ctx.notify();
  const next = !released && input.then === 'continue' ? laneWindow(ctx, input.lane, input.window ?? 1) : [];
  return { applied, next, released };
}
