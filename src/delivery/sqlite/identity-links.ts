import type { SqliteStoreContext } from './context.ts';

/** anonymousId → userId ties (SPEC.md §0), per destination. */

export async function linkIdentity(ctx: SqliteStoreContext, destinationId: string, anonymousId: string, userId: string): Promise<void> {
  await ctx.write.call('linkIdentity', destinationId, anonymousId, userId, ctx.clock.now());
}

export async function linkedUserId(ctx: SqliteStoreContext, destinationId: string, anonymousId: string): Promise<string | null> {
  const row = ctx.read('SELECT user_id AS userId FROM identity_links WHERE destination_id = ? AND anonymous_id = ?').get(destinationId, anonymousId) as
    | { userId: string }
    | undefined;
  return row?.userId ?? null;
}

export function forgetIdentities(ctx: SqliteStoreContext, destinationId: string, userId: string): Promise<number> {
  return ctx.write.call('forgetIdentities', destinationId, userId);
}
