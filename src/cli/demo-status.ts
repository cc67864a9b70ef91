import type { DeliveryLog } from '../delivery/store.ts';
import type { DeliveryWorker } from '../delivery/worker.ts';
import { count } from './live-line.ts';
import type { TrafficStats } from './traffic-sender.ts';

/**
 * What the demo shows while it runs, read in process: the traffic sent and accepted, what the
 * worker settled, what waits in the queue, and how fast Sailthru (the emulator) is being called.
 */
export interface DemoFigures {
  /** False with --no-traffic: the sent/accepted/rejected figures are then not shown. */
  traffic: boolean;
  sent: number;
  accepted: number;
  rejected: number;
  delivered: number;
  skipped: number;
  /** Events waiting for another try right now. */
  retrying: number;
  /** Dead letters waiting for an operator. */
  failed: number;
  /** pending + retrying */
  backlog: number;
  callsPerSecond: number;
  throttled: boolean;
}

export interface DemoStatusSources {
  log: Pick<DeliveryLog, 'backlogByDestination'>;
  worker: DeliveryWorker | null;
  traffic: () => TrafficStats | null;
  /** Requests the emulator has answered so far (its request sequence). */
  sailthruRequests: () => number;
  now?: () => number;
}

export class DemoStatus {
  private delivered = 0;
  private skipped = 0;
  private readonly now: () => number;
  private lastCalls: { at: number; seq: number };
  private rate = 0;

  constructor(private readonly sources: DemoStatusSources) {
    this.now = sources.now ?? Date.now;
    this.lastCalls = { at: this.now(), seq: sources.sailthruRequests() };
    sources.worker?.on('settled', (s) => {
      if (!s.applied) return;
      if (s.settlement.state === 'delivered') this.delivered++;
      if (s.settlement.state === 'skipped') this.skipped++;
    });
  }

  async read(): Promise<DemoFigures> {
    const backlogs = await this.sources.log.backlogByDestination();
    const at = this.now();
    const seq = this.sources.sailthruRequests();
    if (at - this.lastCalls.at >= 500) {
      this.rate = ((seq - this.lastCalls.seq) * 1000) / (at - this.lastCalls.at);
      this.lastCalls = { at, seq };
    }
    const traffic = this.sources.traffic();
    return {
      traffic: traffic !== null,
      sent: traffic?.sent ?? 0,
      accepted: traffic?.accepted ?? 0,
      rejected: traffic?.rejected ?? 0,
      delivered: this.delivered,
      skipped: this.skipped,
      retrying: backlogs.reduce((sum, b) => sum + b.retrying, 0),
      failed: backlogs.reduce((sum, b) => sum + b.failed, 0),
      backlog: backlogs.reduce((sum, b) => sum + b.unsettled, 0),
      callsPerSecond: this.rate,
      throttled: traffic?.throttled ?? false,
    };
  }
}

export function statusLine(f: DemoFigures): string {
  return [
    ...(f.traffic ? [`sent ${count(f.sent)}`, `accepted ${count(f.accepted)}`, `rejected ${count(f.rejected)}`] : []),
    `delivered ${count(f.delivered)}`,
    `skipped ${count(f.skipped)}`,
    `retrying ${count(f.retrying)}`,
    `dead letters ${count(f.failed)}`,
    `backlog ${count(f.backlog)}`,
    `Sailthru ${f.callsPerSecond.toFixed(1)} calls/s`,
    ...(f.throttled ? ['(server busy: waiting)'] : []),
  ].join(' | ');
}
