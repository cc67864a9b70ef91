import type pg from 'pg';
import { cpuSecondsOf } from './service-process.ts';

/**
 * What PostgreSQL did for a stretch of a benchmark: transactions and rows of one database
 * (pg_stat_database, so the bench gives each system a database of its own), WAL of the whole
 * server (pg_current_wal_lsn: it counts whatever else the server ran meanwhile), and per table
 * of a schema how many updates were HOT (pg_stat_user_tables).
 */
export interface DbSample {
  xacts: number;
  inserted: number;
  updated: number;
  deleted: number;
  lsn: string;
  tables: Map<string, { updates: number; hot: number }>;
}

export interface DbDelta {
  xacts: number;
  inserted: number;
  updated: number;
  deleted: number;
  walBytes: number;
  /** Per table: updates, and the share of them that were HOT. */
  tables: Record<string, { updates: number; hot: number }>;
}

/** Backends report their counts at most once a second, and when idle: wait for them first. */
export async function sampleDb(client: pg.Client, schema: string, settleMs = 1500): Promise<DbSample> {
  await new Promise((r) => setTimeout(r, settleMs));
  const { rows } = await client.query<{ xacts: string; inserted: string; updated: string; deleted: string; lsn: string }>(
    `SELECT xact_commit + xact_rollback AS xacts, tup_inserted AS inserted, tup_updated AS updated, tup_deleted AS deleted,
            pg_current_wal_lsn()::text AS lsn
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  const tables = await client.query<{ relname: string; updates: string; hot: string }>(
    'SELECT relname, n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE schemaname = $1',
    [schema],
  );
  const r = rows[0]!;
  return {
    xacts: Number(r.xacts),
    inserted: Number(r.inserted),
    updated: Number(r.updated),
    deleted: Number(r.deleted),
    lsn: r.lsn,
    tables: new Map(tables.rows.map((t) => [t.relname, { updates: Number(t.updates), hot: Number(t.hot) }])),
  };
}

export async function deltaOf(client: pg.Client, before: DbSample, after: DbSample): Promise<DbDelta> {
  const { rows } = await client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn) AS bytes', [after.lsn, before.lsn]);
  const tables: DbDelta['tables'] = {};
  for (const [name, t] of after.tables) {
    const b = before.tables.get(name) ?? { updates: 0, hot: 0 };
    if (t.updates - b.updates > 0) tables[name] = { updates: t.updates - b.updates, hot: t.hot - b.hot };
  }
  return {
    xacts: after.xacts - before.xacts,
    inserted: after.inserted - before.inserted,
    updated: after.updated - before.updated,
    deleted: after.deleted - before.deleted,
    walBytes: Number(rows[0]!.bytes),
    tables,
  };
}

/**
 * CPU seconds used so far by each PostgreSQL backend of this client's database (the bench's own
 * database, so only this bench's sessions), by pid, read from /proc: PostgreSQL must run on
 * this machine and be readable by this user (else the map is empty).
 */
export async function backendCpu(client: pg.Client): Promise<Map<number, number>> {
  const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    const seconds = cpuSecondsOf(pid);
    if (seconds !== null) cpu.set(pid, seconds);
  }
  return cpu;
}

/** CPU seconds the backends used between two samples (a backend new since the first counts from its start). */
export function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, seconds] of after) sum += seconds - (before.get(pid) ?? 0);
  return sum;
}
