import type { Database } from 'better-sqlite3';

/** The readiness probe's write. */

export function probeWrites(db: Database) {
  // Matches no row, but as a write statement it needs the write lock, as an append does.
  const touch = db.prepare('UPDATE lanes SET pending = pending WHERE 0');
  return {
    probeWrite(): void {
      touch.run();
    },
  };
}
