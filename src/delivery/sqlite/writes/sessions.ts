import type { Database } from 'better-sqlite3';
import type { ConsoleSessionRecord } from '../../store.ts';

/** Console sessions' writes. */

export function sessionWrites(db: Database) {
  const deleteStale = db.prepare('DELETE FROM console_sessions WHERE last_seen < ?');
  const insert = db.prepare(
    `INSERT INTO console_sessions (id_hash, csrf, created_at, last_seen, state)
     VALUES (@idHash, @csrf, @createdAt, @lastSeen, @state)`,
  );
  const deleteBeyond = db.prepare(
    `DELETE FROM console_sessions WHERE id_hash IN
       (SELECT id_hash FROM console_sessions ORDER BY last_seen DESC, created_at DESC LIMIT -1 OFFSET ?)`,
  );
  const touch = db.prepare('UPDATE console_sessions SET last_seen = max(last_seen, @lastSeen) WHERE id_hash = @idHash');
  const updateState = db.prepare(
    `UPDATE console_sessions SET state = @state, last_seen = max(last_seen, @lastSeen)
     WHERE id_hash = @idHash AND state = @expected`,
  );
  const remove = db.prepare('DELETE FROM console_sessions WHERE id_hash = ?');
  return {
    createSession(record: ConsoleSessionRecord, staleBefore: number, keep: number): void {
      deleteStale.run(staleBefore);
      insert.run(record);
      deleteBeyond.run(keep);
    },

    touchSession(idHash: string, lastSeen: number): void {
      touch.run({ idHash, lastSeen });
    },

    updateSessionState(idHash: string, expected: string, state: string, lastSeen: number): boolean {
      return updateState.run({ idHash, expected, state, lastSeen }).changes > 0;
    },

    deleteSession(idHash: string): void {
      remove.run(idHash);
    },
  };
}
