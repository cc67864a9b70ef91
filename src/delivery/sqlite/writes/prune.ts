import type { Database } from 'better-sqlite3';
import type { EventStatus } from '../../store.ts';

/** Retention's deletes, on the writer. */

export function pruneWrites(db: Database) {
  const deleteIfStatus = db.prepare('DELETE FROM events WHERE id = ? AND status IN (SELECT value FROM json_each(?))');
  const deleteAttempts = db.prepare('DELETE FROM attempts WHERE event_id = ?');
  const deleteIdleLanes = db.prepare(
    `DELETE FROM lanes WHERE rowid IN (
       SELECT rowid FROM lanes WHERE pending = 0 AND (leased_by IS NULL OR lease_until <= ?) LIMIT ?)`,
  );
  return {
    /** Deletes those of `ids` still in one of `statuses`, with their attempts. */
    deleteEventsWithStatus(ids: number[], statuses: EventStatus[]): number {
      const list = JSON.stringify(statuses);
      let count = 0;
      for (const id of ids) {
        const changes = deleteIfStatus.run(id, list).changes;
        if (changes > 0) deleteAttempts.run(id);
        count += changes;
      }
      return count;
    },

    deleteIdleLanes(now: number, limit: number): number {
      return deleteIdleLanes.run(now, limit).changes;
    },
  };
}
