import type { Statement } from 'better-sqlite3';
import type { BacklogCache } from '../sql/backlog-cache.ts';
import type { SettingsSeal } from '../settings-seal.ts';
import type { Clock } from '../store.ts';
import type { WriteChannel } from './write-channel.ts';

/**
 * What an operation of the SQLite store runs with on the main thread: the main connection for
 * reads (WAL: never blocked by the writer), the write channel for everything else, and the
 * store's clock, backlog cache and wake-ups. Each file of this folder is one group of operations;
 * its writes, run by the writer, are in writes/ under the same name (composed in writes.ts).
 */
export interface SqliteStoreContext {
  /** A statement on the main connection, prepared once. */
  read(sql: string): Statement;
  /** Where writes go; they resolve once group-committed with synchronous=FULL. */
  readonly write: WriteChannel;
  readonly clock: Clock;
  /** Seals secret settings on their way in and opens them on their way out. */
  readonly seal: SettingsSeal;
  /** The database file (`:memory:` for none). */
  readonly path: string;
  readonly backlogCache: BacklogCache;
  /** Events may have become due: tell this process's workers. */
  notify(): void;
  /** Hear notify(); returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}
