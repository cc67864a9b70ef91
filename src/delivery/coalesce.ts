import { isFinal, type Delivered, type DeliveryResult } from './lane-run.ts';
import type { QueuedEvent } from './store.ts';

/**
 * The worker's side of coalescing a backlog (issue 19; the destination decides what goes
 * together: src/destination/coalesce.ts). The worker hands the destination its lane's queued
 * head events; the destination delivers the first, alone or with the ones after it that go in
 * the same Sailthru call, and says what became of each. Nothing is reordered and nothing waits
 * for company: only events already in the claimed window are offered.
 */

/**
 * Delivers `heads[0]` and maybe more of `heads` (one lane's queued head, oldest first, at least
 * one) with one call; one result per event delivered, in order, at least one.
 */
export type DeliverGroup = (destinationId: string, heads: readonly QueuedEvent[]) => Promise<DeliveryResult[]>;

/** How the worker turns one event's outcome into its settlement (worker.ts). */
export type ToDelivered = (head: QueuedEvent, outcome: DeliveryResult, startedAt: number, durationMs: number) => Delivered;

/**
 * One group's delivery as a piece of the lane's run: every event of it until the first that is
 * not final (a retry or pause of the group's call holds the lane at its first event; the others
 * stay queued behind it, in order, untouched).
 */
export async function deliverHeadGroup(heads: readonly QueuedEvent[], deliverGroup: DeliverGroup, now: () => number, toDelivered: ToDelivered): Promise<Delivered[]> {
  const head = heads[0]!;
  const startedAt = now();
  const t0 = performance.now();
  let outcomes: DeliveryResult[];
  try {
    outcomes = (await deliverGroup(head.destinationId, heads)).slice(0, heads.length);
  } catch (error) {
    // As for one event (worker.ts): a throw must not lose the events or wedge the lane.
    outcomes = [{ state: 'retry', reason: `delivery threw: ${error instanceof Error ? error.message : String(error)}`, calls: [], warnings: [] }];
  }
  if (outcomes.length === 0) outcomes = [{ state: 'retry', reason: 'delivery returned no outcome', calls: [], warnings: [] }];
  const durationMs = performance.now() - t0;
  const run: Delivered[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    const delivered = toDelivered(heads[i]!, outcome, startedAt, durationMs);
    run.push(delivered);
    if (!isFinal(delivered.settlement)) break;
  }
  return run;
}
