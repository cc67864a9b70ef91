import type { Pool, QueryResultRow } from 'pg';
import { inTransaction } from './connection.ts';

/** One lane's settle statement, waiting for its group's transaction. */
interface QueuedSettle {
  /** (destination, lane) in the order appends lock lanes, so the two never deadlock. */
  order: string;
  query: { name: string; text: string; values: unknown[] };
  resolve: (row: QueryResultRow) => void;
  reject: (error: unknown) => void;
}

/** Statements per group transaction; more wait for the next. */
const MAX_GROUP = 256;

/**
 * Group commit of settles: while one transaction is on its way, the settles of other lanes that
 * arrive gather and go together in the next, so a worker with many lanes in flight commits once
 * for many events while each lane still waits for its own event's settle before delivering the
 * next (a crash can only send again what was in flight). Each settle is its own statement, in
 * lane order; if a group fails, its settles are tried one by one so a bad one fails alone.
 */
export class PgSettleGroup {
  /** Transactions committed so far (tests and benchmarks). */
  commits = 0;
  private queue: QueuedSettle[] = [];
  private draining: Promise<void> | null = null;

  constructor(private readonly pool: Pool) {}

  run(order: string, query: QueuedSettle['query']): Promise<QueryResultRow> {
    return new Promise<QueryResultRow>((resolve, reject) => {
      this.queue.push({ order, query, resolve, reject });
      // The settles of this turn of the event loop join the first group.
      if (!this.draining) this.draining = new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  /** Waits for the settles already handed over. */
  async close(): Promise<void> {
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, MAX_GROUP));
    } finally {
      this.draining = null;
    }
  }

  private async commit(group: QueuedSettle[]): Promise<void> {
    const sorted = [...group].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    try {
      const rows = await inTransaction(this.pool, async (client) => {
        const out: QueryResultRow[] = [];
        for (const settle of sorted) out.push((await client.query(settle.query)).rows[0]!);
        return out;
      });
      this.commits++;
      sorted.forEach((settle, i) => settle.resolve(rows[i]!));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const one of sorted) await this.commit([one]);
    }
  }
}
