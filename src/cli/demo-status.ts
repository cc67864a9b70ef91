import type { DeliveryLog } from '../delivery/store.ts';
import type { DeliveryWorker } from '../delivery/worker.ts';
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

/** The longest status line statusLine writes: it fits an 80-column terminal (the cursor takes the last). */
export const STATUS_MAX_WIDTH = 79;

/**
 * One line, at most STATUS_MAX_WIDTH characters whatever the figures: counts in 4 characters
 * (compact), short labels the banner explains:
 * `in 1.2k bad 3 | out 1.1k skip 9 retry 4 dead 12 | queue 40 | 38/s`.
 */
export function statusLine(f: DemoFigures): string {
  const c = compactCount;
  return [
    ...(f.traffic ? [`in ${c(f.accepted)} bad ${c(f.rejected)} |`] : []),
    `out ${c(f.delivered)} skip ${c(f.skipped)} retry ${c(f.retrying)} dead ${c(f.failed)} |`,
    `queue ${c(f.backlog)} |`,
    // The server answering 429 (the traffic waits) matters more, for a while, than the call rate.
    f.throttled ? 'busy' : `${Math.min(Math.round(f.callsPerSecond), 999)}/s`,
  ].join(' ');
}

/** What the status line's short labels mean, for the banner (each line fits 80 columns). */
export const STATUS_LEGEND: readonly string[] = [
  'in, bad      events the server accepted, refused',
  'out, skip    delivered to Sailthru, skipped (nothing to send)',
  'retry, dead  waiting for another try, dead letters (see the console)',
  'queue        events not delivered yet',
  '/s           Sailthru calls per second (busy: the server asked to wait)',
];

/** At most 4 characters: 999, 9.9k, 999k, 9.9M, 999M, 9.9G. */
export function compactCount(n: number): string {
  const v = Math.max(0, Math.round(n));
  if (v < 1000) return String(v);
  for (const [size, unit] of [
    [1e3, 'k'],
    [1e6, 'M'],
    [1e9, 'G'],
  ] as const) {
    const scaled = v / size;
    if (scaled < 9.95) return `${scaled.toFixed(1)}${unit}`;
    if (scaled < 999.5) return `${Math.round(scaled)}${unit}`;
  }
  return '>1T';
}
