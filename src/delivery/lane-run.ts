import type { Outcome } from '../destination/outcome.ts';
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
