import type { LaneSettlement, LaneSettleResult, SettleInput, SettleResult } from '../store.ts';
import type { PostgresStoreContext } from './context.ts';

/** Settles go through the store's statement group: those waiting together share one statement (settle-lanes.ts). */

export function settleLane(ctx: PostgresStoreContext, input: LaneSettlement): Promise<LaneSettleResult> {
  return ctx.settles.submit(input);
}

export async function settle(ctx: PostgresStoreContext, input: SettleInput): Promise<SettleResult> {
  const { workerId, ...head } = input;
  const result = await settleLane(ctx, { lane: input.event, workerId, heads: [head], then: 'keep' });
  return { applied: result.applied[0] ?? false };
}
