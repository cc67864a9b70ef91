import type { PostgresStoreContext } from './context.ts';

/**
 * Would an append be taken now? A connection answers at once (no retrying: readiness is about
 * now), and the server takes writes (not a standby, not read-only by default).
 */
export async function checkWritable(ctx: PostgresStoreContext): Promise<void> {
  const { rows } = await ctx.pool.query<{ standby: boolean; readOnly: string }>(
    `SELECT pg_is_in_recovery() AS standby, current_setting('default_transaction_read_only') AS "readOnly"`,
  );
  const row = rows[0];
  if (row?.standby) throw new Error('PostgreSQL is a standby (in recovery): it takes no writes');
  if (row?.readOnly === 'on') throw new Error('PostgreSQL sessions are read-only (default_transaction_read_only)');
}
