import type { RequestLogEntry } from './request-log.ts';

/** How a request chosen by "apply then fail" fails after its change was applied. */
export type ApplyThenFailMode = '500' | 'drop' | 'hang';

export interface ApplyThenFailRule {
  /** How many of the next matching successful requests fail this way. */
  count: number;
  /** default '500' */
  mode?: ApplyThenFailMode;
}

/**
 * Faults injected into Sailthru endpoints (never into /_emulator). Rates are shares (0..1) of
 * matching requests; one random draw per request decides which fault, if any, it gets, in the
 * order drop, hang, fail, error9.
 */
export interface FaultOptions {
  /** Share answered with HTTP `failStatus` (default 500) and body {"error":9,...}. Not applied. */
  failRate?: number;
  failStatus?: number;
  /** Share answered HTTP 200 with {"error":9,"errormsg":"Internal error..."}. Not applied. */
  error9Rate?: number;
  /** Added to every matching request before it is handled. */
  latencyMs?: number;
  /** Share held open without an answer until the client gives up or the emulator closes. Not applied. */
  hangRate?: number;
  /** Share whose connection is destroyed without an answer. Not applied. */
  dropRate?: number;
  /**
   * Limit the rate faults and latency to these routes: "POST /purchase" (one method) or
   * "/purchase" (every method). Default: every Sailthru endpoint.
   */
  endpoints?: string[];
  /**
   * For exactly-once tests: the next N successful requests of a route are applied to the state,
   * then answered with a 500, a dropped connection or a hang. `{ 'POST /purchase': 1 }`.
   * Keys as in `endpoints`.
   */
  applyThenFail?: Record<string, number | ApplyThenFailRule>;
  /** Seed for the fault draws; the same seed and request sequence give the same faults. */
  seed?: number;
}

/**
 * Rate limits per "METHOD /endpoint" in fixed windows aligned to the epoch (Sailthru: per
 * minute). Keys are exact routes ("POST /event") or a method wildcard ("GET *").
 */
export interface RateLimitOptions {
  /** default 60000 */
  windowMs?: number;
  /**
   * Requests per window. Routes not listed get Sailthru's per-minute defaults scaled to the
   * window: POST /user and every GET 18000/min (300/s), other POST and DELETE 2400/min (40/s).
   */
  limits?: Record<string, number>;
}

export interface EmulatorOptions extends RateLimitOptions {
  /** 0 = an ephemeral port. default 0 */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** default demo-api-key */
  apiKey?: string;
  /** default demo-secret */
  secret?: string;
  /** Page views need `Authorization: Bearer <customerId>`. default demo-customer */
  customerId?: string;
  /** Same as the top-level windowMs/limits (which win); accepted for callers that group them. */
  rateLimits?: RateLimitOptions;
  faults?: FaultOptions;
  /** Time from POST /job to the job being applied and marked completed. default 500 */
  jobDelayMs?: number;
  /** How many requests GET /_emulator/requests keeps (newest). default 100000 */
  maxRequestLog?: number;
  /** How many custom events and page views the state keeps (newest, each). default 100000 */
  maxActivityLog?: number;
  /** Largest accepted request body in bytes. default 20 MB */
  maxBodyBytes?: number;
  /**
   * Whether GET /user's `purchase_incomplete` shows the cart's purchase-level `vars`. Sailthru
   * documents item `vars` as returned but not purchase-level ones (the captured carts have none),
   * so `false` tests a client that must not rely on them. default true
   */
  cartVarsReturned?: boolean;
  /** Called once per answered Sailthru request (e.g. the CLI's --log); keep it cheap. */
  onRequest?: (entry: RequestLogEntry) => void;
}

export const DEMO_CREDENTIALS = {
  apiKey: 'demo-api-key',
  secret: 'demo-secret',
  customerId: 'demo-customer',
} as const;

export const DEFAULT_WINDOW_MS = 60_000;
export const DEFAULT_JOB_DELAY_MS = 500;
export const DEFAULT_MAX_REQUEST_LOG = 100_000;
