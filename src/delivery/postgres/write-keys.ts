import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { PARSED_JSON_ROWS, WRITE_KEY_COLUMNS, type WriteKeyRow } from '../sql/rows.ts';
import type { CreatedWriteKey, WriteKeyRecord } from '../store.ts';
import { generateWriteKey, hashWriteKey, writeKeyPrefix } from '../write-keys.ts';
import { inTransaction, pgText } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';

/** Write keys, stored as SHA-256 hashes (write-keys.ts), and the lookup ingest makes per request. */

export async function createWriteKey(ctx: PostgresStoreContext, destinationId: string, label: string): Promise<CreatedWriteKey> {
  const key = generateWriteKey();
  const record = await inTransaction(ctx.pool, async (client) => {
    await requireDestination(client, destinationId);
    const { rows } = await client.query<WriteKeyRow>(
      `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at, key_prefix) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${WRITE_KEY_COLUMNS}`,
      [randomUUID(), hashWriteKey(key), pgText(destinationId), pgText(label), ctx.clock.now(), writeKeyPrefix(key)],
    );
    return PARSED_JSON_ROWS.writeKey(rows[0]!);
  });
  return { key, record };
}

export async function importWriteKey(ctx: PostgresStoreContext, destinationId: string, key: string, label: string): Promise<WriteKeyRecord> {
  const hash = hashWriteKey(key);
  return inTransaction(ctx.pool, async (client) => {
    await requireDestination(client, destinationId);
    // An existing key is left as it is: a key revoked in the console stays revoked.
    await client.query(
      `INSERT INTO write_keys (id, key_hash, destination_id, label, created_at, key_prefix) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (key_hash) DO UPDATE SET key_prefix = coalesce(write_keys.key_prefix, excluded.key_prefix)`,
      [randomUUID(), hash, pgText(destinationId), pgText(label), ctx.clock.now(), pgText(writeKeyPrefix(key))],
    );
    const { rows } = await client.query<WriteKeyRow>(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys WHERE key_hash = $1`, [hash]);
    return PARSED_JSON_ROWS.writeKey(rows[0]!);
  });
}

export async function recordWriteKeyUse(ctx: PostgresStoreContext, keys: string[], at: Date): Promise<void> {
  if (keys.length === 0) return;
  await ctx.pool.query(
    'UPDATE write_keys SET last_used_at = $2 WHERE key_hash = ANY($1::text[]) AND (last_used_at IS NULL OR last_used_at < $2)',
    [keys.map(hashWriteKey), at.getTime()],
  );
}

export async function revokeWriteKey(ctx: PostgresStoreContext, id: string): Promise<boolean> {
  const { rowCount } = await ctx.pool.query('UPDATE write_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [ctx.clock.now(), pgText(id)]);
  return (rowCount ?? 0) > 0;
}

export async function listWriteKeys(ctx: PostgresStoreContext, destinationId?: string): Promise<WriteKeyRecord[]> {
  const { rows } =
    destinationId === undefined
      ? await ctx.pool.query<WriteKeyRow>(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys ORDER BY created_at, id`)
      : await ctx.pool.query<WriteKeyRow>(`SELECT ${WRITE_KEY_COLUMNS} FROM write_keys WHERE destination_id = $1 ORDER BY created_at, id`, [
          pgText(destinationId),
        ]);
  return rows.map((row) => PARSED_JSON_ROWS.writeKey(row));
}

export async function destinationFor(ctx: PostgresStoreContext, writeKey: string): Promise<string | null> {
  const { rows } = await ctx.pool.query<{ destination_id: string }>({
    name: 'sd-destination-for-key',
    text: `SELECT k.destination_id FROM write_keys k JOIN destinations d ON d.id = k.destination_id
           WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    values: [hashWriteKey(writeKey)],
  });
  return rows[0]?.destination_id ?? null;
}

async function requireDestination(client: PoolClient, id: string): Promise<void> {
  const { rowCount } = await client.query('SELECT 1 FROM destinations WHERE id = $1', [pgText(id)]);
  if (rowCount === 0) throw new Error(`no destination with id ${JSON.stringify(id)}`);
}
