import type { Database } from 'better-sqlite3';

/** anonymousId → userId ties' writes (SPEC.md §0). */

export function identityLinkWrites(db: Database) {
  const upsert = db.prepare(
    `INSERT INTO identity_links (destination_id, anonymous_id, user_id, linked_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (destination_id, anonymous_id) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at`,
  );
  const forget = db.prepare('DELETE FROM identity_links WHERE destination_id = ? AND user_id = ?');
  return {
    linkIdentity(destinationId: string, anonymousId: string, userId: string, now: number): void {
      upsert.run(destinationId, anonymousId, userId, now);
    },

    forgetIdentities(destinationId: string, userId: string): number {
      return forget.run(destinationId, userId).changes;
    },
  };
}
