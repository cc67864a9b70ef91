/**
 * What the last identify delivered for each user, per destination (issue 19, docs/decisions.md
 * "Unchanged identifies"): a hash of its POST /user payload, never the payload (it holds PII), so
 * an identical identify within the destination's TTL is skipped, after restarts and across
 * PostgreSQL workers alike.
 */
export interface SentProfileRecord {
  /** SHA-256 of the payload's canonical JSON (src/destination/unchanged-profiles.ts). */
  hash: string;
  /** The destination settings version it was sent with: another version means "not sent". */
  settingsVersion: number;
  /** When Sailthru accepted it, epoch ms. */
  sentAt: number;
}

export interface SentProfileStore {
  lastSentProfile(destinationId: string, extid: string): Promise<SentProfileRecord | null>;
  /** Replaces what was remembered for the user. */
  recordSentProfile(destinationId: string, extid: string, record: SentProfileRecord): Promise<void>;
  /** The users were deleted or merged: their next identify is sent whatever it holds. Returns how many were remembered. */
  forgetSentProfiles(destinationId: string, extids: string[]): Promise<number>;
  /**
   * A deleted user: the row keyed by their extid and every row keyed by an address's hash whose
   * value names them as who last posted it (unchanged-profiles.ts, EMAIL_CLAIM_PREFIX), any
   * settings version. By index in both stores (`sent_profiles_email_claims`). Returns how many rows went.
   */
  forgetSentProfilesOfUser(destinationId: string, extid: string): Promise<number>;
}
