import type { Database } from 'better-sqlite3';

/** Write keys' writes (hashes only). */

export function writeKeyWrites(db: Database) {
  const destinationExists = db.prepare('SELECT 1 FROM destinations WHERE id = ?');
  const insert = db.prepare('INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES (?, ?, ?, ?, ?)');
  const insertUnlessKnown = db.prepare(
    `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key_hash) DO NOTHING`,
  );
  const revoke = db.prepare('UPDATE write_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const requireDestination = (id: string): void => {
    if (!destinationExists.get(id)) throw new Error(`no destination with id ${JSON.stringify(id)}`);
  };
  return {
    insertWriteKey(id: string, hash: string, destinationId: string, label: string, now: number): void {
      requireDestination(destinationId);
      insert.run(id, hash, destinationId, label, now);
    },

    /** An existing key (same hash) is left as it is: a key revoked in the console stays revoked. */
    importWriteKey(id: string, hash: string, destinationId: string, label: string, now: number): void {
      requireDestination(destinationId);
      insertUnlessKnown.run(id, hash, destinationId, label, now);
    },

    revokeWriteKey(id: string, now: number): boolean {
      return revoke.run(now, id).changes > 0;
    },
  };
}
