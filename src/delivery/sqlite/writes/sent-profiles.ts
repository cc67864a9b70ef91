import type { Database } from 'better-sqlite3';

/** What the last identify delivered per user: its writes. */

export function sentProfileWrites(db: Database) {
  const upsert = db.prepare(
    `INSERT INTO sent_profiles (destination_id, extid, payload_hash, settings_version, sent_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (destination_id, extid) DO UPDATE SET payload_hash = excluded.payload_hash, settings_version = excluded.settings_version, sent_at = excluded.sent_at`,
  );
  const forget = db.prepare('DELETE FROM sent_profiles WHERE destination_id = ? AND extid = ?');
  // `extid LIKE 'email-sha256:%'` is the partial index's own term (migration 26), so the planner
  // searches sent_profiles_email_claims (test/delivery/sent-profiles-deletion.test.ts checks the plan).
  const forgetClaims = db.prepare("DELETE FROM sent_profiles WHERE destination_id = ? AND payload_hash = ? AND extid LIKE 'email-sha256:%'");
  return {
    recordSentProfile(destinationId: string, extid: string, hash: string, settingsVersion: number, sentAt: number): void {
      upsert.run(destinationId, extid, hash, settingsVersion, sentAt);
    },

    forgetSentProfiles(destinationId: string, extids: string[]): number {
      let forgotten = 0;
      for (const extid of extids) forgotten += forget.run(destinationId, extid).changes;
      return forgotten;
    },

    forgetSentProfilesOfUser(destinationId: string, extid: string): number {
      return forget.run(destinationId, extid).changes + forgetClaims.run(destinationId, extid).changes;
    },
  };
}
