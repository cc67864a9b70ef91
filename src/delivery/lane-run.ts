import type { Outcome } from '../destination/outcome.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { QueuedEvent, SettledHead, Settlement } from './store.ts';

/**
 * A lane's run: the head events a worker delivered one after another since its last settle,
 * stored together in one settleLane (store.ts).
 */

/**
 * The destination's Outcome, plus (when known) the settings version that produced it, so a
 * pause caused by settings an operator has since fixed does not stick.
 */
export type DeliveryResult = Outcome & { settingsVersion?: number };

/** One delivered event of a run, before its settlement is stored. */
export interface Delivered {
  head: QueuedEvent;
  outcome: Outcome;
  settlement: Settlement;
  startedAt: number;
  durationMs: number;
}

export function isFinal(settlement: Settlement): boolean {
  return settlement.state === 'delivered' || settlement.state === 'skipped' || settlement.state === 'failed';
}

export function settledHead({ head, settlement, outcome, startedAt, durationMs }: Delivered): SettledHead {
  return {
    event: { id: head.id, destinationId: head.destinationId, laneKey: head.laneKey },
    settlement,
    attempt: { startedAt: new Date(startedAt), durationMs, calls: outcome.calls, warnings: outcome.warnings },
  };
}

/** What the queue records for one delivery's outcome: a retry becomes `retrying` or, when the policy says so, `failed`. */
export function settlementOf(head: QueuedEvent, outcome: DeliveryResult, startedAt: number, policy: RetryPolicy, now: number): Settlement {
  switch (outcome.state) {
    case 'delivered':
      return { state: 'delivered' };
    case 'skipped':
      return { state: 'skipped', reason: outcome.reason };
    case 'failed':
      return { state: 'failed', reason: outcome.reason };
    case 'paused':
      return outcome.settingsVersion === undefined
        ? { state: 'paused', reason: outcome.reason }
        : { state: 'paused', reason: outcome.reason, settingsVersion: outcome.settingsVersion };
    case 'retry': {
      const decision = policy.decide({
        attempts: head.attempts + 1,
        firstAttemptAt: head.firstAttemptAt ?? new Date(startedAt),
        now: new Date(now),
        retryAfterMs: outcome.retryAfterMs,
        reason: outcome.reason,
      });
      return decision.retry
        ? { state: 'retrying', reason: outcome.reason, nextAttemptAt: decision.at }
        : { state: 'failed', reason: decision.reason };
    }
  }
}
