import type { CallRecord } from '../sailthru/types.ts';

/**
 * What an action decided about one event (SPEC.md §9), before deliver attaches the calls it made
 * and its warnings.
 */
export type ActionResult =
  | { state: 'delivered' }
  | { state: 'skipped'; reason: string }
  /** Transient: try the whole event again, no earlier than retryAfterMs from now when given. */
  | { state: 'retry'; reason: string; retryAfterMs?: number }
  /** Permanent: dead-letter with a reason a person can act on. */
  | { state: 'failed'; reason: string }
  /** Account-wide (bad credentials, IP not allowed, account not approved): pause the destination. */
  | { state: 'paused'; reason: string };

/**
 * What became of one event: the decision with every call made and every warning. The delivery
 * layer settles the event from this and never needs to know why the destination decided it.
 */
export type Outcome = ActionResult & { calls: CallRecord[]; warnings: string[] };

export type OutcomeState = Outcome['state'];
