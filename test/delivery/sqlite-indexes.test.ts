import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { eventSelects, filterClauses, SQLITE_NAME_KEY, type Placeholder } from '../../src/delivery/sql/event-query.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { WINDOW } from '../../src/delivery/sqlite/event-select.ts';
import { EARLIER, HEAD } from '../../src/delivery/sqlite/lanes.ts';
import { migrateSqlite } from '../../src/delivery/sqlite/migrate.ts';
import { PENDING_AFTER } from '../../src/delivery/sqlite/cart-markers.ts';
import { SQLITE_MIGRATIONS } from '../../src/delivery/sqlite/schema.ts';
import { RELEASE_LANE } from '../../src/delivery/sqlite/writes/lanes.ts';
import { HAS_UNSETTLED } from '../../src/delivery/sqlite/writes/settle.ts';
import type { EventFilter } from '../../src/delivery/store.ts';
import { tempDir } from './helpers.ts';

/**
 * A lane's events are indexed in two partial indexes (migration 10, issue 19 item 5): unsettled
 * ones for the head of a lane, settled ones for the delivery log. A partial index serves a query
 * only when the query states the index's condition, so these plans are checked: a query that
 * stopped matching, or an index dropped, would silently scan the table.
 */

/** The planner's steps for a statement, every parameter bound to a dummy value. */
function planOf(db: Database, sql: string): string[] {
  const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const positional = [...sql.matchAll(/\?/g)].map(() => 'x');
  const named = Object.fromEntries([...sql.matchAll(/@(\w+)/g)].map((m) => [m[1]!, 'x']));
  const rows = (positional.length > 0 ? statement.all(...positional) : statement.all(named)) as Array<{ detail: string }>;
  return rows.map((r) => r.detail);
}

/** The SQLite store's SELECTs for a delivery log search. */
function searchSelects(filter: EventFilter): string[] {
  let n = 0;
  const param: Placeholder = () => `@p${n++}`;
  const clauses = filterClauses(filter, param, SQLITE_NAME_KEY);
  if (clauses === null) throw new Error('filter matches nothing');
  return eventSelects(filter, clauses, { limit: 51 }, param, true);
}

/** No step reads the whole events table. */
function expectNoEventsScan(plan: string[]): void {
  expect(plan.filter((step) => /^SCAN (events|e)\b/.test(step))).toEqual([]);
}

describe('SQLite lane indexes', () => {
  const db = new BetterSqlite3(':memory:');
  migrateSqlite(db);

  it('the head of a lane, its window and the unsettled checks (cross-lane order included) use the head index', () => {
    for (const sql of [HEAD, WINDOW, HAS_UNSETTLED, RELEASE_LANE, EARLIER]) {
      const plan = planOf(db, sql);
      expectNoEventsScan(plan);
      expect(plan.some((step) => /USING (COVERING )?INDEX events_lane_head \(lane_key=\? AND destination_id=\?( AND id<\?)?\)/.test(step)), plan.join('; ')).toBe(true);
    }
  });

  it("the log's search by user reads both lane indexes and the anonymousId index", () => {
    for (const filter of [{ laneKey: 'u' }, { laneKey: 'u', destinationId: 'd' }, { laneKey: 'u', status: ['delivered', 'failed'] }] satisfies EventFilter[]) {
      const plans = searchSelects(filter).map((sql) => planOf(db, sql));
      for (const plan of plans) expectNoEventsScan(plan);
      const indexes = plans.map((plan) => plan.find((step) => step.startsWith('SEARCH events USING'))?.replace(/ \(.*$/, ''));
      expect(indexes).toEqual([
        'SEARCH events USING INDEX events_lane_head',
        'SEARCH events USING INDEX events_lane_settled',
        'SEARCH events USING INDEX events_anonymous_id',
      ]);
    }
  });

  it("a cart marker's place in its lane: both events found by the dedupe index", () => {
    const plan = planOf(db, PENDING_AFTER);
    expectNoEventsScan(plan);
    expect(plan.filter((step) => /^SEARCH (g|m) USING INDEX events_message \(message_id=\? AND destination_id=\?( AND rowid>\?)?\)/.test(step)), plan.join('; ')).toHaveLength(2);
  });

  it('ingest inserts into the head index only, and a settle moves the row to the settled index', () => {
    const count = (index: string) => (db.prepare(`SELECT count(*) AS n FROM events INDEXED BY ${index} WHERE lane_key = 'u' AND ${index === 'events_lane_head' ? "status IN ('pending', 'retrying')" : "status NOT IN ('pending', 'retrying')"}`).get() as { n: number }).n;
    const { lastInsertRowid: id } = db
      .prepare("INSERT INTO events (destination_id, lane_key, payload, status, received_at, updated_at) VALUES ('d', 'u', '{}', 'pending', 1, 1)")
      .run();
    expect([count('events_lane_head'), count('events_lane_settled')]).toEqual([1, 0]);
    db.prepare("UPDATE events SET status = 'delivered' WHERE id = ?").run(id);
    expect([count('events_lane_head'), count('events_lane_settled')]).toEqual([0, 1]);
    // Every row is in exactly one of them (the integrity check compares each index to the table).
    expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  });
});

describe('SQLite migration 10 (the lane index split)', () => {
  it('migrates a database at version 9 with its events found by head and by search', async () => {
    const tmp = tempDir('sqlite-indexes-');
    const path = join(tmp.dir, 'v9.db');
    try {
      const old = new BetterSqlite3(path);
      old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      for (let version = 1; version <= 9; version++) {
        old.exec(SQLITE_MIGRATIONS[version - 1]!);
        old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, 1);
      }
      const insert = old.prepare("INSERT INTO events (destination_id, lane_key, payload, status, received_at, updated_at) VALUES ('d', 'u', ?, ?, 1, 1)");
      for (const status of ['delivered', 'failed', 'pending', 'retrying']) insert.run(JSON.stringify({ type: 'track', userId: 'u', event: status }), status);
      old.close();

      const store = await openSqliteStore({ path, writer: 'inline' });
      try {
        const page = await store.search({ laneKey: 'u' });
        expect(page.events.map((e) => e.status)).toEqual(['retrying', 'pending', 'failed', 'delivered']);
        expect((await store.head({ destinationId: 'd', laneKey: 'u' }))?.status).toBe('pending');
      } finally {
        await store.close();
      }
      const migrated = new BetterSqlite3(path, { readonly: true });
      try {
        const indexes = (migrated.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND name LIKE 'events_lane%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
        expect(indexes).toEqual(['events_lane_head', 'events_lane_settled']);
        expect((migrated.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(SQLITE_MIGRATIONS.length);
        expect(migrated.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      } finally {
        migrated.close();
      }
    } finally {
      tmp.remove();
    }
  });
});
