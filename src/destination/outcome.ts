import type { CallRecord } from '../sailthru/types.ts';

/**
 * What became of one event (SPEC.md §9). The delivery layer settles the event from this and
 * never needs to know why the destination decided it.
 */
export type Outcome =
  | { state: 'delivered'; calls: CallRecord[]; warnings: string[] }
  | { state: 'skipped'; reason: string; calls: CallRecord[]; warnings: string[] }
  /** Transient: try the whole event again, no earlier than retryAfterMs from now when given. */
  | { state: 'retry'; reason: string; retryAfterMs?: number; calls: CallRecord[]; warnings: string[] }
  /** Permanent: dead-letter with a reason a person can act on. */
  | { state: 'failed'; reason: string; calls: CallRecord[]; warnings: string[] }
  /** Account-wide (bad credentials, IP not allowed, account not approved): pause the destination. */
  | { state: 'paused'; reason: string; calls: CallRecord[]; warnings: string[] };

export type OutcomeState = Outcome['state'];
