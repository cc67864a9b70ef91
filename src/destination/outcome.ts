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
export type Outcome = ActionResult & { calls: CallRecord[]; warnings: string[]; coalesced?: CoalescedWith };

/**
 * The event was delivered together with others of its lane queued behind it (issue 19,
 * coalesce.ts): `calls` is the group's one set of calls, the same in each event's outcome, so
 * whoever counts calls counts them once, on the event at `index` 0.
 */
export interface CoalescedWith {
  /** Every event of the group, in lane order. */
  messageIds: string[];
  /** This event's place in it. */
  index: number;
}

/** What deliver makes of an action's result: the calls it made and the warnings, redacted. */
export function outcomeOf(result: ActionResult, calls: CallRecord[], warnings: string[], redact: (text: string) => string): Outcome {
  const w = warnings.map(redact);
  switch (result.state) {
    case 'delivered':
      return { state: 'delivered', calls, warnings: w };
    case 'retry': {
      const outcome: Outcome = { state: 'retry', reason: redact(result.reason), calls, warnings: w };
      if (result.retryAfterMs !== undefined) outcome.retryAfterMs = result.retryAfterMs;
      return outcome;
    }
    default:
      return { state: result.state, reason: redact(result.reason), calls, warnings: w };
  }
}

/** The calls an outcome spent that no other outcome also holds (a coalesced group's are on its first event). */
export function ownCallsOf(outcome: Pick<Outcome, 'calls' | 'coalesced'>): CallRecord[] {
  return outcome.coalesced !== undefined && outcome.coalesced.index > 0 ? [] : outcome.calls;
}

export type OutcomeState = Outcome['state'];
