import type { Pool } from 'pg';
import { SettingsSeal } from './settings-seal.ts';
import { PgAppendQueue } from './postgres/append.ts';
import { clientConfig, createPool, type PostgresConnectionOptions } from './postgres/connection.ts';
import type { PostgresStoreContext } from './postgres/context.ts';
import { readLinks, writeLinks } from './postgres/identity-batches.ts';
import { migratePostgres } from './postgres/migrate.ts';
import * as operations from './postgres/operations.ts';
import { deleteSentProfiles, readSentProfiles, writeSentProfiles } from './postgres/sent-profile-batches.ts';
import { settleLanes } from './postgres/settle-lanes.ts';
import { StatementGroup } from './postgres/statement-group.ts';
import { channelFor, PgWorkSignal } from './postgres/work-signal.ts';
import { BacklogCache } from './sql/backlog-cache.ts';
import { OperationStore, type StoreOperations } from './store-operations.ts';
import { systemClock, type Clock, type LaneSettlement } from './store.ts';

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:5432/db` (without the `schema` / `pool_max` parameters). */
  url: string;
  /** Schema for the tables, created when missing; default: the server's search_path (public). */
  schema?: string;
  /** Connections in this process's pool; default 10. */
  poolMax?: number;
  clock?: Clock;
  /** How secret settings are kept (default: as given; the service seals them under SECRETS_KEY). */
  seal?: SettingsSeal;
  /** How long backlog() may serve a cached total, ms (it is asked on every ingest request). */
  backlogCacheMs?: number;
  /** Errors that do not reach a caller: idle connections dropped, a lost LISTEN, a failed NOTIFY. */
  onError?: (error: unknown) => void;
}

/** Opens (creating the schema when needed) and migrates a PostgreSQL event store. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresEventStore> {
  const store = new PostgresEventStore(options);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/**
 * The event store for many processes on many machines: the same tables and semantics as the
 * SQLite store, on a `pg` pool. Workers claim lanes with FOR UPDATE SKIP LOCKED under leases;
 * appends are group-committed; LISTEN/NOTIFY tells idle workers elsewhere that work arrived.
 * The operations are in postgres/; this class opens and closes.
 */
export class PostgresEventStore extends OperationStore<PostgresStoreContext> {
  /** The pool; shared with the PostgreSQL rate limiter (shared-rate-limit.ts). */
  readonly pool: Pool;
  protected readonly ctx: PostgresStoreContext;
  private signal: PgWorkSignal;
  private readonly connection: PostgresConnectionOptions;
  private readonly onError: (error: unknown) => void;
  private migrated: Promise<void> | null = null;
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    super(operations satisfies StoreOperations<PostgresStoreContext>);
    this.onError = options.onError ?? (() => {});
    this.connection = {
      connectionString: options.url,
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.poolMax !== undefined ? { max: options.poolMax } : {}),
      onError: this.onError,
    };
    this.pool = createPool(this.connection);
    const clock = options.clock ?? systemClock;
    const backlogCache = new BacklogCache(options.backlogCacheMs ?? 1000);
    const laneOf = (input: LaneSettlement) => JSON.stringify([input.lane.destinationId, input.lane.laneKey]);
    this.ctx = {
      pool: this.pool,
      clock,
      seal: options.seal ?? SettingsSeal.plaintext(),
      backlogCache,
      announce: () => this.signal.announce(),
      subscribe: (listener) => this.signal.subscribe(listener),
      appends: new PgAppendQueue(this.pool, clock, (stored) => {
        backlogCache.stored(stored);
        this.signal.announce();
      }),
      // One statement at a time each: what waits meanwhile goes in the next (statement-group.ts).
      settles: new StatementGroup({ run: (inputs) => settleLanes(this.ctx, inputs), keyOf: laneOf, maxGroup: 256 }),
      identityReads: new StatementGroup({ run: (keys) => readLinks(this.ctx, keys), maxGroup: 500 }),
      identityWrites: new StatementGroup({ run: (links) => writeLinks(this.ctx, links), maxGroup: 500 }),
      sentProfileReads: new StatementGroup({ run: (keys) => readSentProfiles(this.ctx, keys), maxGroup: 500 }),
      sentProfileWrites: new StatementGroup({ run: (writes) => writeSentProfiles(this.ctx, writes), maxGroup: 500 }),
      sentProfileForgets: new StatementGroup({ run: (forgets) => deleteSentProfiles(this.ctx, forgets), maxGroup: 100 }),
    };
    this.signal = this.makeSignal(options.schema ?? 'public');
  }

  /** Append transactions committed so far (each carries every batch that arrived meanwhile). */
  get commitCount(): number {
    return this.ctx.appends.commits;
  }

  /** Statements sent for settles, identity ties and sent profiles so far (tests check that they were shared). */
  get groupedStatements(): { settles: number; identityReads: number; identityWrites: number; sentProfileReads: number; sentProfileWrites: number; sentProfileForgets: number } {
    const { settles, identityReads, identityWrites, sentProfileReads, sentProfileWrites, sentProfileForgets } = this.ctx;
    return {
      settles: settles.statements,
      identityReads: identityReads.statements,
      identityWrites: identityWrites.statements,
      sentProfileReads: sentProfileReads.statements,
      sentProfileWrites: sentProfileWrites.statements,
      sentProfileForgets: sentProfileForgets.statements,
    };
  }

  /** The schema the tables are in (the configured one, or the search_path's first). */
  get schema(): string | undefined {
    return this.connection.schema;
  }

  /** The LISTEN/NOTIFY channel of this schema's queue. */
  get channel(): string {
    return this.signal.channel;
  }

  migrate(): Promise<void> {
    this.migrated ??= migratePostgres(this.pool, this.connection.schema).then((schema) => {
      // Processes whose search_path differs but which land on one schema must share a channel.
      if (schema !== (this.connection.schema ?? 'public')) this.signal = this.makeSignal(schema);
    });
    this.migrated.catch(() => {
      this.migrated = null;
    });
    return this.migrated;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ctx.appends.close();
    const { settles, identityReads, identityWrites, sentProfileReads, sentProfileWrites, sentProfileForgets } = this.ctx;
    await Promise.all([settles, identityReads, identityWrites, sentProfileReads, sentProfileWrites, sentProfileForgets].map((group) => group.drained()));
    await this.signal.close();
    await this.pool.end();
  }

  /** Resolves once this process hears other processes' NOTIFYs (tests). */
  listening(): Promise<void> {
    return this.signal.listening();
  }

  private makeSignal(schema: string): PgWorkSignal {
    return new PgWorkSignal(this.pool, clientConfig(this.connection), channelFor(schema), this.onError);
  }
}
