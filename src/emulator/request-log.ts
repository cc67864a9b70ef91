import { BoundedLog } from './bounded-log.ts';

export type LoggedFault = 'drop' | 'hang' | 'fail' | 'error9' | 'apply-then-500' | 'apply-then-drop' | 'apply-then-hang';

/** One request to a Sailthru endpoint as GET /_emulator/requests shows it. Never holds sig or secret. */
export interface RequestLogEntry {
  seq: number;
  /** ISO-8601, when the request arrived */
  time: string;
  method: string;
  /** e.g. /user, /v1/track/event/pageview */
  path: string;
  /** the parsed `json` parameter, or the page-view JSON body; undefined when absent or not JSON */
  payload: unknown;
  /** whether `sig` matched; null when it was not checked (missing parameters, unknown key, page views) */
  signatureValid: boolean | null;
  /** HTTP status answered; 0 when no answer was sent (dropped, hung) */
  status: number;
  /** Sailthru error code of the answer, null for a success */
  errorCode: number | null;
  errorMessage?: string;
  fault?: LoggedFault;
  durationMs: number;
}

export interface RequestFilter {
  /** only requests with a seq greater than this */
  since?: number;
  path?: string;
  method?: string;
  /** at most this many, the newest */
  limit?: number;
}

/** The newest requests, bounded so a long benchmark does not grow memory without end. */
export class RequestLog {
  private readonly log: BoundedLog<RequestLogEntry>;

  constructor(capacity: number) {
    this.log = new BoundedLog(capacity);
  }

  get nextSeq(): number {
    return this.log.nextSeq;
  }

  get lastSeq(): number {
    return this.log.lastSeq;
  }

  append(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry {
    const full = { seq: this.log.nextSeq, ...entry };
    this.log.append(full);
    return full;
  }

  query(filter: RequestFilter = {}): RequestLogEntry[] {
    let entries = this.log.after(filter.since ?? 0);
    if (filter.path !== undefined) entries = entries.filter((e) => e.path === filter.path);
    if (filter.method !== undefined) {
      const method = filter.method.toUpperCase();
      entries = entries.filter((e) => e.method === method);
    }
    if (filter.limit !== undefined && entries.length > filter.limit) entries = entries.slice(entries.length - filter.limit);
    return entries;
  }

  clear(): void {
    this.log.clear();
  }
}
