import type { ConsoleSessionRecord } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';

/** Console sessions (src/server/console/session.ts owns their meaning). */

export async function createSession(ctx: SqliteStoreContext, record: ConsoleSessionRecord, staleBefore: number, keep: number): Promise<void> {
  await ctx.write.call('createSession', record, staleBefore, keep);
}

export async function getSession(ctx: SqliteStoreContext, idHash: string): Promise<ConsoleSessionRecord | null> {
  const sql = 'SELECT id_hash AS idHash, csrf, created_at AS createdAt, last_seen AS lastSeen, state FROM console_sessions WHERE id_hash = ?';
  return (ctx.read(sql).get(idHash) as ConsoleSessionRecord | undefined) ?? null;
}

export async function touchSession(ctx: SqliteStoreContext, idHash: string, lastSeen: number): Promise<void> {
  await ctx.write.call('touchSession', idHash, lastSeen);
}

export function updateSessionState(ctx: SqliteStoreContext, idHash: string, expected: string, state: string, lastSeen: number): Promise<boolean> {
  return ctx.write.call('updateSessionState', idHash, expected, state, lastSeen);
}

export async function deleteSession(ctx: SqliteStoreContext, idHash: string): Promise<void> {
  await ctx.write.call('deleteSession', idHash);
}
