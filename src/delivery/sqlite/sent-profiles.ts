import type { SentProfileRecord } from '../sent-profile-store.ts';
import type { SqliteStoreContext } from './context.ts';

/** What the last identify delivered per user (sent-profile-store.ts). */

export async function lastSentProfile(ctx: SqliteStoreContext, destinationId: string, extid: string): Promise<SentProfileRecord | null> {
  const row = ctx
    .read('SELECT payload_hash AS hash, settings_version AS settingsVersion, sent_at AS sentAt FROM sent_profiles WHERE destination_id = ? AND extid = ?')
    .get(destinationId, extid) as SentProfileRecord | undefined;
  return row ?? null;
}

export async function recordSentProfile(ctx: SqliteStoreContext, destinationId: string, extid: string, record: SentProfileRecord): Promise<void> {
  await ctx.write.call('recordSentProfile', destinationId, extid, record.hash, record.settingsVersion, record.sentAt);
}

export function forgetSentProfiles(ctx: SqliteStoreContext, destinationId: string, extids: string[]): Promise<number> {
  return ctx.write.call('forgetSentProfiles', destinationId, extids);
}

export function forgetSentProfilesOfUser(ctx: SqliteStoreContext, destinationId: string, extid: string): Promise<number> {
  return ctx.write.call('forgetSentProfilesOfUser', destinationId, extid);
}
