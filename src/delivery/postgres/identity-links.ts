import { queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/**
 * anonymousId → userId ties (SPEC.md §0), per destination, shared by every worker. Reads and
 * writes go through the store's statement groups (identity-batches.ts): the lookups and ties of
 * the lanes in flight at one moment share a statement.
 */

export function linkIdentity(ctx: PostgresStoreContext, destinationId: string, anonymousId: string, userId: string): Promise<void> {
  return ctx.identityWrites.submit({ destinationId, anonymousId, userId });
}

export function linkedUserId(ctx: PostgresStoreContext, destinationId: string, anonymousId: string): Promise<string | null> {
  return ctx.identityReads.submit({ destinationId, anonymousId });
}

export async function forgetIdentities(ctx: PostgresStoreContext, destinationId: string, userId: string): Promise<number> {
  const { rowCount } = await queryRetrying(ctx.pool, {
    name: 'sd-forget-identities',
    text: 'DELETE FROM identity_links WHERE destination_id = $1 AND user_id = $2',
    values: [destinationId, userId],
  });
  return rowCount ?? 0;
}
