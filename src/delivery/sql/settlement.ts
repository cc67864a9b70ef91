import type { OutcomeState } from '../../destination/outcome.ts';
import type { EventStatus, OutcomeDetail, Settlement } from '../store.ts';

/**
 * What settling the head of a lane writes, whatever the database:
 * - delivered, skipped, failed: the event is final (settled_at set, its lane's count goes down);
 *   only a failure keeps an error;
 * - retrying: the event stays at the head until next_attempt_at, which its lane waits for;
 * - paused: the event stays queued, not counting as an attempt of its retry window, and the
 *   destination pauses (only while its settings are the version the attempt used).
 * Each store applies this in one transaction, and only to an event still unsettled.
 */
export interface SettlementWrite {
  /** The event's status after it; null for a pause (the status stays as it was). */
  status: Extract<EventStatus, 'delivered' | 'skipped' | 'failed' | 'retrying'> | null;
  final: boolean;
  /** last_error, and the attempt row's error. */
  error: string | null;
  /** The event's outcome column: its calls are stored once, on the attempt row (rows.ts reads them back). */
  outcome: Omit<OutcomeDetail, 'calls'>;
  /** The attempt row's state. */
  attemptState: OutcomeState;
}

export function settlementWrite(settlement: Settlement, warnings: string[]): SettlementWrite {
  switch (settlement.state) {
    case 'delivered':
      return { status: 'delivered', final: true, error: null, outcome: { state: 'delivered', reason: undefined, warnings }, attemptState: 'delivered' };
    case 'skipped':
      return { status: 'skipped', final: true, error: null, outcome: { state: 'skipped', reason: settlement.reason, warnings }, attemptState: 'skipped' };
    case 'failed':
      return { status: 'failed', final: true, error: settlement.reason, outcome: { state: 'failed', reason: settlement.reason, warnings }, attemptState: 'failed' };
    case 'retrying':
      return { status: 'retrying', final: false, error: settlement.reason, outcome: { state: 'retry', reason: settlement.reason, warnings }, attemptState: 'retry' };
    case 'paused':
      return { status: null, final: false, error: settlement.reason, outcome: { state: 'paused', reason: settlement.reason, warnings }, attemptState: 'paused' };
  }
}
