import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';

/**
 * Opens a connection to the store's database. WAL lets the main thread read while the writer
 * commits; synchronous=FULL makes every commit durable (the WAL fsynced) before ingest answers.
 */
export function openSqliteConnection(path: string): Database {
  const db = new BetterSqlite3(path);
  // SQLite quietly opens a file it may not write read-only: every append would then fail.
  if (db.readonly && path !== ':memory:') {
    db.close();
    throw Object.assign(new Error('attempt to write a readonly database (the file is read-only to this process)'), { code: 'SQLITE_READONLY' });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // A bigger WAL between checkpoints copies each hot index page once per checkpoint rather than
  // once per commit: random-key indexes dirty a page per event.
  db.pragma('wal_autocheckpoint = 20000');
  // better-sqlite3 builds SQLite with a 16 MiB page cache per connection (SQLite's own default is
  // 2 MiB), and each connection fills it: the writer's during the fill, the reader's over a
  // long drain. The pages beyond it are in the OS's page cache, one read away (bench/README.md,
  // memory).
  db.pragma(`cache_size = -${CACHE_KIB}`);
  return db;
}

/** Each connection's page cache, KiB (the pragma's negative form). */
export const CACHE_KIB = 4096;

export interface SqliteDurability {
  journalMode: string;
  /** 2 = FULL */
  synchronous: number;
  /** The page cache, as the pragma reads: negative is KiB (memory, not durability, but per connection too). */
  cacheSize: number;
}

export function durabilityOf(db: Database): SqliteDurability {
  return {
    journalMode: String(db.pragma('journal_mode', { simple: true })),
    synchronous: Number(db.pragma('synchronous', { simple: true })),
    cacheSize: Number(db.pragma('cache_size', { simple: true })),
  };
}
