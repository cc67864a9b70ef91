import { randomUUID } from 'node:crypto';
import { WORK_BATCH } from '../sql/event-query.ts';
import { TEXT_JSON_ROWS, type DestinationRow } from '../sql/rows.ts';
import type { Destination, DestinationPatch, NewDestination } from '../store.ts';
import type { SqliteStoreContext } from './context.ts';
import { StaleVersionError } from '../stale-version.ts';

/** The destination directory: settings, pause state, and deleting a destination with its events. */

export async function createDestination(ctx: SqliteStoreContext, input: NewDestination): Promise<Destination> {
  const id = input.id ?? randomUUID();
  const mappings = input.mappings === undefined || input.mappings === null ? null : JSON.stringify(input.mappings);
  await ctx.write.call('createDestination', { id, name: input.name, settings: JSON.stringify(ctx.seal.sealSettings(input.settings)), mappings, now: ctx.clock.now() });
  return (await getDestination(ctx, id))!;
}

export async function getDestination(ctx: SqliteStoreContext, id: string): Promise<Destination | null> {
  const row = ctx.read('SELECT * FROM destinations WHERE id = ?').get(id) as DestinationRow<string> | undefined;
  return row ? opened(ctx, TEXT_JSON_ROWS.destination(row)) : null;
}

export async function listDestinations(ctx: SqliteStoreContext): Promise<Destination[]> {
  const rows = ctx.read('SELECT * FROM destinations ORDER BY created_at, id').all() as Array<DestinationRow<string>>;
  return rows.map((row) => opened(ctx, TEXT_JSON_ROWS.destination(row)));
}

export async function updateDestination(ctx: SqliteStoreContext, id: string, patch: DestinationPatch): Promise<Destination | null> {
  const settings = patch.settings === undefined ? undefined : JSON.stringify(ctx.seal.sealSettings(patch.settings));
  // New settings may fix what paused it (SPEC.md §9): they resume it; let the workers look.
  if (await ctx.write.call('updateDestination', id, patch.name, settings, ctx.clock.now())) ctx.notify();
  if (patch.mappings !== undefined) {
    const text = patch.mappings === null ? null : JSON.stringify(patch.mappings);
    const written = await ctx.write.call('updateMappings', id, text, ctx.clock.now(), patch.ifVersion);
    const now = await getDestination(ctx, id);
    if (!written && now !== null && patch.ifVersion !== undefined) throw new StaleVersionError(id, patch.ifVersion);
    return now;
  }
  return getDestination(ctx, id);
}

export async function deleteDestination(ctx: SqliteStoreContext, id: string): Promise<boolean> {
  const existed = await ctx.write.call('deleteDestination', id);
  // Its events go in short batches; without the lanes and destination nothing delivers them.
  const scan = ctx.read('SELECT id FROM events WHERE id > ? AND destination_id = ? ORDER BY id LIMIT ?');
  let cursor = 0;
  for (;;) {
    const ids = (scan.all(cursor, id, WORK_BATCH) as Array<{ id: number }>).map((r) => r.id);
    if (ids.length === 0) break;
    cursor = ids[ids.length - 1]!;
    await ctx.write.call('deleteEvents', ids);
  }
  ctx.backlogCache.forget();
  return existed;
}

export async function pauseDestination(ctx: SqliteStoreContext, id: string, reason: string): Promise<void> {
  await ctx.write.call('pauseDestination', id, reason, ctx.clock.now());
}

export async function resumeDestination(ctx: SqliteStoreContext, id: string): Promise<void> {
  if (await ctx.write.call('resumeDestination', id, ctx.clock.now())) ctx.notify();
}

/** Seals every secret setting the store's seal would keep differently (plaintext, another key); returns how many destinations changed. */
export async function resealSecrets(ctx: SqliteStoreContext): Promise<number> {
  const rows = ctx.read('SELECT id, settings FROM destinations ORDER BY id').all() as Array<{ id: string; settings: string }>;
  let changed = 0;
  for (const row of rows) {
    const kept = JSON.parse(row.settings) as object;
    if (!ctx.seal.needsReseal(kept)) continue;
    const resealed = JSON.stringify(ctx.seal.sealSettings(ctx.seal.openSettings(kept)));
    // Compare-and-set on the text read: a console edit meanwhile is kept (and was sealed itself).
    if (await ctx.write.call('replaceSettingsText', row.id, row.settings, resealed)) changed++;
  }
  return changed;
}

function opened(ctx: SqliteStoreContext, destination: Destination): Destination {
  return { ...destination, settings: ctx.seal.openSettings(destination.settings) };
}
