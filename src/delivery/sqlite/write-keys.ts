import { randomUUID } from 'node:crypto';
import { TEXT_JSON_ROWS, WRITE_KEY_COLUMNS, type WriteKeyRow } from '../sql/rows.ts';
import type { CreatedWriteKey, WriteKeyRecord } from '../store.ts';
import { generateWriteKey, hashWriteKey, writeKeyPrefix } from '../write-keys.ts';
import type { SqliteStoreContext } from './context.ts';

/** Write keys, stored as SHA-256 hashes (write-keys.ts), and the lookup ingest makes per request. */

export async function createWriteKey(ctx: SqliteStoreContext, destinationId: string, label: string): Promise<CreatedWriteKey> {
  const key = generateWriteKey();
  const id = randomUUID();
  await ctx.write.call('insertWriteKey', id, hashWriteKey(key), destinationId, label, ctx.clock.now(), writeKeyPrefix(key));
  const row = ctx.read(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys WHERE id = ?`).get(id) as WriteKeyRow;
  return { key, record: TEXT_JSON_ROWS.writeKey(row) };
}

export async function importWriteKey(ctx: SqliteStoreContext, destinationId: string, key: string, label: string): Promise<WriteKeyRecord> {
  const hash = hashWriteKey(key);
  await ctx.write.call('importWriteKey', randomUUID(), hash, destinationId, label, ctx.clock.now(), writeKeyPrefix(key));
  return TEXT_JSON_ROWS.writeKey(ctx.read(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys WHERE key_hash = ?`).get(hash) as WriteKeyRow);
}

export function revokeWriteKey(ctx: SqliteStoreContext, id: string): Promise<boolean> {
  return ctx.write.call('revokeWriteKey', id, ctx.clock.now());
}

export async function listWriteKeys(ctx: SqliteStoreContext, destinationId?: string): Promise<WriteKeyRecord[]> {
  const rows = (
    destinationId === undefined
      ? ctx.read(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys ORDER BY created_at, id`).all()
      : ctx.read(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys WHERE destination_id = ? ORDER BY created_at, id`).all(destinationId)
  ) as WriteKeyRow[];
  return rows.map((row) => TEXT_JSON_ROWS.writeKey(row));
}

export async function recordWriteKeyUse(ctx: SqliteStoreContext, keys: string[], at: Date): Promise<void> {
  if (keys.length > 0) await ctx.write.call('recordWriteKeyUse', keys.map(hashWriteKey), at.getTime());
}

const DESTINATION_FOR_KEY = `SELECT k.destination_id FROM write_keys k JOIN destinations d ON d.id = k.destination_id
  WHERE k.key_hash = ? AND k.revoked_at IS NULL`;

export async function destinationFor(ctx: SqliteStoreContext, writeKey: string): Promise<string | null> {
  const row = ctx.read(DESTINATION_FOR_KEY).get(hashWriteKey(writeKey)) as { destination_id: string } | undefined;
  return row?.destination_id ?? null;
}
