/**
 * Every operation of the SQLite store, by the EventStore method it serves: each file exports only
 * those (the store checks this module against StoreOperations<SqliteStoreContext>).
 */
export * from './ingest.ts';
export * from './writable.ts';
export * from './lanes.ts';
export * from './settle.ts';
export * from './delivery-log.ts';
export * from './dead-letters.ts';
export * from './prune.ts';
export * from './destinations.ts';
export * from './write-keys.ts';
export * from './sessions.ts';
export * from './sign-in-failures.ts';
export * from './identity-links.ts';
export * from './sent-profiles.ts';
export * from './audit.ts';
export * from './log-activity.ts';
export * from './series.ts';
export * from './queued-kinds.ts';
export * from './mapping-buckets.ts';
export * from './cart-markers.ts';
