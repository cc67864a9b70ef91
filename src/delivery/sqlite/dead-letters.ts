import { WORK_BATCH } from '../sql/event-query.ts';
import type { DeadLetterSelector } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';
import { selectEvents } from './event-select.ts';

/** Dead letters (status `failed`) retried or dropped by an operator, in short batches. */

export async function retryDeadLetters(ctx: SqliteStoreContext, selector: DeadLetterSelector): Promise<number> {
  let total = 0;
  for (const ids of deadLetterBatches(ctx, selector)) {
    const retried = await ctx.write.call('retryDeadLetters', ids, ctx.clock.now());
    if (retried > 0) {
      ctx.backlogCache.forget();
      ctx.notify();
    }
    total += retried;
  }
  return total;
}

export async function dropDeadLetters(ctx: SqliteStoreContext, selector: DeadLetterSelector, droppedBy: string): Promise<number> {
  let total = 0;
  for (const ids of deadLetterBatches(ctx, selector)) total += await ctx.write.call('dropDeadLetters', ids, droppedBy, ctx.clock.now());
  return total;
}

/** The ids a selector covers, a batch at a time, oldest first (each batch read after the last was written). */
function* deadLetterBatches(ctx: SqliteStoreContext, selector: DeadLetterSelector): Generator<number[]> {
  if ('ids' in selector) {
    if (selector.ids.length > 0) yield selector.ids;
    return;
  }
  let afterId = 0;
  for (;;) {
    const ids = selectEvents(ctx, { ...selector.filter, status: 'failed' }, { afterId, limit: WORK_BATCH }).map((r) => r.id);
    if (ids.length === 0) return;
    yield ids;
    afterId = ids[ids.length - 1]!;
  }
}
