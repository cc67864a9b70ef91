import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SqliteStoreContext } from './context.ts';

/** Below this much free space on the database's volume an append is not expected to succeed. */
export const MIN_FREE_BYTES = 1024 * 1024;

/**
 * Would an append be taken now? A write goes through the writer like an append (so it waits for
 * the write lock, and fails while another process holds it), and the volume must have room.
 */
export async function checkWritable(ctx: SqliteStoreContext): Promise<void> {
  await ctx.write.call('probeWrite');
  if (ctx.path === ':memory:') return;
  const fs = await statfs(dirname(ctx.path));
  const free = fs.bavail * fs.bsize;
  if (free < MIN_FREE_BYTES) {
    throw Object.assign(new Error(`the database's volume has ${free} bytes free`), { code: 'SQLITE_FULL' });
  }
}
