import type { SettingsSeal } from './settings-seal.ts';
import type { Clock, EventStore } from './store.ts';

// Each store is imported only when a URL names it: a SQLite process never loads pg (nor a
// PostgreSQL one better-sqlite3), which keeps the single-process server's memory down.

export const DEFAULT_DATABASE_URL = 'sqlite:./data/sailthru-destination.db';

export type DatabaseLocation =
  | { kind: 'sqlite'; path: string }
  /** `schema` and `poolMax` come from the `schema` and `pool_max` URL parameters, removed from `url`. */
  | { kind: 'postgres'; url: string; schema?: string; poolMax?: number };

/**
 * `sqlite:PATH` (also `sqlite://PATH`, `sqlite::memory:`) or `postgres://…` / `postgresql://…`,
 * the latter optionally with `?schema=NAME` (tables in that schema, created when missing) and
 * `pool_max=N` (connections per process).
 */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return parsePostgresUrl(url);
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/i.exec(url);
  if (sqlite?.[1]) return { kind: 'sqlite', path: sqlite[1] };
  // Only the scheme is echoed: a URL may carry a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new Error(
    `DATABASE_URL must be sqlite:PATH or postgres://…${scheme ? ` (got a ${scheme}: URL)` : ''}`,
  );
}

function parsePostgresUrl(url: string): DatabaseLocation {
  const at = url.indexOf('?');
  if (at < 0) return { kind: 'postgres', url };
  const params = new URLSearchParams(url.slice(at + 1));
  const schema = params.get('schema');
  const poolMax = params.get('pool_max');
  params.delete('schema');
  params.delete('pool_max');
  const rest = params.toString();
  const location: DatabaseLocation = { kind: 'postgres', url: rest === '' ? url.slice(0, at) : `${url.slice(0, at)}?${rest}` };
  if (schema !== null) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('DATABASE_URL: schema must be a lower-case identifier ([a-z_][a-z0-9_]*)');
    location.schema = schema;
  }
  if (poolMax !== null) {
    const n = Number(poolMax);
    if (!Number.isInteger(n) || n < 1) throw new Error('DATABASE_URL: pool_max must be a positive integer');
    location.poolMax = n;
  }
  return location;
}

export interface OpenStoreOptions {
  clock?: Clock;
  /** How secret settings are kept (default: as given). */
  seal?: SettingsSeal;
  /** Errors no caller sees: PostgreSQL's dropped idle connections or lost LISTEN, SQLite's writer thread dying. */
  onError?: (error: unknown) => void;
}

/**
 * The database could not be opened or migrated at start (a read-only file or volume, a missing
 * directory, PostgreSQL down): one line naming the database and the cause, for `serve` to print
 * before exiting with code 1.
 */
export class StoreOpenError extends Error {
  constructor(location: DatabaseLocation, cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    const reason = (cause instanceof Error ? cause.message : String(cause)).split('\n', 1)[0];
    super(`cannot open the database ${describeLocation(location)}: ${reason}${typeof code === 'string' ? ` (${code})` : ''}${hintFor(code)}`, { cause });
    this.name = 'StoreOpenError';
  }
}

/** Where the database is, never a password. */
function describeLocation(location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return `sqlite:${location.path}`;
  try {
    const u = new URL(location.url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'postgres';
  }
}

function hintFor(code: unknown): string {
  if (typeof code === 'string' && /^(SQLITE_(CANTOPEN|READONLY|PERM)|EACCES|EROFS|EPERM)/.test(code)) {
    return ': the process must be able to write the file, its -wal and -shm files and their directory (a read-only volume, or files owned by another user)';
  }
  return '';
}

/** Opens and migrates the store DATABASE_URL names; a failure is a StoreOpenError. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  const location = parseDatabaseUrl(url);
  try {
    return await openStoreAt(location, options);
  } catch (error) {
    throw new StoreOpenError(location, error);
  }
}

async function openStoreAt(location: DatabaseLocation, options: OpenStoreOptions): Promise<EventStore> {
  const clock = { ...(options.clock ? { clock: options.clock } : {}), ...(options.seal ? { seal: options.seal } : {}) };
  if (location.kind === 'postgres') {
    const { openPostgresStore } = await import('./postgres-store.ts');
    return openPostgresStore({
      url: location.url,
      ...(location.schema !== undefined ? { schema: location.schema } : {}),
      ...(location.poolMax !== undefined ? { poolMax: location.poolMax } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...clock,
    });
  }
  const { openSqliteStore } = await import('./sqlite-store.ts');
  return openSqliteStore({ path: location.path, ...clock, ...(options.onError ? { onError: options.onError } : {}) });
}
