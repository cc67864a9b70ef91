import type { FaultOptions, RateLimitOptions } from './options.ts';
import type { RequestFilter, RequestLogEntry } from './request-log.ts';
import type { EmulatorStateSnapshot, StateFilter } from './state.ts';

/** What the programmatic API and the /_emulator routes both offer. */
export interface EmulatorControl {
  state(filter?: StateFilter): EmulatorStateSnapshot;
  requests(filter?: RequestFilter): RequestLogEntry[];
  readonly lastRequestSeq: number;
  setFaults(faults: FaultOptions): void;
  faults(): FaultOptions;
  setRateLimits(options: RateLimitOptions): void;
  rateLimits(): { windowMs: number; limits: Record<string, number> };
  reset(): void;
  runPendingJobs(): Promise<void>;
}
