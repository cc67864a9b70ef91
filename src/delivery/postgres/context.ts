import type { Pool } from 'pg';
import type { BacklogCache } from '../sql/backlog-cache.ts';
import type { SentProfileRecord } from '../sent-profile-store.ts';
import type { SettingsSeal } from '../settings-seal.ts';
import type { Clock, LaneSettleResult, LaneSettlement } from '../store.ts';
import type { PgAppendQueue } from './append.ts';
import type { StatementGroup } from './statement-group.ts';

/**
 * What an operation of the PostgreSQL store runs with: the pool, the store's clock (every time
 * comes from it, never from the database's now(), so the processes' clocks must agree to well
 * within a lease), the backlog cache and the work signal. Each file of this folder is one group
 * of operations; each statement is one transaction unless it says otherwise.
 */
export interface PostgresStoreContext {
  readonly pool: Pool;
  readonly clock: Clock;
  /** Seals secret settings on their way in and opens them on their way out. */
  readonly seal: SettingsSeal;
  readonly backlogCache: BacklogCache;
  /** Events may have become due: wake this process's workers and, by NOTIFY, the others'. */
  announce(): void;
  /** Hear announcements, this process's and the others'; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Ingest's group commit (append.ts). */
  readonly appends: PgAppendQueue;
  /** Settles waiting together go in one statement (settle.ts). */
  readonly settles: StatementGroup<LaneSettlement, LaneSettleResult>;
  /** Identity ties read and written together (identity-links.ts). */
  readonly identityReads: StatementGroup<IdentityKey, string | null>;
  readonly identityWrites: StatementGroup<IdentityKey & { userId: string }, void>;
  /** What the last identify delivered per user, read and written together (sent-profiles.ts). */
  readonly sentProfileReads: StatementGroup<SentProfileKey, SentProfileRecord | null>;
  readonly sentProfileWrites: StatementGroup<SentProfileKey & { record: SentProfileRecord }, void>;
  readonly sentProfileForgets: StatementGroup<{ destinationId: string; extids: string[] }, number>;
}

/** A user (Sailthru extid) of a destination. */
export interface SentProfileKey {
  destinationId: string;
  extid: string;
}

/** An anonymousId of a destination. */
export interface IdentityKey {
  destinationId: string;
  anonymousId: string;
}
