import { storeContract } from './store-contract.ts';
import { TestSchema } from './postgres-helpers.ts';

storeContract('PostgreSQL', async () => {
  const schema = new TestSchema();
  return {
    open: (clock) => schema.open({ clock }),
    persistedBytes: () => schema.persistedBytes(),
    dispose: () => schema.dispose(),
  };
});
