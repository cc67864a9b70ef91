import { queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** anonymousId → userId ties (SPEC.md §0), per destination, shared by every worker. */

export async function linkIdentity(ctx: PostgresStoreContext, destinationId: string, anonymousId: string, userId: string): Promise<void> {
  await queryRetrying(ctx.pool, {
    name: 'sd-link-identity',
    text: `INSERT INTO identity_links (destination_id, anonymous_id, user_id, linked_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (destination_id, anonymous_id) DO UPDATE SET user_id = excluded.user_id, linked_at = excluded.linked_at`,
    values: [destinationId, anonymousId, userId, ctx.clock.now()],
  });
}

export async function linkedUserId(ctx: PostgresStoreContext, destinationId: string, anonymousId: string): Promise<string | null> {
  const { rows } = await queryRetrying<{ userId: string }>(ctx.pool, {
    name: 'sd-linked-user-id',
    text: 'SELECT user_id AS "userId" FROM identity_links WHERE destination_id = $1 AND anonymous_id = $2',
    values: [destinationId, anonymousId],
  });
  return rows[0]?.userId ?? null;
}

export async function forgetIdentities(ctx: PostgresStoreContext, destinationId: string, userId: string): Promise<number> {
  const { rowCount } = await queryRetrying(ctx.pool, {
    name: 'sd-forget-identities',
    text: 'DELETE FROM identity_links WHERE destination_id = $1 AND user_id = $2',
    values: [destinationId, userId],
  });
  return rowCount ?? 0;
}
