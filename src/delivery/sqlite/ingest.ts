import type { AppendResult, IngestBatch } from '../ingest.ts';
import { promiseFrom } from '../promise-from.ts';
import { batchColumns } from '../sql/append-rows.ts';
import type { SqliteStoreContext } from './context.ts';
import type { AppendRows } from './writes/append.ts';

/** What ingest asks of the store: append a batch durably (group-committed), and how far behind delivery is. */

/**
 * Not async on purpose: the batch and its rows are only reachable until they are handed to the
 * writer, not while the commit is awaited (an async function keeps its whole frame alive across
 * an await), so under full ingest they die young instead of being promoted.
 */
export function append(ctx: SqliteStoreContext, batch: IngestBatch): Promise<AppendResult> {
  return appended(ctx, promiseFrom(() => ctx.write.call('append', appendRowsOf(ctx, batch))));
}

function appendRowsOf(ctx: SqliteStoreContext, batch: IngestBatch): AppendRows {
  const { accepted, rejected } = batchColumns(batch);
  return { destinationId: batch.destinationId, receivedAt: batch.receivedAt.getTime(), now: ctx.clock.now(), accepted, rejected };
}

async function appended(ctx: SqliteStoreContext, writing: Promise<AppendResult>): Promise<AppendResult> {
  const result = await writing;
  if (result.stored > 0) {
    ctx.backlogCache.stored(result.stored);
    ctx.notify();
  }
  return result;
}

/** Events not yet settled, across all destinations (cached briefly: asked on every ingest request). */
export function backlog(ctx: SqliteStoreContext): Promise<number> {
  return ctx.backlogCache.get(() => (ctx.read('SELECT coalesce(sum(pending), 0) AS n FROM lanes WHERE pending > 0').get() as { n: number }).n);
}
