import type { RefusalSummary } from './ingest-refusals.ts';
import type { Series } from './series-sampler.ts';
import type { AttemptRecord, AuditRecord, Destination, DestinationBacklog, StoredEvent, WriteKeyRecord } from '../delivery/store.ts';
import { isTestEvent } from './test-events.ts';
import type { BacklogForecastView } from '../delivery/backlog-forecaster.ts';
import { SECRET_SETTING_KEYS, validateSettings, type DestinationSettings, type SecretSettingKey } from '../destination/settings.ts';

/**
 * What the admin API and the console show of stored things. Secret settings are write-only:
 * they leave the server only as masks, never as their values; write keys only as their records.
 */

/** Secrets shorter than this show as "set": two characters of a short secret say too much. */
const MIN_SECRET_FOR_HINT = 12;

export function maskSecret(secret: string | undefined | null): string | null {
  if (typeof secret !== 'string' || secret === '') return null;
  return secret.length >= MIN_SECRET_FOR_HINT ? `••••${secret.slice(-2)}` : 'set';
}

export type PublicSettings = Omit<DestinationSettings, SecretSettingKey> & Record<SecretSettingKey, string | null>;

export interface BacklogView {
  unsettled: number;
  retrying: number;
  /** Dead letters. */
  failed: number;
  oldestUnsettledAgeMs: number | null;
}

export interface DestinationView {
  id: string;
  name: string;
  settings: PublicSettings;
  /** What is wrong with the stored settings (the destination cannot deliver until fixed). */
  settingsProblems: string[];
  paused: boolean;
  pauseReason: string | null;
  version: number;
  /** Defined in the environment or config file: a restart applies those fields again. */
  declared: boolean;
  backlog: BacklogView;
  /** When the backlog clears at current limits (absent where no forecaster runs). */
  forecast?: BacklogForecastView;
  createdAt: string;
  updatedAt: string;
}

export const EMPTY_BACKLOG: BacklogView = { unsettled: 0, retrying: 0, failed: 0, oldestUnsettledAgeMs: null };

export function destinationView(d: Destination, backlog: DestinationBacklog | undefined, declared: boolean): DestinationView {
  // Stored settings may be partial (declared but incomplete): show what is there.
  const stored = (d.settings ?? {}) as Partial<DestinationSettings>;
  const settings: Record<string, unknown> = { ...stored };
  for (const key of SECRET_SETTING_KEYS) settings[key] = maskSecret(stored[key]);
  const checked = validateSettings(stored);
  return {
    id: d.id,
    name: d.name,
    settings: settings as PublicSettings,
    settingsProblems: checked.ok ? [] : checked.errors,
    paused: d.paused,
    pauseReason: d.pauseReason,
    version: d.version,
    declared,
    backlog: backlog
      ? {
          unsettled: backlog.unsettled,
          retrying: backlog.retrying,
          failed: backlog.failed,
          oldestUnsettledAgeMs: backlog.oldestUnsettledAgeMs,
        }
      : EMPTY_BACKLOG,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

export interface WriteKeyView {
  id: string;
  destinationId: string;
  label: string;
  /** The key's first characters, to tell keys apart; null for a short chosen key. */
  prefix: string | null;
  createdAt: string;
  revokedAt: string | null;
  /** When ingest last accepted it (to the minute or so); null when never. */
  lastUsedAt: string | null;
}

export function writeKeyView(k: WriteKeyRecord): WriteKeyView {
  return {
    id: k.id,
    destinationId: k.destinationId,
    label: k.label,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
    lastUsedAt: iso(k.lastUsedAt),
  };
}

/** One row of the delivery log (the event page adds payload, outcome and attempts). */
export interface EventSummaryView {
  id: number;
  destinationId: string;
  userId: string | null;
  messageId: string | null;
  type: string | null;
  event: string | null;
  state: StoredEvent['status'];
  attempts: number;
  lastError: string | null;
  /** The outcome's reason (skipped, failed, rejected), when there is one. */
  reason: string | null;
  receivedAt: string;
  updatedAt: string;
  settledAt: string | null;
  nextAttemptAt: string | null;
  /** Who dropped it and when (state `dropped`). */
  droppedBy: string | null;
  droppedAt: string | null;
  /** Sent from the event tester (src/server/test-events.ts). */
  test: boolean;
}

export function eventSummaryView(e: StoredEvent): EventSummaryView {
  return {
    id: e.id,
    destinationId: e.destinationId,
    userId: e.laneKey,
    messageId: e.messageId,
    type: e.type,
    event: e.eventName,
    state: e.status,
    attempts: e.attempts,
    lastError: e.lastError,
    reason: e.outcome?.reason ?? null,
    receivedAt: e.receivedAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    settledAt: iso(e.settledAt),
    nextAttemptAt: iso(e.nextAttemptAt),
    droppedBy: e.droppedBy,
    droppedAt: iso(e.droppedAt),
    test: isTestEvent(e.payload),
  };
}

export interface AttemptView {
  attempt: number;
  startedAt: string;
  durationMs: number;
  state: AttemptRecord['state'];
  error: string | null;
  warnings: string[];
  workerId: string;
  calls: AttemptRecord['calls'];
}

export interface EventDetailView extends EventSummaryView {
  payload: unknown;
  outcome: StoredEvent['outcome'];
  attemptLog: AttemptView[];
}

export function eventDetailView(e: StoredEvent, attempts: readonly AttemptRecord[]): EventDetailView {
  return {
    ...eventSummaryView(e),
    payload: e.payload,
    outcome: e.outcome,
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: a.startedAt.toISOString(),
      durationMs: Math.round(a.durationMs * 10) / 10,
      state: a.state,
      error: a.error,
      warnings: a.warnings,
      workerId: a.workerId,
      // CallRecords carry neither the secret nor sig by construction (src/sailthru/types.ts).
      calls: a.calls,
    })),
  };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

export interface Totals {
  destinations: number;
  paused: number;
  unsettled: number;
  retrying: number;
  deadLetters: number;
  oldestUnsettledAgeMs: number | null;
}

export interface Overview {
  destinations: DestinationView[];
  totals: Totals;
  series: Series;
  /** Requests this process's ingest refused since it started (a client that cannot get in). */
  refused: RefusalSummary[];
}

export interface TestEventResult {
  event: EventDetailView;
  /** False when waitMs passed before the first attempt ended. */
  settled: boolean;
  /** The event's messageId was already stored for that destination: this is the earlier event. */
  duplicate: boolean;
  /** Set when the destination is paused (the event waits for a resume). */
  pausedReason: string | null;
}

/** One operator action as the API and the Activity page show it. */
export interface AuditView {
  id: number;
  at: string;
  action: string;
  /** The admin token's name; null for a failed sign-in. */
  actor: string | null;
  channel: string;
  source: string | null;
  target: string | null;
  filter: Record<string, string> | null;
  count: number | null;
  detail: string | null;
}

export function auditView(r: AuditRecord): AuditView {
  return { ...r, at: r.at.toISOString() };
}
