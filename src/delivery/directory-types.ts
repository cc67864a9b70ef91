import type { DestinationSettings } from '../destination/settings.ts';
import type { Mapping } from '../destination/mappings/schema.ts';
import type { WriteKeyDirectory } from './ingest.ts';

/** Destinations and their write keys, as the store keeps them (store.ts re-exports these). */

export interface Destination {
  id: string;
  name: string;
  /** Includes the shared secret: never log or render it. */
  settings: DestinationSettings;
  paused: boolean;
  pauseReason: string | null;
  /**
   * Which events reach Sailthru and as what (docs/mappings.md), as stored: null when none are
   * configured (DEFAULT_MAPPINGS apply). Read as stored: validateMappings before use.
   */
  mappings: Mapping[] | null;
  /** Bumped on every settings or mappings change, so caches of built destinations know when to rebuild. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewDestination {
  /** Generated (UUID) when absent. */
  id?: string;
  name: string;
  settings: DestinationSettings;
  /** Absent or null: none configured (the defaults apply). */
  mappings?: Mapping[] | null;
}

export interface DestinationPatch {
  name?: string;
  /** Replaces the settings; a change also resumes a paused destination (SPEC.md §9). */
  settings?: DestinationSettings;
  /** Replaces the mapping list (null: back to the defaults); bumps the version, the pause stays. */
  mappings?: Mapping[] | null;
  /**
   * With `mappings` only: replace them only if the destination is still at this version, in the
   * same statement; otherwise nothing is written and StaleVersionError (stale-version.ts) is thrown.
   */
  ifVersion?: number;
}

export interface WriteKeyRecord {
  id: string;
  destinationId: string;
  label: string;
  /** The key's first characters (write-keys.ts: writeKeyPrefix); null when too short to show any. */
  prefix: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  /** When ingest last accepted it (recorded about once a minute); null when never. */
  lastUsedAt: Date | null;
}

export interface CreatedWriteKey {
  /** The only time the plain key exists outside the client: the store keeps a SHA-256 of it. */
  key: string;
  record: WriteKeyRecord;
}

export interface DestinationDirectory {
  createDestination(input: NewDestination): Promise<Destination>;
  getDestination(id: string): Promise<Destination | null>;
  listDestinations(): Promise<Destination[]>;
  /** Returns null when there is no such destination. */
  updateDestination(id: string, patch: DestinationPatch): Promise<Destination | null>;
  /** Deletes the destination, its write keys, lanes and events. Returns false when absent. */
  deleteDestination(id: string): Promise<boolean>;
  /** Stop delivering (events stay queued) and say why. */
  pauseDestination(id: string, reason: string): Promise<void>;
  resumeDestination(id: string): Promise<void>;
  /**
   * Re-seals every secret setting kept otherwise than the store's seal would keep it (plaintext,
   * or under another key), leaving versions and pauses as they are; returns how many changed.
   */
  resealSecrets(): Promise<number>;
}

export interface WriteKeyStore extends WriteKeyDirectory {
  createWriteKey(destinationId: string, label: string): Promise<CreatedWriteKey>;
  /**
   * Register a key chosen elsewhere (the WRITE_KEYS env var) for a destination; idempotent.
   * Only its hash is stored.
   */
  importWriteKey(destinationId: string, key: string, label: string): Promise<WriteKeyRecord>;
  /** Returns false when there is no such key or it was already revoked. */
  revokeWriteKey(id: string): Promise<boolean>;
  listWriteKeys(destinationId?: string): Promise<WriteKeyRecord[]>;
  /** Ingest accepted these keys at `at`: last-used times move forward only. */
  recordWriteKeyUse(keys: string[], at: Date): Promise<void>;
}
