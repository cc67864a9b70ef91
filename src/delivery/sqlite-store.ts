import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import { SettingsSeal } from './settings-seal.ts';
import { BacklogCache } from './sql/backlog-cache.ts';
import { openSqliteConnection, type SqliteDurability } from './sqlite/connection.ts';
import type { SqliteStoreContext } from './sqlite/context.ts';
import { migrateSqlite } from './sqlite/migrate.ts';
import * as operations from './sqlite/operations.ts';
import { InlineWriteChannel, ThreadWriteChannel, type WriteChannel } from './sqlite/write-channel.ts';
import { OperationStore, type StoreOperations } from './store-operations.ts';
import { systemClock, type Clock } from './store.ts';

export interface SqliteStoreOptions {
  /** File path (`:memory:` works but is not durable). */
  path: string;
  clock?: Clock;
  /** How secret settings are kept (default: as given; the service seals them under SECRETS_KEY). */
  seal?: SettingsSeal;
  /** Extra gathering time per group commit, ms; 0 = the next turn of the writer's event loop. */
  groupCommitDelayMs?: number;
  /** How long backlog() may serve a cached total, ms (it is asked on every ingest request). */
  backlogCacheMs?: number;
  /**
   * `thread` (default): writes run on a writer thread, so commits and fsyncs never block the
   * thread serving HTTP. `inline`: on the calling thread (always so for `:memory:`).
   */
  writer?: 'thread' | 'inline';
  /** The writer thread died (every write fails from then on); log it and restart the process. */
  onError?: (error: unknown) => void;
}

/** Opens (creating when needed) and migrates a SQLite event store. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteEventStore> {
  const store = new SqliteEventStore(options);
  await store.migrate();
  return store;
}

/**
 * The embedded event store. The main thread's connection reads (WAL: never blocked by the
 * writer); every write goes through one WriteChannel, group-committed with synchronous=FULL,
 * and resolves only once on disk. Times come from the injected clock on the calling side. The
 * operations are in sqlite/ (their writes in sqlite/writes/); this class opens and closes.
 */
export class SqliteEventStore extends OperationStore<SqliteStoreContext> {
  protected readonly ctx: SqliteStoreContext;
  private readonly db: Database;
  private channel: WriteChannel | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly statements = new Map<string, Statement>();
  private opening: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: SqliteStoreOptions) {
    super(operations satisfies StoreOperations<SqliteStoreContext>);
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = openSqliteConnection(options.path);
    const writeChannel = () => this.writeChannel();
    this.ctx = {
      clock: options.clock ?? systemClock,
      path: options.path,
      seal: options.seal ?? SettingsSeal.plaintext(),
      backlogCache: new BacklogCache(options.backlogCacheMs ?? 1000),
      // A getter: the channel starts with migrate(), and stops with close().
      get write() {
        return writeChannel();
      },
      read: (sql) => this.read(sql),
      notify: () => {
        for (const listener of this.listeners) listener();
      },
      subscribe: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
    };
  }

  migrate(): Promise<void> {
    this.opening ??= this.open();
    return this.opening;
  }

  private async open(): Promise<void> {
    migrateSqlite(this.db);
    const delay = this.options.groupCommitDelayMs ?? 0;
    const inline = this.options.writer === 'inline' || this.options.path === ':memory:';
    this.channel = inline
      ? new InlineWriteChannel(this.db, delay)
      : await ThreadWriteChannel.start({
          path: this.options.path,
          groupCommitDelayMs: delay,
          ...(this.options.onError ? { onError: this.options.onError } : {}),
        });
  }

  /** Group commits so far. */
  get commitCount(): number {
    return this.channel?.commits ?? 0;
  }

  /** The durability settings of the writing connection (synchronous: 2 = FULL). */
  pragmas(): SqliteDurability {
    return this.writeChannel().durability;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.opening?.catch(() => {});
    await this.channel?.close();
    this.db.close();
  }

  private writeChannel(): WriteChannel {
    if (this.closed) throw new Error('the event store is closed');
    if (!this.channel) throw new Error('the event store is not open yet: await migrate()');
    return this.channel;
  }

  /** Reads are prepared once each, on the main connection. */
  private read(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
