import pg from 'pg';
import type { ClientConfig, Pool, PoolClient, PoolConfig, QueryResultRow } from 'pg';

/**
 * Connections to PostgreSQL for the store: a pool whose sessions all use one schema, BIGINT
 * columns read as JS numbers (ids and epoch-ms times stay far below 2^53), and transactions
 * that retry on deadlock or serialization failure.
 */

export interface PostgresConnectionOptions {
  connectionString: string;
  /** Schema holding the tables (created when missing); default: the server's search_path. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
  /** Told about errors of idle pooled connections (the pool drops them and reconnects). */
  onError?: (error: unknown) => void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names are spliced into SQL and connection options: only plain lower-case identifiers. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`schema name must match ${SCHEMA_NAME.source} (got ${JSON.stringify(schema)})`);
  }
}

const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);

/** Settings shared by the pool and the dedicated LISTEN connection. */
export function clientConfig(options: PostgresConnectionOptions): ClientConfig {
  const config: ClientConfig = {
    connectionString: options.connectionString,
    application_name: 'sailthru-destination',
    types: {
      // Per connection, not pg.types.setTypeParser: other users of `pg` in the process keep theirs.
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  };
  if (options.schema !== undefined) {
    assertSchemaName(options.schema);
    config.options = `-c search_path=${options.schema}`;
  }
  return config;
}

export function createPool(options: PostgresConnectionOptions): Pool {
  const config: PoolConfig = { ...clientConfig(options), max: options.max ?? 10, idleTimeoutMillis: 30_000 };
  const pool = new pg.Pool(config);
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}

/** Deadlock and serialization failures: the transaction did nothing and may simply run again. */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

const MAX_TRIES = 5;

/** Runs `work` in one transaction (READ COMMITTED), again from the start on a transient failure. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    // A checked-out client whose connection is killed between two statements (an administrator's
    // pg_terminate_backend, a failover) emits 'error' outside any query: without a listener that
    // is an uncaught exception, and the process dies. The next statement fails instead.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      if (attempt < MAX_TRIES && isTransient(error)) continue;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}

/** One statement on the pool (its own transaction), again on a transient failure. */
export async function queryRetrying<R extends QueryResultRow>(
  pool: Pool,
  query: { name?: string; text: string; values?: unknown[] },
): Promise<pg.QueryResult<R>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pool.query<R>(query);
    } catch (error) {
      if (attempt < MAX_TRIES && isTransient(error)) continue;
      throw error;
    }
  }
}

/**
 * PostgreSQL text cannot hold NUL; JSON can carry one (`\u0000`) into a userId or messageId.
 * Such characters become U+FFFD in columns, consistently on write and on search; the JSON
 * payload keeps the original.
 */
export function pgText<T extends string | null | undefined>(value: T): T {
  return (typeof value === 'string' && value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value) as T;
}
