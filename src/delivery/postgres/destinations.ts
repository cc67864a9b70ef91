import { randomUUID } from 'node:crypto';
import { WORK_BATCH } from '../sql/event-query.ts';
import { PARSED_JSON_ROWS, type DestinationRow } from '../sql/rows.ts';
import type { Destination, DestinationPatch, NewDestination } from '../store.ts';
import { inTransaction, pgText, queryRetrying } from './connection.ts';
import type { PostgresStoreContext } from './context.ts';
import { StaleVersionError } from '../stale-version.ts';

/** The destination directory: settings, pause state, and deleting a destination with its events. */

export async function createDestination(ctx: PostgresStoreContext, input: NewDestination): Promise<Destination> {
  const { rows } = await ctx.pool.query<DestinationRow<unknown>>(
    'INSERT INTO destinations (id, name, settings, mappings, created_at, updated_at) VALUES ($1, $2, $3::json, $4::json, $5, $5) RETURNING *',
    [
      pgText(input.id ?? randomUUID()),
      pgText(input.name),
      JSON.stringify(ctx.seal.sealSettings(input.settings)),
      input.mappings === undefined || input.mappings === null ? null : JSON.stringify(input.mappings),
      ctx.clock.now(),
    ],
  );
  return opened(ctx, PARSED_JSON_ROWS.destination(rows[0]!));
}

export async function getDestination(ctx: PostgresStoreContext, id: string): Promise<Destination | null> {
  const { rows } = await ctx.pool.query<DestinationRow<unknown>>('SELECT * FROM destinations WHERE id = $1', [pgText(id)]);
  return rows[0] ? opened(ctx, PARSED_JSON_ROWS.destination(rows[0])) : null;
}

export async function listDestinations(ctx: PostgresStoreContext): Promise<Destination[]> {
  const { rows } = await ctx.pool.query<DestinationRow<unknown>>('SELECT * FROM destinations ORDER BY created_at, id');
  return rows.map((row) => opened(ctx, PARSED_JSON_ROWS.destination(row)));
}

export async function updateDestination(ctx: PostgresStoreContext, id: string, patch: DestinationPatch): Promise<Destination | null> {
  const now = ctx.clock.now();
  const key = pgText(id);
  const { row, resumed } = await inTransaction(ctx.pool, async (client) => {
    if (patch.name !== undefined) {
      await client.query('UPDATE destinations SET name = $1, updated_at = $2 WHERE id = $3', [pgText(patch.name), now, key]);
    }
    let changed = false;
    if (patch.settings !== undefined) {
      // New settings may fix what paused it (SPEC.md §9): resume, and let the workers look.
      const result = await client.query(
        `UPDATE destinations SET settings = $1::json, version = version + 1, paused = false, pause_reason = NULL, updated_at = $2
         WHERE id = $3`,
        [JSON.stringify(ctx.seal.sealSettings(patch.settings)), now, key],
      );
      changed = (result.rowCount ?? 0) > 0;
    }
    let stale = false;
    if (patch.mappings !== undefined) {
      // New mappings: a new version (built destinations rebuild); the pause stays. With ifVersion,
      // only if still at that version (optimistic concurrency), in the same statement.
      const result = await client.query('UPDATE destinations SET mappings = $1::json, version = version + 1, updated_at = $2 WHERE id = $3 AND ($4::integer IS NULL OR version = $4)', [
        patch.mappings === null ? null : JSON.stringify(patch.mappings),
        now,
        key,
        patch.ifVersion ?? null,
      ]);
      stale = (result.rowCount ?? 0) === 0;
    }
    const found = await client.query<DestinationRow<unknown>>('SELECT * FROM destinations WHERE id = $1', [key]);
    if (stale && found.rows[0] !== undefined && patch.ifVersion !== undefined) throw new StaleVersionError(id, patch.ifVersion);
    return { row: found.rows[0], resumed: changed };
  });
  if (resumed) ctx.announce();
  return row ? opened(ctx, PARSED_JSON_ROWS.destination(row)) : null;
}

export async function deleteDestination(ctx: PostgresStoreContext, id: string): Promise<boolean> {
  const key = pgText(id);
  const existed = await inTransaction(ctx.pool, async (client) => {
    const result = await client.query('DELETE FROM destinations WHERE id = $1', [key]);
    await client.query('DELETE FROM write_keys WHERE destination_id = $1', [key]);
    await client.query('DELETE FROM lanes WHERE destination_id = $1', [key]);
    await client.query('DELETE FROM identity_links WHERE destination_id = $1', [key]);
    await client.query('DELETE FROM sent_profiles WHERE destination_id = $1', [key]);
    return (result.rowCount ?? 0) > 0;
  });
  // Its events go in short batches; without the lanes and destination nothing delivers them.
  let cursor = 0;
  for (;;) {
    const { rows } = await queryRetrying<{ last_id: number | null }>(ctx.pool, {
      text: `WITH scan AS (SELECT id FROM events WHERE id > $1 AND destination_id = $2 ORDER BY id LIMIT $3),
                  gone AS (DELETE FROM events WHERE id IN (SELECT id FROM scan) RETURNING id),
                  gone_attempts AS (DELETE FROM attempts WHERE event_id IN (SELECT id FROM gone))
             SELECT max(id) AS last_id FROM scan`,
      values: [cursor, key, WORK_BATCH],
    });
    const last = rows[0]?.last_id ?? null;
    if (last === null) break;
    cursor = last;
  }
  ctx.backlogCache.forget();
  return existed;
}

export async function pauseDestination(ctx: PostgresStoreContext, id: string, reason: string): Promise<void> {
  await ctx.pool.query('UPDATE destinations SET paused = true, pause_reason = $1, updated_at = $2 WHERE id = $3', [
    pgText(reason),
    ctx.clock.now(),
    pgText(id),
  ]);
}

export async function resumeDestination(ctx: PostgresStoreContext, id: string): Promise<void> {
  const { rowCount } = await ctx.pool.query('UPDATE destinations SET paused = false, pause_reason = NULL, updated_at = $1 WHERE id = $2 AND paused', [
    ctx.clock.now(),
    pgText(id),
  ]);
  if ((rowCount ?? 0) > 0) ctx.announce();
}

/** Seals every secret setting the store's seal would keep differently (plaintext, another key); returns how many destinations changed. */
export async function resealSecrets(ctx: PostgresStoreContext): Promise<number> {
  const { rows } = await ctx.pool.query<{ id: string; text: string }>('SELECT id, settings::text AS text FROM destinations ORDER BY id');
  let changed = 0;
  for (const row of rows) {
    const kept = JSON.parse(row.text) as object;
    if (!ctx.seal.needsReseal(kept)) continue;
    const resealed = JSON.stringify(ctx.seal.sealSettings(ctx.seal.openSettings(kept)));
    // Compare-and-set on the text read (json keeps it as written); the version and pause stay.
    const result = await ctx.pool.query('UPDATE destinations SET settings = $1::json WHERE id = $2 AND settings::text = $3', [resealed, row.id, row.text]);
    changed += result.rowCount ?? 0;
  }
  return changed;
}

function opened(ctx: PostgresStoreContext, destination: Destination): Destination {
  return { ...destination, settings: ctx.seal.openSettings(destination.settings) };
}
