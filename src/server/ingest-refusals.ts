import { Counter, type Registry } from 'prom-client';
import type { ErrorCode } from './error-codes.ts';

/**
 * Requests the ingest refused, so an operator sees a client that cannot get in (a wrong write
 * key, a proxy cutting bodies, an SDK compressing with an encoding we do not take): counted in
 * `sailthru_destination_ingest_refused_total{reason}` (reason = the error code), logged at most
 * once per reason every `logEveryMs` (with how many were not logged in between), and summarised
 * for the console's overview.
 *
 * What is logged is chosen so that no secret can be in it: the code, our own message (which
 * never quotes a credential), the method, the path without its query string (RudderStack's
 * beacon puts the write key there), the client address, Origin and User-Agent (truncated).
 */

export interface RefusedRequest {
  code: ErrorCode;
  status: number;
  message: string;
  method: string;
  /** The URL; its query string is dropped here. */
  url: string;
  ip: string;
  origin?: string;
  userAgent?: string;
}

export interface RefusalSummary {
  code: ErrorCode;
  status: number;
  count: number;
  lastAt: string;
  lastMessage: string;
  lastPath: string;
  lastUserAgent: string | null;
}

export interface RefusalLogger {
  warn(fields: object, message: string): void;
}

export interface RefusalMonitorOptions {
  registry: Registry;
  logger: RefusalLogger;
  prefix?: string;
  /** Default 10 s. */
  logEveryMs?: number;
  now?: () => number;
}

interface PerCode {
  summary: RefusalSummary;
  loggedAt: number;
  notLogged: number;
}

const MAX_HEADER_CHARS = 200;

export class RefusalMonitor {
  private readonly counter: Counter<'reason'>;
  private readonly byCode = new Map<ErrorCode, PerCode>();
  private readonly logEveryMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RefusalMonitorOptions) {
    const prefix = options.prefix ?? 'sailthru_destination_';
    const name = `${prefix}ingest_refused_total`;
    // One registry may serve several apps in tests: reuse the counter it already has.
    const existing = options.registry.getSingleMetric(name) as Counter<'reason'> | undefined;
    this.counter =
      existing ??
      new Counter({
        name,
        help: 'Ingest requests answered with an error, by error code (docs/troubleshooting.md).',
        labelNames: ['reason'],
        registers: [options.registry],
      });
    this.logEveryMs = options.logEveryMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  record(refused: RefusedRequest): void {
    this.counter.inc({ reason: refused.code });
    const at = this.now();
    const path = pathOnly(refused.url);
    const userAgent = refused.userAgent === undefined ? null : clip(refused.userAgent);
    let entry = this.byCode.get(refused.code);
    if (entry === undefined) {
      entry = {
        summary: { code: refused.code, status: refused.status, count: 0, lastAt: '', lastMessage: '', lastPath: '', lastUserAgent: null },
        loggedAt: Number.NEGATIVE_INFINITY,
        notLogged: 0,
      };
      this.byCode.set(refused.code, entry);
    }
    entry.summary = {
      ...entry.summary,
      count: entry.summary.count + 1,
      lastAt: new Date(at).toISOString(),
      lastMessage: refused.message,
      lastPath: path,
      lastUserAgent: userAgent,
    };
    if (at - entry.loggedAt < this.logEveryMs) {
      entry.notLogged++;
      return;
    }
    const fields = {
      code: refused.code,
      status: refused.status,
      method: refused.method,
      path,
      ip: refused.ip,
      ...(refused.origin === undefined ? {} : { origin: clip(refused.origin) }),
      ...(userAgent === null ? {} : { userAgent }),
      ...(entry.notLogged > 0 ? { notLoggedSinceLast: entry.notLogged } : {}),
    };
    entry.loggedAt = at;
    entry.notLogged = 0;
    this.options.logger.warn(fields, `ingest refused a request: ${refused.message}`);
  }

  /** Refusals seen by this process since it started, the most frequent first. */
  summary(): RefusalSummary[] {
    return [...this.byCode.values()].map((e) => e.summary).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  }
}

function pathOnly(url: string): string {
  const query = url.indexOf('?');
  return clip(query === -1 ? url : url.slice(0, query));
}

function clip(text: string): string {
  return text.length <= MAX_HEADER_CHARS ? text : `${text.slice(0, MAX_HEADER_CHARS)}…`;
}
