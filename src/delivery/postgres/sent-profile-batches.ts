import type { SentProfileRecord } from '../sent-profile-store.ts';
import { queryRetrying } from './connection.ts';
import type { PostgresStoreContext, SentProfileKey } from './context.ts';

/** The statements behind sent-profiles.ts: many lookups or many records at once. */

function keyOf(key: SentProfileKey): string {
  return JSON.stringify([key.destinationId, key.extid]);
}

/** Many lookups in one statement. */
export async function readSentProfiles(ctx: Pick<PostgresStoreContext, 'pool'>, keys: SentProfileKey[]): Promise<Array<SentProfileRecord | null>> {
  const { rows } = await queryRetrying<{ destination_id: string; extid: string; hash: string; settings_version: string | number; sent_at: string | number }>(ctx.pool, {
    name: 'sd-last-sent-profiles',
    text: `SELECT s.destination_id, s.extid, s.payload_hash AS hash, s.settings_version, s.sent_at FROM sent_profiles s
           JOIN unnest($1::text[], $2::text[]) AS k(d, e) ON s.destination_id = k.d AND s.extid = k.e`,
    values: [keys.map((k) => k.destinationId), keys.map((k) => k.extid)],
  });
  // BIGINT arrives as text.
  const found = new Map(
    rows.map((r) => [keyOf({ destinationId: r.destination_id, extid: r.extid }), { hash: r.hash, settingsVersion: Number(r.settings_version), sentAt: Number(r.sent_at) }]),
  );
  return keys.map((k) => found.get(keyOf(k)) ?? null);
}

/** Many records in one statement: of several for one user, the last submitted wins, as it would one statement after the other. */
export async function writeSentProfiles(ctx: Pick<PostgresStoreContext, 'pool'>, writes: Array<SentProfileKey & { record: SentProfileRecord }>): Promise<void[]> {
  // One row may change once per statement; rows go in key order, so two groups never deadlock.
  const latest = new Map(writes.map((w) => [keyOf(w), w]));
  const rows = [...latest.values()].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  await queryRetrying(ctx.pool, {
    name: 'sd-record-sent-profiles',
    text: `INSERT INTO sent_profiles (destination_id, extid, payload_hash, settings_version, sent_at)
           SELECT d, e, h, v, s FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS x(d, e, h, v, s, ord) ORDER BY ord
           ON CONFLICT (destination_id, extid) DO UPDATE SET payload_hash = excluded.payload_hash, settings_version = excluded.settings_version, sent_at = excluded.sent_at`,
    values: [rows.map((w) => w.destinationId), rows.map((w) => w.extid), rows.map((w) => w.record.hash), rows.map((w) => w.record.settingsVersion), rows.map((w) => w.record.sentAt)],
  });
  return writes.map(() => undefined);
}

/**
 * Many forgets in one statement. Each is answered with how many of its users were remembered;
 * two forgets of one user in one group both count it (one after the other, the second would
 * find nothing): nothing reads the count but tests and logs.
 */
export async function deleteSentProfiles(ctx: Pick<PostgresStoreContext, 'pool'>, forgets: Array<{ destinationId: string; extids: string[] }>): Promise<number[]> {
  const keys = [...new Map(forgets.flatMap((f) => f.extids.map((extid) => [keyOf({ destinationId: f.destinationId, extid }), { destinationId: f.destinationId, extid }] as const))).values()];
  const { rows } = await queryRetrying<{ destination_id: string; extid: string }>(ctx.pool, {
    name: 'sd-forget-sent-profiles-many',
    text: `DELETE FROM sent_profiles s USING unnest($1::text[], $2::text[]) AS k(d, e)
           WHERE s.destination_id = k.d AND s.extid = k.e
           RETURNING s.destination_id, s.extid`,
    values: [keys.map((k) => k.destinationId), keys.map((k) => k.extid)],
  });
  const gone = new Set(rows.map((r) => keyOf({ destinationId: r.destination_id, extid: r.extid })));
  return forgets.map((f) => [...new Set(f.extids)].filter((extid) => gone.has(keyOf({ destinationId: f.destinationId, extid }))).length);
}
