import { inTransaction, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** Wrong admin tokens by client address, shared by every process (src/server/admin-auth.ts owns the limit). */

export async function recordSignInFailure(ctx: PostgresStoreContext, client: string, at: number, forgetBefore: number): Promise<void> {
  await inTransaction(ctx.pool, async (db) => {
    await db.query('DELETE FROM sign_in_failures WHERE at < $1', [forgetBefore]);
    await db.query('INSERT INTO sign_in_failures (client, at) VALUES ($1, $2)', [client, at]);
  });
}

export async function countSignInFailures(ctx: PostgresStoreContext, client: string, since: number): Promise<number> {
  const { rows } = await queryRetrying<{ n: string }>(ctx.pool, {
    name: 'sd-count-sign-in-failures',
    text: 'SELECT count(*) AS n FROM sign_in_failures WHERE client = $1 AND at >= $2',
    values: [client, since],
  });
  return Number(rows[0]?.n ?? 0);
}

export async function clearSignInFailures(ctx: PostgresStoreContext, client: string): Promise<void> {
  await queryRetrying(ctx.pool, { name: 'sd-clear-sign-in-failures', text: 'DELETE FROM sign_in_failures WHERE client = $1', values: [client] });
}
