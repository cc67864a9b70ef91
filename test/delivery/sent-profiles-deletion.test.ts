import { createHash } from 'node:crypto';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DestinationRegistry } from '../../src/delivery/destinations.ts';
import { POSTGRES_MIGRATIONS } from '../../src/delivery/postgres/schema.ts';
import { SQLITE_MIGRATIONS } from '../../src/delivery/sqlite/schema.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import type { EventStore } from '../../src/delivery/store.ts';
import { EMAIL_CLAIM_PREFIX } from '../../src/destination/unchanged-profiles.ts';
import type { DestinationSettings } from '../../src/destination/settings.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { emulatorSettings, queuedEvent, tempDir } from './helpers.ts';
import { TEST_DATABASE_URL, TestSchema } from './postgres-helpers.ts';

/**
 * Privacy (issue 19): the sent-profile memory keeps, per address, a row keyed by its SHA-256 whose
 * value is the extid of who posted it last. A deletion must leave no row naming the user, even
 * when it carries no address and no process remembers one (each delivery here is a new registry,
 * as after a restart or on another worker). Both stores, real emulator, real delivery path.
 */

const claimKey = (email: string) => `${EMAIL_CLAIM_PREFIX}${createHash('sha256').update(email).digest('hex')}`;

let emulator: RunningEmulator;
let settings: DestinationSettings;
beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
  settings = emulatorSettings(emulator);
});
afterEach(async () => {
  await emulator.close();
});

let seq = 0;

async function deliver(store: EventStore, event: SegmentEvent) {
  const registry = new DestinationRegistry({ directory: store, identities: store, sentProfiles: store });
  try {
    return await registry.deliver('main', queuedEvent(event, ++seq));
  } finally {
    await registry.close();
  }
}

const identify = (userId: string, email: string): SegmentEvent => ({ type: 'identify', messageId: `m-${++seq}`, userId, traits: { email } });
const deletion = (userId: string): SegmentEvent => ({ type: 'delete', messageId: `m-${++seq}`, userId, authenticatedBy: 'admin' });

type RowsNaming = (extid: string) => Promise<Array<{ extid: string; value: string }>>;

function suite(name: string, setUp: () => Promise<{ store: EventStore; rowsNaming: RowsNaming; done: () => Promise<void> }>) {
  describe(`${name}: a deletion without the address`, () => {
    let store: EventStore;
    let rowsNaming: RowsNaming;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ store, rowsNaming, done } = await setUp());
      await store.createDestination({ id: 'main', name: 'Main', settings });
    });
    afterEach(async () => {
      await done();
    });

    it('leaves no sent-profile row naming the user; other users keep theirs', async () => {
      expect((await deliver(store, identify('U1', 'gone@example.com'))).state).toBe('delivered');
      expect((await deliver(store, identify('U2', 'kept@example.com'))).state).toBe('delivered');
      expect(await rowsNaming('U1')).toEqual([
        { extid: 'U1', value: expect.stringMatching(/^[0-9a-f]{64}$/) },
        { extid: claimKey('gone@example.com'), value: 'U1' },
      ]);
      expect((await deliver(store, deletion('U1'))).state).toBe('delivered');
      expect(await rowsNaming('U1')).toEqual([]);
      expect(await rowsNaming('U2')).toHaveLength(2);
    });

    it('also the rows written under older settings (the memory no longer reads them)', async () => {
      expect((await deliver(store, identify('U1', 'first@example.com'))).state).toBe('delivered');
      await store.updateDestination('main', { settings: { ...settings, unchangedIdentifyHours: 2 } });
      expect((await deliver(store, identify('U1', 'second@example.com'))).state).toBe('delivered');
      expect((await rowsNaming('U1')).map((r) => r.extid).sort()).toEqual([claimKey('first@example.com'), claimKey('second@example.com'), 'U1'].sort());
      expect((await deliver(store, deletion('U1'))).state).toBe('delivered');
      expect(await rowsNaming('U1')).toEqual([]);
    });
  });
}

const NAMING = 'SELECT extid, payload_hash AS value FROM sent_profiles WHERE destination_id = ? AND (extid = ? OR payload_hash = ?) ORDER BY extid';

suite('SQLite', async () => {
  const tmp = tempDir('sent-profiles-deletion-');
  const path = join(tmp.dir, 'q.db');
  const store = await openSqliteStore({ path });
  const reader = new BetterSqlite3(path, { readonly: true });
  return {
    store,
    rowsNaming: async (extid) => reader.prepare(NAMING).all('main', extid, extid) as Array<{ extid: string; value: string }>,
    done: async () => {
      reader.close();
      await store.close();
      tmp.remove();
    },
  };
});

suite('PostgreSQL', async () => {
  const schema = new TestSchema();
  const store = await schema.open();
  return {
    store,
    rowsNaming: async (extid) =>
      (await schema.admin.query(NAMING.replaceAll('sent_profiles', `${schema.name}.sent_profiles`).replace('?', '$1').replace('?', '$2').replace('?', '$2'), ['main', extid])).rows,
    done: () => schema.dispose(),
  };
});

/** Rows at the version before the index: many users, each with an address claim. */
const USERS = 3000;

describe('sent_profiles_email_claims: a database at the previous version migrates, and the deletion searches the index', () => {
  const before = SQLITE_MIGRATIONS.findIndex((m) => m.includes('sent_profiles_email_claims'));
  const beforePg = POSTGRES_MIGRATIONS.findIndex((m) => m.includes('sent_profiles_email_claims'));

  it('SQLite', async () => {
    expect(before).toBeGreaterThan(0);
    const tmp = tempDir('sent-profiles-deletion-');
    const path = join(tmp.dir, 'old.db');
    try {
      const old = new BetterSqlite3(path);
      old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      for (let version = 1; version <= before; version++) {
        old.exec(SQLITE_MIGRATIONS[version - 1]!);
        old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, 1);
      }
      const insert = old.prepare('INSERT INTO sent_profiles VALUES (?, ?, ?, 1, 1)');
      old.transaction(() => {
        for (let i = 0; i < USERS; i++) {
          insert.run('main', `u${i}`, 'a'.repeat(64));
          insert.run('main', claimKey(`u${i}@example.com`), `u${i}`);
        }
      })();
      old.close();

      const store = await openSqliteStore({ path, writer: 'inline' });
      try {
        expect(await store.forgetSentProfilesOfUser('main', 'u7')).toBe(2);
        expect(await store.forgetSentProfilesOfUser('main', 'u7')).toBe(0);
      } finally {
        await store.close();
      }
      const migrated = new BetterSqlite3(path, { readonly: true });
      try {
        expect((migrated.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(SQLITE_MIGRATIONS.length);
        expect((migrated.prepare('SELECT count(*) AS n FROM sent_profiles').get() as { n: number }).n).toBe(2 * USERS - 2);
        // The statement of writes/sent-profiles.ts.
        const plan = migrated
          .prepare("EXPLAIN QUERY PLAN DELETE FROM sent_profiles WHERE destination_id = ? AND payload_hash = ? AND extid LIKE 'email-sha256:%'")
          .all('main', 'u8') as Array<{ detail: string }>;
        expect(plan.map((p) => p.detail)).toEqual(['SEARCH sent_profiles USING INDEX sent_profiles_email_claims (destination_id=? AND payload_hash=?)']);
      } finally {
        migrated.close();
      }
    } finally {
      tmp.remove();
    }
  });

  it('PostgreSQL', async () => {
    expect(beforePg).toBeGreaterThan(0);
    const schema = new TestSchema();
    try {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA ${schema.name}`);
        await client.query(`SET search_path TO ${schema.name}`);
        await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        for (let v = 1; v <= beforePg; v++) {
          await client.query(POSTGRES_MIGRATIONS[v - 1]!);
          await client.query('INSERT INTO schema_migrations VALUES ($1, 0)', [v]);
        }
        const users = Array.from({ length: USERS }, (_, i) => `u${i}`);
        await client.query(
          `INSERT INTO sent_profiles SELECT 'main', e, h, 1, 1 FROM unnest($1::text[], $2::text[]) AS x(e, h)`,
          [[...users, ...users.map((u) => claimKey(`${u}@example.com`))], [...users.map(() => 'a'.repeat(64)), ...users]],
        );
      } finally {
        await client.end();
      }

      const store = await schema.open();
      expect(await store.forgetSentProfilesOfUser('main', 'u7')).toBe(2);
      expect(await store.forgetSentProfilesOfUser('main', 'u7')).toBe(0);
      const { rows: version } = await schema.admin.query(`SELECT max(version) AS v FROM ${schema.name}.schema_migrations`);
      expect(version[0].v).toBe(POSTGRES_MIGRATIONS.length);

      const explain = await schema.admin.connect();
      try {
        await explain.query(`SET search_path TO ${schema.name}`);
        await explain.query('ANALYZE sent_profiles');
        // The statement of postgres/sent-profiles.ts: no sequential scan of the table.
        const { rows } = await explain.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN DELETE FROM sent_profiles WHERE destination_id = 'main' AND (extid = 'u8' OR (payload_hash = 'u8' AND extid LIKE 'email-sha256:%'))`,
        );
        const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(plan).toContain('sent_profiles_email_claims');
        expect(plan).not.toContain('Seq Scan');
      } finally {
        explain.release();
      }
    } finally {
      await schema.dispose();
    }
  });
});
