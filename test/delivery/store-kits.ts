import { join } from 'node:path';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import type { Clock, EventStore } from '../../src/delivery/store.ts';
import { tempDir } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

/** A fresh store of one kind and how to throw it away. */
export interface StoreKit {
  store: EventStore;
  close(): Promise<void>;
}

/**
 * Both stores, for `describe.each`: a new SQLite file (in a temp dir named by `prefix`) or a new
 * PostgreSQL schema per call, so a test runs the same against each. A test may hand each its clock.
 */
export function bothStores(prefix: string): Array<[string, (clock?: Clock) => Promise<StoreKit>]> {
  return [
    [
      'SQLite',
      async (clock?: Clock) => {
        const tmp = tempDir(prefix);
        const store = await openSqliteStore({ path: join(tmp.dir, 'q.db'), ...(clock ? { clock } : {}) });
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
      async (clock?: Clock) => {
        const schema = new TestSchema();
        const store = await schema.open(clock ? { clock } : {});
        return { store, close: () => schema.dispose() };
      },
    ],
  ];
}
