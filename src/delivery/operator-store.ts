/**
 * What the store keeps and reads for operators rather than for delivery: console sessions, wrong
 * admin tokens, the audit log, the console's chart figures, dead letters by reason and where the
 * live view left off. Part of the EventStore interface (./store.ts re-exports every type here);
 * both stores implement it, and test/delivery/store-contract.ts holds them to one suite.
 */

/** A console session as the database keeps it (src/server/console/session.ts owns its meaning). */
export interface ConsoleSessionRecord {
  /** HMAC(ADMIN_TOKEN, session id): the database never holds the id itself. */
  idHash: string;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** Sealed flash messages and one-time key; also the version compared by updateSessionState. */
  state: string;
}

/** Where console sessions live, so that every process serving the console sees the same ones. */
export interface ConsoleSessionStore {
  /** Adds a session; drops those last seen before `staleBefore` and the least recent beyond `keep`. */
  createSession(record: ConsoleSessionRecord, staleBefore: number, keep: number): Promise<void>;
  getSession(idHash: string): Promise<ConsoleSessionRecord | null>;
  /** Restarts the idle clock (never moves it back). */
  touchSession(idHash: string, lastSeen: number): Promise<void>;
  /**
   * Replaces the state only if it is still `expected` (compare-and-set), restarting the idle
   * clock; false when another request changed it first, or the session is gone.
   */
  updateSessionState(idHash: string, expected: string, state: string, lastSeen: number): Promise<boolean>;
  deleteSession(idHash: string): Promise<void>;
}

/** One operator action as the audit log keeps it (src/server/audit.ts owns the actions' names). */
export interface AuditRecordInput {
  action: string;
  /** The admin token's name; null when unknown (a failed sign-in). */
  actor: string | null;
  /** console, api or cli */
  channel: string;
  /** The client's address. */
  source: string | null;
  /** What was acted on: a destination, a key, an event, a user. */
  target: string | null;
  /** The selection acted on (a dead-letter filter), field by field. */
  filter: Record<string, string> | null;
  /** How many events it changed, when it changed events. */
  count: number | null;
  /** More, in words (never a secret): the settings fields changed, a reason. */
  detail: string | null;
}

export interface AuditRecord extends AuditRecordInput {
  id: number;
  /** From the store's clock. */
  at: Date;
}

export interface AuditQuery {
  action?: string;
  /** Keyset paging, newest first: pass the previous page's nextBeforeId. */
  beforeId?: number;
  /** default 50, at most 500 */
  limit?: number;
}

export interface AuditPage {
  records: AuditRecord[];
  nextBeforeId: number | null;
}

/** Who did what, kept in the database so every process sees (and writes) one history. */
export interface AuditLog {
  recordAudit(input: AuditRecordInput): Promise<AuditRecord>;
  listAudit(query: AuditQuery): Promise<AuditPage>;
  /** Retention: deletes records older than this, in batches; returns how many. */
  pruneAudit(olderThan: Date): Promise<number>;
}

/**
 * Wrong admin tokens by client address, kept in the database so that every process counts the
 * same tries (src/server/admin-auth.ts owns the limit and its window).
 */
export interface SignInFailureStore {
  /** Records one wrong token from `client` at `at`, and forgets every failure from before `forgetBefore`. */
  recordSignInFailure(client: string, at: number, forgetBefore: number): Promise<void>;
  /** How many wrong tokens `client` sent at or after `since`. */
  countSignInFailures(client: string, since: number): Promise<number>;
  /** Forgets `client`'s failures (it signed in). */
  clearSignInFailures(client: string): Promise<void>;
}

/**
 * One process's chart figures for one time bucket at one resolution (src/server/series-store.ts
 * owns the meaning of `data`). Each process writes only its own rows, so no two writers meet.
 */
export interface SeriesBucket {
  resolutionMs: number;
  /** Epoch ms, a multiple of resolutionMs. */
  bucketStart: number;
  processId: string;
  data: unknown;
  updatedAt: number;
}

/** The console's charts, kept in the store so they survive restarts and read the same everywhere. */
export interface SeriesStore {
  /** Insert or replace these rows, then delete rows of each resolution older than its cutoff. */
  saveSeriesBuckets(rows: SeriesBucket[], pruneBefore: Array<{ resolutionMs: number; before: number }>): Promise<void>;
  /** Rows of one resolution with from <= bucketStart < to, by bucketStart. */
  readSeriesBuckets(resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]>;
}

/**
 * Per-mapping cost figures (events matched, Sailthru calls made), in buckets of the same shape as
 * the charts' (src/server/mapping-stats.ts owns `data`), in a table of their own.
 */
export interface MappingStatsStore {
  /** Insert or replace these rows, then delete rows of each resolution older than its cutoff. */
  saveMappingBuckets(rows: SeriesBucket[], pruneBefore: Array<{ resolutionMs: number; before: number }>): Promise<void>;
  /** Rows of one resolution with from <= bucketStart < to, by bucketStart. */
  readMappingBuckets(resolutionMs: number, from: number, to: number): Promise<SeriesBucket[]>;
}

/** Dead letters with one exact reason (their last error); the console merges these by normalised reason. */
export interface DeadLetterReason {
  reason: string | null;
  count: number;
  /** When the first and the last of them were dead-lettered. */
  firstSeen: Date;
  lastSeen: Date;
  /** The oldest of them. */
  sampleId: number;
}

/** Where a reader of the log's activity left off: the newest event and attempt ids it has seen. */
export interface ActivityCursor {
  eventId: number;
  attemptId: number;
}
