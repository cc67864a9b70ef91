import type { Database } from 'better-sqlite3';
import { SQLITE_MIGRATIONS } from './schema.ts';

/**
 * Brings the schema to the newest version, in one immediate transaction. The store runs it on the
 * main connection before the writer starts, so the writer only ever sees the current schema.
 */
export function migrateSqlite(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  const apply = db.transaction(() => {
    for (let version = current + 1; version <= SQLITE_MIGRATIONS.length; version++) {
      db.exec(SQLITE_MIGRATIONS[version - 1]!);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
    }
  });
  apply.immediate();
}
