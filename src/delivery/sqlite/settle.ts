import type { SettleInput, SettleResult } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';

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
