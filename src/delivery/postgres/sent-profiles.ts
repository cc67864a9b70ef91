import type { SentProfileRecord } from '../sent-profile-store.ts';
import { queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** What the last identify delivered per user (sent-profile-store.ts), shared by every worker. */

export async function lastSentProfile(ctx: PostgresStoreContext, destinationId: string, extid: string): Promise<SentProfileRecord | null> {
  const { rows } = await queryRetrying<{ hash: string; settingsVersion: string | number; sentAt: string | number }>(ctx.pool, {
    name: 'sd-last-sent-profile',
    text: 'SELECT payload_hash AS hash, settings_version AS "settingsVersion", sent_at AS "sentAt" FROM sent_profiles WHERE destination_id = $1 AND extid = $2',
    values: [destinationId, extid],
  });
  const row = rows[0];
  // BIGINT arrives as text.
  return row ? { hash: row.hash, settingsVersion: Number(row.settingsVersion), sentAt: Number(row.sentAt) } : null;
}

export async function recordSentProfile(ctx: PostgresStoreContext, destinationId: string, extid: string, record: SentProfileRecord): Promise<void> {
  await queryRetrying(ctx.pool, {
    name: 'sd-record-sent-profile',
    text: `INSERT INTO sent_profiles (destination_id, extid, payload_hash, settings_version, sent_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (destination_id, extid) DO UPDATE SET payload_hash = excluded.payload_hash, settings_version = excluded.settings_version, sent_at = excluded.sent_at`,
    values: [destinationId, extid, record.hash, record.settingsVersion, record.sentAt],
  });
}

export async function forgetSentProfiles(ctx: PostgresStoreContext, destinationId: string, extids: string[]): Promise<number> {
  if (extids.length === 0) return 0;
  const { rowCount } = await queryRetrying(ctx.pool, {
    name: 'sd-forget-sent-profiles',
    text: 'DELETE FROM sent_profiles WHERE destination_id = $1 AND extid = ANY($2::text[])',
    values: [destinationId, extids],
  });
  return rowCount ?? 0;
}
