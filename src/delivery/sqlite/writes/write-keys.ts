import type { Database } from 'better-sqlite3';

/** Write keys' writes (hashes only). */

export function writeKeyWrites(db: Database) {
  const destinationExists = db.prepare('SELECT 1 FROM destinations WHERE id = ?');
  const insert = db.prepare('INSERT INTO write_keys (id, key_hash, destination_id, label, created_at, key_prefix) VALUES (?, ?, ?, ?, ?, ?)');
  const insertUnlessKnown = db.prepare(
    `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at, key_prefix) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key_hash) DO UPDATE SET key_prefix = coalesce(write_keys.key_prefix, excluded.key_prefix)`,
  );
  const used = db.prepare('UPDATE write_keys SET last_used_at = ? WHERE key_hash = ? AND (last_used_at IS NULL OR last_used_at < ?)');
  const revoke = db.prepare('UPDATE write_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const requireDestination = (id: string): void => {
    if (!destinationExists.get(id)) throw new Error(`no destination with id ${JSON.stringify(id)}`);
  };
  return {
    insertWriteKey(id: string, hash: string, destinationId: string, label: string, now: number, prefix: string | null): void {
      requireDestination(destinationId);
      insert.run(id, hash, destinationId, label, now, prefix);
    },

    recordWriteKeyUse(hashes: string[], at: number): void {
      for (const hash of hashes) used.run(at, hash, at);
    },

    /** An existing key (same hash) is left as it is: a key revoked in the console stays revoked. */
    importWriteKey(id: string, hash: string, destinationId: string, label: string, now: number, prefix: string | null): void {
      requireDestination(destinationId);
      insertUnlessKnown.run(id, hash, destinationId, label, now, prefix);
    },

    revokeWriteKey(id: string, now: number): boolean {
      return revoke.run(now, id).changes > 0;
    },
  };
}
