import { DEFAULT_MAPPINGS_SQL_LITERAL } from '../sql/default-mappings-sql.ts';

/**
 * The SQLite schema, as ordered migrations. The PostgreSQL schema (../postgres/schema.ts) has the
 * same tables and columns, checked by test/delivery/schema-parity.test.ts: times are epoch
 * milliseconds (INTEGER here, BIGINT there; no time-zone handling), JSON is TEXT here and `json`
 * there, the `paused` flag is 0/1 here and a boolean there, ids are INTEGER PRIMARY KEY
 * AUTOINCREMENT here and identity columns there. The indexes differ where the planners do
 * (migration 2 below).
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE destinations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    pause_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE write_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    destination_id TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE INDEX write_keys_destination ON write_keys (destination_id);

  -- AUTOINCREMENT: ids are never reused after deletes, so id order stays arrival order.
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination_id TEXT NOT NULL,
    lane_key TEXT,
    message_id TEXT,
    type TEXT,
    event_name TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    first_attempt_at INTEGER,
    last_error TEXT,
    received_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    settled_at INTEGER,
    outcome TEXT
  );
  -- Dedupe: one accepted event per (destination, messageId). Rejected events are outside it so a
  -- corrected resend with the same messageId is still accepted.
  CREATE UNIQUE INDEX events_message ON events (message_id, destination_id) WHERE status <> 'rejected';
  -- The head of a lane: the oldest unsettled event of (destination, lane).
  CREATE INDEX events_lane_head ON events (destination_id, lane_key, id) WHERE status IN ('pending', 'retrying');
  -- Delivery log searches, newest first.
  CREATE INDEX events_lane_key ON events (lane_key, id);
  CREATE INDEX events_status ON events (status, destination_id, id);
  CREATE INDEX events_event_name ON events (event_name, id);

  -- One row per (destination, lane). next_run_at is when the lane is next due: now, its head's
  -- retry time, or (while leased) the end of the lease, so a dead worker's lane comes back by itself.
  CREATE TABLE lanes (
    destination_id TEXT NOT NULL,
    lane_key TEXT NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0,
    next_run_at INTEGER NOT NULL,
    leased_by TEXT,
    lease_until INTEGER,
    PRIMARY KEY (destination_id, lane_key)
  );
  CREATE INDEX lanes_due ON lanes (next_run_at) WHERE pending > 0;

  CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    calls TEXT NOT NULL,
    warnings TEXT NOT NULL,
    worker_id TEXT NOT NULL
  );
  CREATE INDEX attempts_event ON attempts (event_id, id);
  `,
  // Every index keyed by something random (a messageId, a user) rewrites a page of the WAL per
  // inserted event; the two lane indexes become one, which serves the head of a lane (a seek per
  // unsettled status) and the delivery log's search by user alike. (PostgreSQL keeps the two.)
  `
  DROP INDEX events_lane_head;
  DROP INDEX events_lane_key;
  CREATE INDEX events_lane ON events (lane_key, destination_id, status, id);
  `,
  // Console sessions in the database, so every process behind a balancer knows them and a
  // restart signs nobody out. id_hash is HMAC(ADMIN_TOKEN, session id); `state` (flash messages,
  // a write key shown once) is sealed under a key derived from the session id, which only the
  // cookie holds (src/server/console/session.ts).
  `
  CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    state TEXT NOT NULL
  );
  CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
  `,
  // Wrong admin tokens, one row per try, so that the limit on them holds across processes
  // (src/server/admin-auth.ts); rows older than its window are deleted as new ones come.
  `
  CREATE TABLE sign_in_failures (
    client TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX sign_in_failures_client ON sign_in_failures (client, at);
  CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
  `,
  // anonymousId → userId, once an identify or alias tied them (SPEC.md §0): a later event with only
  // the anonymousId is sent under the userId, by whichever worker delivers it, after restarts too.
  `
  CREATE TABLE identity_links (
    destination_id TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (destination_id, anonymous_id)
  );
  CREATE INDEX identity_links_user ON identity_links (destination_id, user_id);
  `,
  // Issue 17: a dropped dead letter stays in the log (status 'dropped', who and when) until
  // retention prunes it; the audit log records every operator action (src/server/audit.ts).
  `
  ALTER TABLE events ADD COLUMN dropped_by TEXT;
  ALTER TABLE events ADD COLUMN dropped_at INTEGER;

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT,
    channel TEXT NOT NULL,
    source TEXT,
    target TEXT,
    filter TEXT,
    count INTEGER,
    detail TEXT
  );
  CREATE INDEX audit_log_action ON audit_log (action, id);
  CREATE INDEX audit_log_at ON audit_log (at);
  `,
  // The console (issue 17): a user search also finds an event by its anonymousId when its lane
  // is its userId (anonymous_id is stored only then, so most rows leave the index alone); event
  // names are searched by case-insensitive prefix (the index replaces the exact-name one, so
  // ingest keeps one name index); chart figures live here so they survive restarts and read the
  // same from every process: one row per (resolution, bucket, process), each process writing its own;
  // write keys show their first characters and when ingest last accepted them.
  `
  ALTER TABLE events ADD COLUMN anonymous_id TEXT;
  CREATE INDEX events_anonymous_id ON events (anonymous_id, id) WHERE anonymous_id IS NOT NULL;
  DROP INDEX events_event_name;
  CREATE INDEX events_event_name_folded ON events (lower(event_name), id);
  ALTER TABLE write_keys ADD COLUMN key_prefix TEXT;
  ALTER TABLE write_keys ADD COLUMN last_used_at INTEGER;
  CREATE TABLE series_buckets (
    resolution_ms INTEGER NOT NULL,
    bucket_start INTEGER NOT NULL,
    process_id TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (resolution_ms, bucket_start, process_id)
  );
  `,
  // Issue 19: what the last identify delivered per user, as a hash of its POST /user payload (never
  // the payload: it holds PII), so an identical identify within the TTL is skipped after restarts.
  `
  CREATE TABLE sent_profiles (
    destination_id TEXT NOT NULL,
    extid TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    settings_version INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (destination_id, extid)
  );
  `,
  // Issue 21: mappings (docs/mappings.md). Every existing destination gets the default list
  // written out, so what it sends does not change; per-mapping cost buckets, shaped as the charts'.
  `
  ALTER TABLE destinations ADD COLUMN mappings TEXT;
  UPDATE destinations SET mappings = ${DEFAULT_MAPPINGS_SQL_LITERAL};
  CREATE TABLE mapping_buckets (
    resolution_ms INTEGER NOT NULL,
    bucket_start INTEGER NOT NULL,
    process_id TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (resolution_ms, bucket_start, process_id)
  );
  `,
  // Issue 19 item 5: events_lane (migration 2) took a random page write per ingested event, and
  // status in its key moved every settle and retry within it. Split by settlement: ingest inserts
  // into the head index alone, which holds only the backlog (small and hot while delivery keeps
  // up); a retry changes neither index; a settle moves the row from the head index to the log
  // index. The delivery log's user search reads both (one SELECT each, see eventSelects), and
  // the status literals match UNSETTLED so the planner can use them (test/delivery/sqlite-indexes.test.ts).
  `
  DROP INDEX events_lane;
  CREATE INDEX events_lane_head ON events (lane_key, destination_id, id) WHERE status IN ('pending', 'retrying');
  CREATE INDEX events_lane_settled ON events (lane_key, id) WHERE status NOT IN ('pending', 'retrying');
  `,
  // Issue 19, privacy: a deletion removes every row naming the user, including the rows keyed by
  // an address's hash (`email-sha256:…`) whose payload_hash holds the extid of who posted it last,
  // when the deletion does not carry the address (sent-profile-store.ts). Partial: identifies'
  // rows (nearly all) are not in it; the deletion repeats the LIKE term so the planner uses it.
  `
  CREATE INDEX sent_profiles_email_claims ON sent_profiles (destination_id, payload_hash) WHERE extid LIKE 'email-sha256:%';
  `,
];
