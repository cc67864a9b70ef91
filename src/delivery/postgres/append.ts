import type { Pool, PoolClient } from 'pg';
import type { AppendResult, IngestBatch } from '../ingest.ts';
import { batchRows, rejectedOutcome, type AcceptedRow, type RejectedRow } from '../sql/append-rows.ts';
import type { Clock } from '../store.ts';
import { inTransaction, pgText } from './connection.ts';

interface QueuedAppend {
  batch: IngestBatch;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** Events per grouped transaction; more waits for the next group. */
const MAX_GROUP_EVENTS = 20_000;

/**
 * Group commit of ingest batches: while one transaction is on its way, the batches that arrive
 * gather and go together in the next, as one multi-row INSERT (unnest) with ON CONFLICT DO
 * NOTHING for the dedupe, then one upsert of the lanes they touch. One transaction at a time per
 * process also keeps ids in call order, so concurrent requests for one user queue in the order
 * they were handed in. Each caller's promise settles after the commit; if a group fails, its
 * batches are tried one by one so a bad batch fails alone.
 */
export class PgAppendQueue {
  /** Transactions committed so far (tests and benchmarks check that commits are shared). */
  commits = 0;
  private queue: QueuedAppend[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly clock: Clock,
    /** Called after each commit that stored events, before the callers hear of it. */
    private readonly afterCommit: (stored: number) => void,
  ) {}

  append(batch: IngestBatch): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('the event store is closed'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      // Give the requests of this turn of the event loop a chance to join the first group.
      if (!this.draining) this.draining = new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
    });
  }

  /** Commits what is queued, then refuses more. */
  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group: QueuedAppend[] = [];
        let events = 0;
        while (this.queue.length > 0 && (group.length === 0 || events + sizeOf(this.queue[0]!.batch) <= MAX_GROUP_EVENTS)) {
          const next = this.queue.shift()!;
          events += sizeOf(next.batch);
          group.push(next);
        }
        await this.commitGroup(group);
      }
    } finally {
      this.draining = null;
    }
  }

  private async commitGroup(group: QueuedAppend[]): Promise<void> {
    try {
      const results = await inTransaction(this.pool, (client) => this.write(client, group.map((g) => g.batch)));
      this.commits++;
      this.settleGroup(group, results);
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      for (const one of group) await this.commitGroup([one]);
    }
  }

  private settleGroup(group: QueuedAppend[], results: AppendResult[]): void {
    const stored = results.reduce((sum, r) => sum + r.stored, 0);
    if (stored > 0) this.afterCommit(stored);
    group.forEach((g, i) => g.resolve(results[i]!));
  }

  private async write(client: PoolClient, batches: IngestBatch[]): Promise<AppendResult[]> {
    const now = this.clock.now();
    const rows = new EventRows();
    /** Per batch, the row index of each accepted event with a lane. */
    const acceptedRows: number[][] = [];
    for (const batch of batches) {
      const receivedAt = batch.receivedAt.getTime();
      const { accepted, rejected } = batchRows(batch);
      acceptedRows.push(accepted.map((row) => rows.addAccepted(batch.destinationId, row, receivedAt)));
      for (const row of rejected) rows.addRejected(batch.destinationId, row, receivedAt);
    }
    if (rows.length === 0) return batches.map(() => ({ stored: 0, duplicates: 0 }));

    const inserted = await client.query<{ destination_id: string; message_id: string | null; status: string }>({
      name: 'sd-append-events',
      text: `INSERT INTO events (destination_id, lane_key, message_id, type, event_name, payload, status, last_error,
                                received_at, updated_at, settled_at, outcome, anonymous_id)
             SELECT d, l, m, t, n, p::json, s, e, r, $11, CASE WHEN s = 'rejected' THEN r END, o::json, a
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::bigint[], $10::text[], $12::text[]) WITH ORDINALITY AS x(d, l, m, t, n, p, s, e, r, o, a, ord)
             ORDER BY ord
             ON CONFLICT DO NOTHING
             RETURNING destination_id, message_id, status`,
      values: [...rows.columns(), now, rows.anonymousIds()],
    });
    // RETURNING cannot name the source row; (destination, messageId) is unique among stored
    // accepted rows, and the first occurrence in the group is the one that went in.
    const storedKeys = new Set<string>();
    for (const row of inserted.rows) {
      if (row.status !== 'rejected') storedKeys.add(dedupeKey(row.destination_id, row.message_id));
    }
    const claimed = new Set<string>();
    const laneCounts = new Map<string, { destinationId: string; laneKey: string; count: number }>();
    const results = acceptedRows.map((indexes) => {
      let stored = 0;
      let duplicates = 0;
      for (const index of indexes) {
        const key = rows.dedupeKeyAt(index);
        if (storedKeys.has(key) && !claimed.has(key)) {
          claimed.add(key);
          stored++;
          const { destinationId, laneKey } = rows.laneAt(index);
          const laneId = dedupeKey(destinationId, laneKey);
          const lane = laneCounts.get(laneId) ?? { destinationId, laneKey, count: 0 };
          lane.count++;
          laneCounts.set(laneId, lane);
        } else {
          duplicates++;
        }
      }
      return { stored, duplicates };
    });

    if (laneCounts.size > 0) {
      const lanes = [...laneCounts.values()];
      await client.query({
        name: 'sd-append-lanes',
        // A lane that was empty becomes due now, unless a live lease holds it (its worker either
        // sees the new events or releases the lane, which makes it due). Rows are locked in one
        // fixed order everywhere, so two appends never deadlock on each other's lanes.
        text: `INSERT INTO lanes (destination_id, lane_key, pending, next_run_at)
               SELECT d, l, c, $4 FROM unnest($1::text[], $2::text[], $3::int[]) AS x(d, l, c)
               ORDER BY d COLLATE "C", l COLLATE "C"
               ON CONFLICT (destination_id, lane_key) DO UPDATE SET
                 pending = lanes.pending + excluded.pending,
                 next_run_at = CASE WHEN lanes.pending = 0 AND (lanes.leased_by IS NULL OR lanes.lease_until <= $4)
                                    THEN $4 ELSE lanes.next_run_at END`,
        values: [lanes.map((l) => l.destinationId), lanes.map((l) => l.laneKey), lanes.map((l) => l.count), now],
      });
    }
    return results;
  }
}

function sizeOf(batch: IngestBatch): number {
  return batch.accepted.length + batch.rejected.length;
}

function dedupeKey(destinationId: string, key: string | null): string {
  return JSON.stringify([destinationId, key]);
}

/** Column arrays for one unnest INSERT. */
class EventRows {
  private readonly destination: string[] = [];
  private readonly lane: Array<string | null> = [];
  private readonly message: Array<string | null> = [];
  private readonly type: Array<string | null> = [];
  private readonly name: Array<string | null> = [];
  private readonly payload: string[] = [];
  private readonly status: string[] = [];
  private readonly error: Array<string | null> = [];
  private readonly received: number[] = [];
  private readonly outcome: Array<string | null> = [];
  private readonly anonymous: Array<string | null> = [];

  get length(): number {
    return this.destination.length;
  }

  addAccepted(destinationId: string, row: AcceptedRow, receivedAt: number): number {
    this.anonymous.push(pgText(row.anonymousId));
    return this.push(destinationId, row.laneKey, row.messageId, row.type, row.eventName, row.payload, 'pending', null, receivedAt, null);
  }

  addRejected(destinationId: string, row: RejectedRow, receivedAt: number): void {
    const outcome = JSON.stringify(rejectedOutcome(row.reason));
    this.anonymous.push(pgText(row.anonymousId));
    this.push(destinationId, row.laneKey, row.messageId, row.type, row.eventName, row.payload, 'rejected', row.reason, receivedAt, outcome);
  }

  dedupeKeyAt(index: number): string {
    return dedupeKey(this.destination[index]!, this.message[index]!);
  }

  laneAt(index: number): { destinationId: string; laneKey: string } {
    return { destinationId: this.destination[index]!, laneKey: this.lane[index]! };
  }

  /** $12: kept apart from columns() so the prepared statement's first parameters stay as they were. */
  anonymousIds(): Array<string | null> {
    return this.anonymous;
  }

  columns(): unknown[] {
    return [this.destination, this.lane, this.message, this.type, this.name, this.payload, this.status, this.error, this.received, this.outcome];
  }

  private push(
    destinationId: string,
    laneKey: string | null,
    messageId: string | null,
    type: string | null,
    eventName: string | null,
    payload: string,
    status: string,
    error: string | null,
    receivedAt: number,
    outcome: string | null,
  ): number {
    this.destination.push(pgText(destinationId));
    this.lane.push(pgText(laneKey));
    this.message.push(pgText(messageId));
    this.type.push(pgText(type));
    this.name.push(pgText(eventName));
    this.payload.push(payload);
    this.status.push(status);
    this.error.push(pgText(error));
    this.received.push(receivedAt);
    this.outcome.push(outcome);
    return this.destination.length - 1;
  }
}
