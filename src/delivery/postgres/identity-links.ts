import { pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/**
 * anonymousId → userId ties (SPEC.md §0), per destination, shared by every worker. Reads and
 * writes go through the store's statement groups (identity-batches.ts): the lookups and ties of
 * the lanes in flight at one moment share a statement. Ids as the columns hold them (pgText:
 * PostgreSQL refuses U+0000, and the identify that tied such an id failed at every attempt).
 */

export function linkIdentity(ctx: PostgresStoreContext, destinationId: string, anonymousId: string, userId: string): Promise<void> {
  return ctx.identityWrites.submit({ destinationId: pgText(destinationId), anonymousId: pgText(anonymousId), userId: pgText(userId) });
}

export function linkedUserId(ctx: PostgresStoreContext, destinationId: string, anonymousId: string): Promise<string | null> {
  return ctx.identityReads.submit({ destinationId: pgText(destinationId), anonymousId: pgText(anonymousId) });
}

export async function forgetIdentities(ctx: PostgresStoreContext, destinationId: string, userId: string): Promise<number> {
  const { rowCount } = await queryRetrying(ctx.pool, {
    name: 'sd-forget-identities',
    text: 'DELETE FROM identity_links WHERE destination_id = $1 AND user_id = $2',
    values: [pgText(destinationId), pgText(userId)],
  });
  return rowCount ?? 0;
}
