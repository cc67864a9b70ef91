import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { StaleVersionError } from '../../src/delivery/stale-version.ts';
import type { EventStore } from '../../src/delivery/store.ts';
import type { Mapping } from '../../src/destination/mappings/schema.ts';
import { tempDir } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

/** Mappings written on condition of the version read (optimistic concurrency), in both stores. */

const settings = { apiKey: 'k', sharedSecret: 's', optoutValue: 'none', deletionFromEvents: 'signed', apiUrl: 'http://127.0.0.1:9', trackUrl: 'http://127.0.0.1:9' } as const;
const list = (id: string): Mapping[] => [{ id, name: id, enabled: true, trigger: { types: ['track'] }, action: 'drop' }];

async function check(store: EventStore): Promise<void> {
  const created = await store.createDestination({ id: 'd', name: 'D', settings });
  const first = await store.updateDestination('d', { mappings: list('a'), ifVersion: created.version });
  expect(first?.version).toBe(created.version + 1);
  // A writer still holding the first version: refused, nothing written.
  await expect(store.updateDestination('d', { mappings: list('b'), ifVersion: created.version })).rejects.toBeInstanceOf(StaleVersionError);
  expect((await store.getDestination('d'))?.mappings).toEqual(list('a'));
  // A settings change moves the version too: the old one is stale.
  await store.updateDestination('d', { settings: { ...settings, apiKey: 'k2' } });
  await expect(store.updateDestination('d', { mappings: null, ifVersion: first!.version })).rejects.toBeInstanceOf(StaleVersionError);
  // An unknown destination is null, not a conflict; without ifVersion, unconditional as before.
  expect(await store.updateDestination('nope', { mappings: null, ifVersion: 1 })).toBeNull();
  expect((await store.updateDestination('d', { mappings: null }))?.mappings).toBeNull();
}

describe('updateDestination with ifVersion', () => {
  it('SQLite', async () => {
    const tmp = tempDir('if-version-');
    const store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
    try {
      await check(store);
    } finally {
      await store.close();
      tmp.remove();
    }
  });

  it('PostgreSQL', async () => {
    const schema = new TestSchema();
    try {
      await check(await schema.open());
    } finally {
      await schema.dispose();
    }
  });
});
