import type { Database } from 'better-sqlite3';
import { appendWrites } from './writes/append.ts';
import { auditWrites } from './writes/audit.ts';
import { deadLetterWrites } from './writes/dead-letters.ts';
import { destinationWrites } from './writes/destinations.ts';
import { laneWrites } from './writes/lanes.ts';
import { pruneWrites } from './writes/prune.ts';
import { identityLinkWrites } from './writes/identity-links.ts';
import { sentProfileWrites } from './writes/sent-profiles.ts';
import { bucketWrites } from './writes/series.ts';
import { sessionWrites } from './writes/sessions.ts';
import { probeWrites } from './writes/probe.ts';
import { signInFailureWrites } from './writes/sign-in-failures.ts';
import { settleWrites } from './writes/settle.ts';
import { writeKeyWrites } from './writes/write-keys.ts';

/**
 * Every write of the SQLite store, as synchronous operations on one connection taking plain,
 * structured-cloneable arguments (times as epoch ms, chosen by the caller's clock). They run
 * inside the group commit, either on the main thread or on the writer thread. Each file of
 * writes/ is one group of operations, named as the main-thread file that calls it; a new group is
 * added here.
 */
export function sqliteWrites(db: Database) {
  return {
    ...appendWrites(db),
    ...laneWrites(db),
    ...settleWrites(db),
    ...deadLetterWrites(db),
    ...pruneWrites(db),
    ...destinationWrites(db),
    ...writeKeyWrites(db),
    ...sessionWrites(db),
    ...probeWrites(db),
    ...signInFailureWrites(db),
    ...identityLinkWrites(db),
    ...sentProfileWrites(db),
    ...auditWrites(db),
    ...bucketWrites(db),
  };
}

export type SqliteWrites = ReturnType<typeof sqliteWrites>;

/** The operations a write channel carries, by name. */
export type WriteOp = keyof SqliteWrites;
export type WriteArgs<K extends WriteOp> = Parameters<SqliteWrites[K]>;
export type WriteResult<K extends WriteOp> = ReturnType<SqliteWrites[K]>;

/** Runs a named operation (the writer thread receives names and arguments as messages). */
export function runWrite<K extends WriteOp>(writes: SqliteWrites, op: K, args: WriteArgs<K>): WriteResult<K> {
  // TypeScript cannot narrow a method by a generic key; K ties the arguments to the method.
  const method = writes[op] as unknown as (...a: WriteArgs<K>) => WriteResult<K>;
  return method(...args);
}
