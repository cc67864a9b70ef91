import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { parseDatabaseUrl } from '../../src/delivery/open-store.ts';
import { CACHE_KIB, openSqliteConnection } from '../../src/delivery/sqlite/connection.ts';
import { storeContract } from './store-contract.ts';
import { FakeClock, SETTINGS, batchOf, tempDir, trackEvent } from './helpers.ts';

for (const writer of ['thread', 'inline'] as const) {
  storeContract(`SQLite (writer: ${writer})`, async () => {
    const tmp = tempDir('sqlite-store-');
    const path = join(tmp.dir, 'nested', 'events.db');
    return {
      open: (clock) => openSqliteStore({ path, clock, writer }),
      async persistedBytes() {
        const files = [path, `${path}-wal`, `${path}-shm`].filter((f) => existsSync(f));
        return Buffer.concat(files.map((f) => readFileSync(f)));
      },
      async dispose() {
        tmp.remove();
      },
    };
  });
}

describe('SQLite store specifics', () => {
  it('bounds the page cache of every connection (better-sqlite3 builds SQLite with 16 MiB each)', () => {
    expect(new Database(':memory:').pragma('cache_size', { simple: true })).toBe(-16000);
    const db = openSqliteConnection(':memory:');
    try {
      expect(db.pragma('cache_size', { simple: true })).toBe(-CACHE_KIB);
      expect(CACHE_KIB).toBeLessThan(16000);
    } finally {
      db.close();
    }
  });

  for (const writer of ['thread', 'inline'] as const) {
    it(`runs WAL with synchronous=FULL and shares commits among concurrent appends (writer: ${writer})`, async () => {
      const tmp = tempDir('sqlite-store-');
      const store = await openSqliteStore({ path: join(tmp.dir, 'e.db'), clock: new FakeClock(), writer });
      try {
        await store.createDestination({ id: 'd', name: 'd', settings: SETTINGS });
        expect(store.pragmas()).toEqual({ journalMode: 'wal', synchronous: 2, cacheSize: -CACHE_KIB });
        const before = store.commitCount;
        await Promise.all(Array.from({ length: 25 }, () => store.append(batchOf('d', [trackEvent('u')]))));
        // 25 appends issued at once: gathered into shared transactions (inline: exactly one).
        const commits = store.commitCount - before;
        if (writer === 'inline') expect(commits).toBe(1);
        else expect(commits).toBeLessThan(25);
        expect(await store.backlog()).toBe(25);
      } finally {
        await store.close();
        tmp.remove();
      }
    });
  }

  it('stores an attempt’s calls once, on the attempt row, and reads them back into the outcome', async () => {
    const tmp = tempDir('sqlite-store-');
    const path = join(tmp.dir, 'e.db');
    const store = await openSqliteStore({ path, clock: new FakeClock() });
    try {
      await store.createDestination({ id: 'd', name: 'd', settings: SETTINGS });
      await store.append(batchOf('d', [trackEvent('u1')]));
      const [lease] = await store.claimLanes('w', 10, 30_000, 4);
      const head = lease!.events[0]!;
      const call = { method: 'POST' as const, endpoint: '/event', payload: { marker: 'calls-once-marker' }, status: 200, durationMs: 3 };
      await store.settleLane({
        lane: lease!,
        workerId: 'w',
        heads: [{ event: head, settlement: { state: 'delivered' }, attempt: { startedAt: new Date(), durationMs: 3, calls: [call], warnings: [] } }],
        then: 'continue',
        window: 4,
      });
      const raw = new Database(path, { readonly: true });
      try {
        const row = raw.prepare('SELECT e.outcome AS outcome, a.calls AS calls FROM events e JOIN attempts a ON a.event_id = e.id WHERE e.id = ?').get(head.id) as {
          outcome: string;
          calls: string;
        };
        expect(row.outcome).not.toContain('calls-once-marker');
        expect(row.calls).toContain('calls-once-marker');
      } finally {
        raw.close();
      }
      expect((await store.getEvent(head.id))!.event.outcome).toEqual({ state: 'delivered', calls: [call], warnings: [] });
      expect((await store.search({ laneKey: 'u1' })).events[0]!.outcome?.calls).toEqual([call]);
    } finally {
      await store.close();
      tmp.remove();
    }
  });

  it('reports a failing write to its caller only, and keeps going', async () => {
    const tmp = tempDir('sqlite-store-');
    const store = await openSqliteStore({ path: join(tmp.dir, 'e.db') });
    try {
      await store.createDestination({ id: 'd', name: 'd', settings: SETTINGS });
      const [dup, ok] = await Promise.allSettled([
        store.createDestination({ id: 'd', name: 'again', settings: SETTINGS }),
        store.append(batchOf('d', [trackEvent('u')])),
      ]);
      expect(dup.status).toBe('rejected');
      expect(String((dup as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
      expect(ok).toEqual({ status: 'fulfilled', value: { stored: 1, duplicates: 0 } });
      await expect(store.createWriteKey('missing', 'x')).rejects.toThrow(/no destination/);
    } finally {
      await store.close();
    }
    await expect(store.append(batchOf('d', [trackEvent('u')]))).rejects.toThrow(/closed/);
    tmp.remove();
  });

  it('migrating twice is harmless', async () => {
    const tmp = tempDir('sqlite-store-');
    const path = join(tmp.dir, 'e.db');
    try {
      const a = await openSqliteStore({ path });
      await a.migrate();
      await a.close();
      const b = await openSqliteStore({ path });
      expect(await b.listDestinations()).toEqual([]);
      await b.close();
    } finally {
      tmp.remove();
    }
  });

  it('parses DATABASE_URL without echoing secrets', () => {
    expect(parseDatabaseUrl('sqlite:./data/x.db')).toEqual({ kind: 'sqlite', path: './data/x.db' });
    expect(parseDatabaseUrl('sqlite:///var/lib/x.db')).toEqual({ kind: 'sqlite', path: '/var/lib/x.db' });
    expect(parseDatabaseUrl('postgres://u:p@h/db')).toEqual({ kind: 'postgres', url: 'postgres://u:p@h/db' });
    expect(() => parseDatabaseUrl('mysql://user:hunter2@h/db')).toThrow(/got a mysql: URL/);
    try {
      parseDatabaseUrl('mysql://user:hunter2@h/db');
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
    }
  });
});
