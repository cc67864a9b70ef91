import { queryRetrying } from './connection.ts';
import type { IdentityKey, PostgresStoreContext } from './context.ts';

/** The statements behind identity-links.ts: many lookups or many ties at once. */

function keyOf(key: IdentityKey): string {
  return JSON.stringify([key.destinationId, key.anonymousId]);
}

export async function readLinks(ctx: Pick<PostgresStoreContext, 'pool'>, keys: IdentityKey[]): Promise<Array<string | null>> {
  const { rows } = await queryRetrying<{ destination_id: string; anonymous_id: string; user_id: string }>(ctx.pool, {
    name: 'sd-linked-user-ids',
    text: `SELECT l.destination_id, l.anonymous_id, l.user_id FROM identity_links l
           JOIN unnest($1::text[], $2::text[]) AS k(d, a) ON l.destination_id = k.d AND l.anonymous_id = k.a`,
    values: [keys.map((k) => k.destinationId), keys.map((k) => k.anonymousId)],
  });
  const found = new Map(rows.map((r) => [keyOf({ destinationId: r.destination_id, anonymousId: r.anonymous_id }), r.user_id]));
  return keys.map((k) => found.get(keyOf(k)) ?? null);
}

export async function writeLinks(ctx: Pick<PostgresStoreContext, 'pool' | 'clock'>, links: Array<IdentityKey & { userId: string }>): Promise<void[]> {
  // One row may change once per statement: the latest tie of an anonymousId wins, as it would
  // have one statement after the other. Rows are written in key order, so two groups never
  // deadlock on each other's rows.
  const latest = new Map(links.map((l) => [keyOf(l), l]));
  const rows = [...latest.values()].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  await queryRetrying(ctx.pool, {
    name: 'sd-link-identities',
    text: `INSERT INTO identity_links (destination_id, anonymous_id, user_id, linked_at)
           SELECT d, a, u, $4 FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(d, a, u, ord) ORDER BY ord
           ON CONFLICT (destination_id, anonymous_id) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at`,
    values: [rows.map((l) => l.destinationId), rows.map((l) => l.anonymousId), rows.map((l) => l.userId), ctx.clock.now()],
  });
  return links.map(() => undefined);
}
