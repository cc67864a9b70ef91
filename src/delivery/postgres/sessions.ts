import type { ConsoleSessionRecord } from '../store.ts';
import { inTransaction, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** Console sessions shared by every process (src/server/console/session.ts owns their meaning). */

export async function createSession(ctx: PostgresStoreContext, record: ConsoleSessionRecord, staleBefore: number, keep: number): Promise<void> {
  await inTransaction(ctx.pool, async (client) => {
    await client.query('DELETE FROM console_sessions WHERE last_seen < $1', [staleBefore]);
    await client.query('INSERT INTO console_sessions (id_hash, csrf, created_at, last_seen, state) VALUES ($1, $2, $3, $4, $5)', [
      record.idHash,
      record.csrf,
      record.createdAt,
      record.lastSeen,
      record.state,
    ]);
    await client.query(
      `DELETE FROM console_sessions WHERE id_hash IN
         (SELECT id_hash FROM console_sessions ORDER BY last_seen DESC, created_at DESC OFFSET $1)`,
      [keep],
    );
  });
}

export async function getSession(ctx: PostgresStoreContext, idHash: string): Promise<ConsoleSessionRecord | null> {
  const { rows } = await queryRetrying<ConsoleSessionRecord>(ctx.pool, {
    name: 'sd-get-session',
    text: `SELECT id_hash AS "idHash", csrf, created_at AS "createdAt", last_seen AS "lastSeen", state
           FROM console_sessions WHERE id_hash = $1`,
    values: [idHash],
  });
  return rows[0] ?? null;
}

export async function touchSession(ctx: PostgresStoreContext, idHash: string, lastSeen: number): Promise<void> {
  await queryRetrying(ctx.pool, {
    name: 'sd-touch-session',
    text: 'UPDATE console_sessions SET last_seen = greatest(last_seen, $2) WHERE id_hash = $1',
    values: [idHash, lastSeen],
  });
}

export async function updateSessionState(ctx: PostgresStoreContext, idHash: string, expected: string, state: string, lastSeen: number): Promise<boolean> {
  const { rowCount } = await queryRetrying(ctx.pool, {
    name: 'sd-update-session-state',
    text: 'UPDATE console_sessions SET state = $3, last_seen = greatest(last_seen, $4) WHERE id_hash = $1 AND state = $2',
    values: [idHash, expected, state, lastSeen],
  });
  return (rowCount ?? 0) > 0;
}

export async function deleteSession(ctx: PostgresStoreContext, idHash: string): Promise<void> {
  await queryRetrying(ctx.pool, { name: 'sd-delete-session', text: 'DELETE FROM console_sessions WHERE id_hash = $1', values: [idHash] });
}
