import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TestSchema, TEST_DATABASE_URL } from '../delivery/postgres-helpers.ts';
import { basic, postJson, startStack, type Stack } from '../e2e/harness.ts';
import { SmallDisk } from './support/small-disk.ts';
import { SwitchableProxy } from './support/switchable-proxy.ts';

// Issue 15 item 8: /readyz says whether an append would succeed now, not merely whether the
// database answers a read: not ready while another process holds SQLite's write lock, while the
// database's volume is full, and while PostgreSQL is unreachable; ready again once that ends.
const stacks: Stack[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
  for (const c of cleanups.reverse()) await c();
});

async function readyz(stack: Stack): Promise<number> {
  return (await fetch(`${stack.service.url}/readyz`)).status;
}

/** Polls until /readyz answers `status` (the test's timeout bounds it). */
async function until(stack: Stack, status: number): Promise<void> {
  while ((await readyz(stack)) !== status) await new Promise((r) => setTimeout(r, 100));
}

const event = (id: string) => ({ batch: [{ type: 'track', userId: 'ready-user', event: 'Ready', messageId: id }] });

describe('/readyz', () => {
  it('is not ready while another process holds the SQLite write lock, and ready once it is let go', async () => {
    const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
    stacks.push(stack);
    expect(await readyz(stack)).toBe(200);
    const other = new BetterSqlite3(join(stack.dir, 'e2e.db'));
    other.pragma('busy_timeout = 0');
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      expect(await readyz(stack)).toBe(503);
      // What readiness predicts: an append now is refused (after the store's busy timeout).
      expect((await postJson(`${stack.service.url}/v1/batch`, event('locked-1'), basic(stack.writeKey))).status).toBe(503);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    await until(stack, 200);
    expect((await postJson(`${stack.service.url}/v1/batch`, event('unlocked-1'), basic(stack.writeKey))).status).toBe(200);
  }, 60_000);

  it.skipIf(process.getuid?.() !== 0)('is not ready while the database volume is full, and ready once there is room', async () => {
    const disk = SmallDisk.mount(32 * 1024 * 1024);
    if (!disk) throw new Error('cannot mount a tmpfs as root');
    cleanups.push(() => disk.unmount());
    const stack = await startStack({ env: { LOG_LEVEL: 'warn', DATABASE_URL: `sqlite:${join(disk.dir, 'events.db')}` } });
    stacks.push(stack);
    expect(await readyz(stack)).toBe(200);
    disk.fill();
    expect(await readyz(stack)).toBe(503);
    disk.free();
    await until(stack, 200);
  }, 60_000);

  it('is not ready while PostgreSQL cannot be reached, and ready once it can', async () => {
    const schema = new TestSchema();
    cleanups.push(() => schema.dispose());
    const target = new URL(TEST_DATABASE_URL);
    const proxy = new SwitchableProxy(Number(target.port || 5432), target.hostname);
    await proxy.up();
    cleanups.push(() => proxy.down());
    const viaProxy = new URL(schema.url());
    viaProxy.port = String(proxy.port);
    const stack = await startStack({ env: { LOG_LEVEL: 'warn', DATABASE_URL: viaProxy.toString() }, role: { ingest: true, delivery: false } });
    stacks.push(stack);
    expect(await readyz(stack)).toBe(200);
    await proxy.down();
    expect(await readyz(stack)).toBe(503);
    await proxy.up();
    await until(stack, 200);
  }, 60_000);
});
