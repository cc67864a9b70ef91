import type { Pool } from 'pg';
import { POSTGRES_MIGRATIONS } from './schema.ts';

/** Advisory-lock class of schema migrations ("SDST"); the second key is the schema's hash. */
const MIGRATION_LOCK_CLASS = 0x53445354;

/**
 * Brings the schema to the newest version. Every process runs it at start; a session advisory
 * lock lets one at a time look and apply, so processes starting together neither race on DDL nor
 * apply a version twice. Each version commits with its row in schema_migrations.
 * Returns the schema the tables live in.
 */
export async function migratePostgres(pool: Pool, schema: string | undefined): Promise<string> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema ?? '']);
    try {
      // The name was checked by assertSchemaName (connection.ts) before the pool existed.
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > POSTGRES_MIGRATIONS.length) {
        throw new Error(`the database schema is version ${current}, newer than this program knows (${POSTGRES_MIGRATIONS.length}): upgrade it`);
      }
      for (let version = current + 1; version <= POSTGRES_MIGRATIONS.length; version++) {
        await client.query('BEGIN');
        try {
          await client.query(POSTGRES_MIGRATIONS[version - 1]!);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          throw error;
        }
      }
      const found = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      const resolved = found.rows[0]?.schema;
      if (!resolved) throw new Error('no schema on the search_path to hold the tables');
      return resolved;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema ?? '']).catch(() => {
        // The session ends with the connection, and its lock with it.
        broken = true;
      });
    }
  } finally {
    client.release(broken);
  }
}
