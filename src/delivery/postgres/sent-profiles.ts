import type { SentProfileRecord } from '../sent-profile-store.ts';
import type { PostgresStoreContext } from './context.ts';
import { pgText, queryRetrying } from './connection.ts';

/**
 * What the last identify delivered per user (sent-profile-store.ts), shared by every worker.
 * Reads, writes and forgets go through the store's statement groups (as identity ties do): an identify
 * reads its user's record and a delivered one writes it, so one statement each per event was
 * the most frequent statement of a worker (bench/README.md, issue 22); the lanes in flight at
 * one moment now share one (sent-profile-batches.ts). Ids as the columns hold them (pgText: a
 * U+0000 becomes U+FFFD), written and read alike: PostgreSQL refuses the NUL, and the identify
 * that wrote it failed at every attempt.
 */

export function lastSentProfile(ctx: PostgresStoreContext, destinationId: string, extid: string): Promise<SentProfileRecord | null> {
  return ctx.sentProfileReads.submit({ destinationId: pgText(destinationId), extid: pgText(extid) });
}

export function recordSentProfile(ctx: PostgresStoreContext, destinationId: string, extid: string, record: SentProfileRecord): Promise<void> {
  // An address's row keeps who posted it last (an extid) where others keep a hash.
  return ctx.sentProfileWrites.submit({ destinationId: pgText(destinationId), extid: pgText(extid), record: { ...record, hash: pgText(record.hash) } });
}

export async function forgetSentProfiles(ctx: PostgresStoreContext, destinationId: string, extids: string[]): Promise<number> {
  if (extids.length === 0) return 0;
  return ctx.sentProfileForgets.submit({ destinationId: pgText(destinationId), extids: extids.map(pgText) });
}

/**
 * A deleted user (sent-profile-store.ts): one statement, not grouped (deletions are rare). The
 * LIKE term is the partial index's own, so the planner can search sent_profiles_email_claims.
 */
export async function forgetSentProfilesOfUser(ctx: PostgresStoreContext, destinationId: string, extid: string): Promise<number> {
  const { rowCount } = await queryRetrying(ctx.pool, {
    name: 'sd-forget-sent-profiles-of-user',
    text: `DELETE FROM sent_profiles WHERE destination_id = $1 AND (extid = $2 OR (payload_hash = $2 AND extid LIKE 'email-sha256:%'))`,
    values: [pgText(destinationId), pgText(extid)],
  });
  return rowCount ?? 0;
}
