import type { SqliteStoreContext } from './context.ts';

/** Wrong admin tokens by client address (src/server/admin-auth.ts owns the limit). */

export async function recordSignInFailure(ctx: SqliteStoreContext, client: string, at: number, forgetBefore: number): Promise<void> {
  await ctx.write.call('recordSignInFailure', client, at, forgetBefore);
}

export async function countSignInFailures(ctx: SqliteStoreContext, client: string, since: number): Promise<number> {
  return (ctx.read('SELECT count(*) AS n FROM sign_in_failures WHERE client = ? AND at >= ?').get(client, since) as { n: number }).n;
}

export async function clearSignInFailures(ctx: SqliteStoreContext, client: string): Promise<void> {
  await ctx.write.call('clearSignInFailures', client);
}
