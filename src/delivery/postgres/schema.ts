import { DEFAULT_MAPPINGS_SQL_LITERAL } from '../sql/default-mappings-sql.ts';

/**
 * The PostgreSQL schema, as ordered migrations: the same tables, columns and meanings as
 * ../sqlite/schema.ts (test/delivery/schema-parity.test.ts checks the tables and columns), so both
 * stores share their row mapping and pass one contract suite. Times stay epoch milliseconds
 * (BIGINT) as in SQLite: every time comes from the store's injected clock, never from the
 * database's now(), so leases and retry times mean the same thing in both stores.
 *
 * Key columns use the "C" collation: byte order, as SQLite sorts, and cheaper index compares.
 * JSON columns are `json`, not `jsonb`: `json` keeps the text as given (key order, `\u0000`,
 * lone surrogates) where `jsonb` would reorder or refuse it.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE destinations (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    settings JSON NOT NULL,
    paused BOOLEAN NOT NULL DEFAULT false,
    pause_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );

  CREATE TABLE write_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    key_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    destination_id TEXT COLLATE "C" NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );
  CREATE INDEX write_keys_destination ON write_keys (destination_id);

  -- A sequence never hands an id out twice, so id order stays arrival order after deletes.
  CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination_id TEXT COLLATE "C" NOT NULL,
    lane_key TEXT COLLATE "C",
    message_id TEXT COLLATE "C",
    type TEXT,
    event_name TEXT,
    payload JSON NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    first_attempt_at BIGINT,
    last_error TEXT,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    settled_at BIGINT,
    outcome JSON
  );
  -- Dedupe: one accepted event per (destination, messageId); rejected events stay outside it.
  CREATE UNIQUE INDEX events_message ON events (message_id, destination_id) WHERE status <> 'rejected';
  -- The head of a lane: the oldest unsettled event of (destination, lane).
  CREATE INDEX events_lane_head ON events (destination_id, lane_key, id) WHERE status IN ('pending', 'retrying');
  -- Delivery log searches, newest first.
  CREATE INDEX events_lane_key ON events (lane_key, id);
  CREATE INDEX events_status ON events (status, destination_id, id);
  CREATE INDEX events_event_name ON events (event_name, id);

  -- One row per (destination, lane); see ../sqlite/schema.ts for next_run_at. Every claim, settle
  -- and renewal rewrites a row here: leave room on each page and vacuum it eagerly.
  CREATE TABLE lanes (
    destination_id TEXT COLLATE "C" NOT NULL,
    lane_key TEXT COLLATE "C" NOT NULL,
    pending INTEGER NOT NULL DEFAULT 0,
    next_run_at BIGINT NOT NULL,
    leased_by TEXT,
    lease_until BIGINT,
    PRIMARY KEY (destination_id, lane_key)
  ) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
  CREATE INDEX lanes_due ON lanes (next_run_at) WHERE pending > 0;

  CREATE TABLE attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id BIGINT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    calls JSON NOT NULL,
    warnings JSON NOT NULL,
    worker_id TEXT NOT NULL
  );
  CREATE INDEX attempts_event ON attempts (event_id, id);
  `,
  // Console sessions shared by every process (see ../sqlite/schema.ts).
  `
  CREATE TABLE console_sessions (
    id_hash TEXT COLLATE "C" PRIMARY KEY,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    state TEXT NOT NULL
  );
  CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
  `,
  // Wrong admin tokens, counted across processes (see ../sqlite/schema.ts).
  `
  CREATE TABLE sign_in_failures (
    client TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX sign_in_failures_client ON sign_in_failures (client, at);
  CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
  `,
  // anonymousId → userId ties (SPEC.md §0; see ../sqlite/schema.ts).
  `
  CREATE TABLE identity_links (
    destination_id TEXT COLLATE "C" NOT NULL,
    anonymous_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    linked_at BIGINT NOT NULL,
    PRIMARY KEY (destination_id, anonymous_id)
  );
  CREATE INDEX identity_links_user ON identity_links (destination_id, user_id);
  `,
  // Dropped dead letters kept in the log, and the audit log (see ../sqlite/schema.ts).
  `
  ALTER TABLE events ADD COLUMN dropped_by TEXT;
  ALTER TABLE events ADD COLUMN dropped_at BIGINT;

  CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    actor TEXT,
    channel TEXT NOT NULL,
    source TEXT,
    target TEXT,
    filter JSON,
    count INTEGER,
    detail TEXT
  );
  CREATE INDEX audit_log_action ON audit_log (action, id);
  CREATE INDEX audit_log_at ON audit_log (at);
  `,
  // The console (issue 17): anonymousId search, name search by folded prefix, chart figures
  // (see ../sqlite/schema.ts). The name key folds A–Z only, in byte order, as SQLite's lower().
  `
  ALTER TABLE events ADD COLUMN anonymous_id TEXT COLLATE "C";
  CREATE INDEX events_anonymous_id ON events (anonymous_id, id) WHERE anonymous_id IS NOT NULL;
  DROP INDEX events_event_name;
  CREATE INDEX events_event_name_folded ON events ((translate(event_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C"), id);
  ALTER TABLE write_keys ADD COLUMN key_prefix TEXT;
  ALTER TABLE write_keys ADD COLUMN last_used_at BIGINT;
  CREATE TABLE series_buckets (
    resolution_ms BIGINT NOT NULL,
    bucket_start BIGINT NOT NULL,
    process_id TEXT COLLATE "C" NOT NULL,
    data JSON NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (resolution_ms, bucket_start, process_id)
  );
  `,
  // A settle changes the event's status, so it is never a HOT update, and every index that holds
  // the status gets a new entry. The status index now keeps only events that are not delivered:
  // the usual settle (delivered) writes nothing there, and a search for delivered events walks
  // the primary key newest first (nearly every event is delivered).
  `
  DROP INDEX events_status;
  CREATE INDEX events_status ON events (status, destination_id, id) WHERE status <> 'delivered';
  `,
  // Issue 19: what the last identify delivered per user (see ../sqlite/schema.ts).
  `
  CREATE TABLE sent_profiles (
    destination_id TEXT COLLATE "C" NOT NULL,
    extid TEXT COLLATE "C" NOT NULL,
    payload_hash TEXT COLLATE "C" NOT NULL,
    settings_version BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (destination_id, extid)
  );
  `,
  // Issue 21: mappings (see ../sqlite/schema.ts): existing destinations get the defaults written out.
  `
  ALTER TABLE destinations ADD COLUMN mappings JSON;
  UPDATE destinations SET mappings = ${DEFAULT_MAPPINGS_SQL_LITERAL}::json;
  CREATE TABLE mapping_buckets (
    resolution_ms BIGINT NOT NULL,
    bucket_start BIGINT NOT NULL,
    process_id TEXT COLLATE "C" NOT NULL,
    data JSON NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (resolution_ms, bucket_start, process_id)
  );
  `,
  // Issue 22: HOT updates of lanes. The claim index was partial on `pending > 0`, so every change
  // of a lane's count re-entered it (never HOT). Now it holds every lane by next_run_at, and a lane
  // with nothing queued and no lease is parked at the far end (lane-parking.ts; the literal is
  // PARKED_AT): an append to a non-empty lane and a settle that keeps the lease touch no indexed
  // column. fillfactor 70 (first migration) leaves the page room a HOT update needs.
  `
  DROP INDEX lanes_due;
  UPDATE lanes SET next_run_at = 9007199254740991 WHERE pending = 0 AND leased_by IS NULL;
  CREATE INDEX lanes_next_run ON lanes (next_run_at);
  `,
  // Issue 19, privacy: a deletion finds the rows naming the user as who posted an address last
  // (see ../sqlite/schema.ts). Partial: identifies' rows are not in it. payload_hash becomes an
  // indexed column, so an identify's re-record that changes its hash is no longer a HOT update
  // (the table has no fillfactor room for HOT anyway; docs/decisions.md).
  `
  CREATE INDEX sent_profiles_email_claims ON sent_profiles (destination_id, payload_hash) WHERE extid LIKE 'email-sha256:%';
  `,
];
