import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresEventStore } from '../../src/delivery/postgres-store.ts';
import type { Clock } from '../../src/delivery/store.ts';

/** The local test database (trust auth); TEST_DATABASE_URL points elsewhere. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A schema of its own for one test (or one file), so test files and engineers sharing the
 * database never see each other's rows; dropped by dispose().
 */
export class TestSchema {
  readonly name = `st_test_${randomBytes(6).toString('hex')}`;
  readonly admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  private startLsn: string | null = null;
  private readonly stores: PostgresEventStore[] = [];

  /** A store on this schema, closed by dispose() if the test did not. */
  async open(options: { clock?: Clock; poolMax?: number } = {}): Promise<PostgresEventStore> {
    if (this.startLsn === null) {
      const { rows } = await this.admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      this.startLsn = rows[0]!.lsn;
    }
    const store = await openPostgresStore({
      url: TEST_DATABASE_URL,
      schema: this.name,
      poolMax: options.poolMax ?? 4,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.stores.push(store);
    return store;
  }

  /** `DATABASE_URL` for child processes on this schema. */
  url(extra = ''): string {
    const separator = TEST_DATABASE_URL.includes('?') ? '&' : '?';
    return `${TEST_DATABASE_URL}${separator}schema=${this.name}${extra}`;
  }

  /**
   * Every byte PostgreSQL keeps on disk for this schema: the files of its tables, indexes and
   * TOAST (after a CHECKPOINT wrote the dirty pages out) and the WAL written since the first
   * open. Reading server files needs a superuser (the local test database has one); elsewhere
   * the rows themselves, as text, stand in for the files.
   */
  async persistedBytes(): Promise<Buffer> {
    const su = await this.admin.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user');
    if (!su.rows[0]?.su) return this.rowsAsText();
    await this.admin.query('CHECKPOINT');
    const files = await this.admin.query<{ path: string }>(
      `WITH rels AS (
         SELECT c.oid, c.reltoastrelid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')
       ), toast AS (
         SELECT reltoastrelid AS oid FROM rels WHERE reltoastrelid <> 0
         UNION SELECT i.indexrelid FROM pg_index i JOIN rels r ON i.indrelid = r.reltoastrelid
       )
       SELECT pg_relation_filepath(oid) AS path FROM (SELECT oid FROM rels UNION SELECT oid FROM toast) all_rels`,
      [this.name],
    );
    const wal = await this.admin.query<{ name: string }>(
      `SELECT DISTINCT pg_walfile_name($1::pg_lsn + s.n) AS name
       FROM generate_series(0::numeric, pg_current_wal_lsn() - $1::pg_lsn,
                            (SELECT setting::numeric FROM pg_settings WHERE name = 'wal_segment_size')) AS s(n)
       UNION SELECT pg_walfile_name(pg_current_wal_lsn())`,
      [this.startLsn ?? '0/0'],
    );
    const paths = [...files.rows.map((r) => r.path), ...wal.rows.map((r) => `pg_wal/${r.name}`)];
    const chunks: Buffer[] = [];
    for (const path of paths) {
      const { rows } = await this.admin.query<{ bytes: Buffer }>('SELECT pg_read_binary_file($1::text, 0::bigint, 268435456::bigint, true) AS bytes', [path]);
      if (rows[0]?.bytes) chunks.push(rows[0].bytes);
    }
    return Buffer.concat(chunks);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.close().catch(() => {})));
    await this.admin.query(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`);
    await this.admin.end();
  }

  private async rowsAsText(): Promise<Buffer> {
    const tables = await this.admin.query<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = $1', [this.name]);
    const chunks: Buffer[] = [];
    for (const { t } of tables.rows) {
      const { rows } = await this.admin.query<{ row: string }>(`SELECT r::text AS row FROM ${this.name}."${t}" r`);
      for (const { row } of rows) chunks.push(Buffer.from(row));
    }
    return Buffer.concat(chunks);
  }
}
