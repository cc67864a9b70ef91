import { join } from 'node:path';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import type { EventStore } from '../../src/delivery/store.ts';
import { tempDir } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

/** A fresh store of one kind and how to throw it away. */
export interface StoreKit {
  store: EventStore;
  close(): Promise<void>;
}

/**
 * Both stores, for `describe.each`: a new SQLite file (in a temp dir named by `prefix`) or a new
 * PostgreSQL schema per call, so a test runs the same against each.
 */
export function bothStores(prefix: string): Array<[string, () => Promise<StoreKit>]> {
  return [
    [
      'SQLite',
      async () => {
        const tmp = tempDir(prefix);
        const store = await openSqliteStore({ path: join(tmp.dir, 'q.db') });
        return {
          store,
          close: async () => {
            await store.close();
            tmp.remove();
          },
        };
      },
    ],
    [
      'PostgreSQL',
      async () => {
        const schema = new TestSchema();
        const store = await schema.open();
        return { store, close: () => schema.dispose() };
      },
    ],
  ];
}
