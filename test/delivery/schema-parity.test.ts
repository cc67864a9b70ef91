import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { tempDir } from './helpers.ts';
import { TestSchema } from './postgres-helpers.ts';

/**
 * Both stores run one contract suite and share their row mapping (src/delivery/sql/rows.ts), so
 * both schemas, fully migrated, must have the same tables with the same columns: same names, in
 * the same order, the same NOT NULL, and the same kind of value (a whole number, text or JSON, a
 * flag). Indexes may differ: each database is indexed for its own planner.
 */
interface Column {
  name: string;
  kind: 'number' | 'text' | 'json' | 'flag';
  notNull: boolean;
}

type Tables = Record<string, Column[]>;

/** SQLite keeps JSON as TEXT: the JSON columns are named here, and must be json in PostgreSQL. */
const JSON_COLUMNS = new Set(['destinations.settings', 'events.payload', 'events.outcome', 'attempts.calls', 'attempts.warnings', 'audit_log.filter', 'series_buckets.data', 'destinations.mappings', 'mapping_buckets.data']);
/** SQLite has no booleans: 0/1 in an INTEGER. */
const FLAG_COLUMNS = new Set(['destinations.paused']);

async function sqliteTables(): Promise<Tables> {
  const tmp = tempDir('schema-parity-');
  const path = join(tmp.dir, 'schema.db');
  await (await openSqliteStore({ path, writer: 'inline' })).close();
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    const tables: Tables = {};
    for (const table of names) {
      const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string; type: string; notnull: number; pk: number }>;
      tables[table] = columns.map((c) => {
        const where = `${table}.${c.name}`;
        const kind = FLAG_COLUMNS.has(where) ? 'flag' : JSON_COLUMNS.has(where) ? 'json' : c.type === 'INTEGER' ? 'number' : 'text';
        // SQLite lets a non-INTEGER primary key hold NULL unless said otherwise; ours never do.
        return { name: c.name, kind, notNull: c.notnull === 1 || c.pk > 0 };
      });
    }
    return tables;
  } finally {
    db.close();
    tmp.remove();
  }
}

async function postgresTables(schema: TestSchema): Promise<Tables> {
  await schema.open();
  const { rows } = await schema.admin.query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
    [schema.name],
  );
  const kinds: Record<string, Column['kind']> = { bigint: 'number', integer: 'number', text: 'text', json: 'json', boolean: 'flag' };
  const tables: Tables = {};
  for (const r of rows) {
    const kind = kinds[r.data_type];
    if (kind === undefined) throw new Error(`${r.table_name}.${r.column_name}: no SQLite counterpart for ${r.data_type}`);
    (tables[r.table_name] ??= []).push({ name: r.column_name, kind, notNull: r.is_nullable === 'NO' });
  }
  return tables;
}

describe('the SQLite and PostgreSQL schemas', () => {
  const schema = new TestSchema();
  afterAll(() => schema.dispose());

  it('have the same tables and columns', async () => {
    const [sqlite, postgres] = await Promise.all([sqliteTables(), postgresTables(schema)]);
    expect(Object.keys(sqlite)).toEqual(['attempts', 'audit_log', 'console_sessions', 'destinations', 'events', 'identity_links', 'lanes', 'mapping_buckets', 'schema_migrations', 'sent_profiles', 'series_buckets', 'sign_in_failures', 'write_keys']);
    expect(postgres).toEqual(sqlite);
  });
});
