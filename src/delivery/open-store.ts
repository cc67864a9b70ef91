import { openSqliteStore } from './sqlite-store.ts';
import type { Clock, EventStore } from './store.ts';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/sailthru-destination.db';

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** `sqlite:PATH` (also `sqlite://PATH`, `sqlite::memory:`) or `postgres://…` / `postgresql://…`. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/i.exec(url);
  if (sqlite?.[1]) return { kind: 'sqlite', path: sqlite[1] };
  // Only the scheme is echoed: a URL may carry a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new Error(
    `DATABASE_URL must be sqlite:PATH or postgres://…${scheme ? ` (got a ${scheme}: URL)` : ''}`,
  );
}

export interface OpenStoreOptions {
  clock?: Clock;
}

/** Opens and migrates the store DATABASE_URL names. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<EventStore> {
  const location = parseDatabaseUrl(url);
  if (location.kind === 'postgres') {
    throw new Error('the PostgreSQL store is not available yet (issue "Distributed mode"); use sqlite:PATH');
  }
  return openSqliteStore({ path: location.path, ...(options.clock ? { clock: options.clock } : {}) });
}
