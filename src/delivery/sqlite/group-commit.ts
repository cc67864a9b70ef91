import type { Database } from 'better-sqlite3';

interface QueuedWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one SQLite connection: writes queued while the event loop is busy (including
 * while the previous commit's fsync blocked it) run together in one transaction, one fsync for
 * all, and each caller's promise settles only after that commit. Each write runs in its own
 * savepoint, so one failing write rolls back alone and the others still commit.
 */
export class GroupCommit {
  /** Transactions committed so far (tests and benchmarks check that commits are shared). */
  commits = 0;
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private closed = false;
  private readonly inSavepoint: (write: () => unknown) => unknown;

  constructor(
    private readonly db: Database,
    /** 0: flush on the next turn of the event loop; more gathers a little longer per commit. */
    private readonly delayMs = 0,
    private readonly afterCommit: () => void = () => {},
  ) {
    // A better-sqlite3 transaction function called inside a transaction becomes a savepoint.
    this.inSavepoint = db.transaction((write: () => unknown) => write());
  }

  run<T>(write: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the event store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Commit whatever is queued now (also used by close). */
  flush(): void {
    this.scheduled = false;
    const writes = this.queue;
    if (writes.length === 0) return;
    this.queue = [];
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const { write } of writes) {
          try {
            results.push({ ok: true, value: this.inSavepoint(write) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      }).immediate();
      this.commits++;
    } catch (error) {
      // The commit itself failed: nothing of this group is durable.
      for (const w of writes) w.reject(error);
      return;
    }
    writes.forEach((w, i) => {
      const result = results[i]!;
      if (result.ok) w.resolve(result.value);
      else w.reject(result.error);
    });
    this.afterCommit();
  }

  close(): void {
    this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.delayMs > 0) setTimeout(() => this.flush(), this.delayMs);
    else setImmediate(() => this.flush());
  }
}
