/**
 * Ctrl-C for a program that stops in order (the demo). One press can arrive more than once: the
 * terminal signals the whole foreground process group, and npm also forwards the signal to the
 * script it runs. So a signal within `duplicateMs` of the first is that same press; a later one,
 * while stopping is still in progress, means "don't wait" (force). Once stopped, signals change
 * nothing. The demo runs without a tsx parent process (package.json runs bin/, which loads tsx
 * in-process): tsx's relay SIGKILLs a child that has not acknowledged a signal within 60 ms.
 */
export type SignalVerdict = 'stop' | 'same-press' | 'force' | 'stopped';

export interface ShutdownSignalsOptions {
  /** Signals this soon after the first are copies of it. default 2000 ms */
  duplicateMs?: number;
  now?: () => number;
}

export class ShutdownSignals {
  private firstAt: number | null = null;
  private finished = false;
  private readonly duplicateMs: number;
  private readonly now: () => number;

  constructor(options: ShutdownSignalsOptions = {}) {
    this.duplicateMs = options.duplicateMs ?? 2000;
    this.now = options.now ?? Date.now;
  }

  /** What a signal received now means. */
  receive(): SignalVerdict {
    if (this.finished) return 'stopped';
    const now = this.now();
    if (this.firstAt === null) {
      this.firstAt = now;
      return 'stop';
    }
    return now - this.firstAt < this.duplicateMs ? 'same-press' : 'force';
  }

  /** The stop has completed: later signals are ignored. */
  done(): void {
    this.finished = true;
  }
}
