import { Agent, request, errors as undiciErrors } from 'undici';
import { signedParams } from './signature.ts';
import { parseRateLimitHeaders } from './rate-limit-headers.ts';
import { classifyError, errorEnvelope } from './classify.ts';
import type {
  CallRecord,
  HttpMethod,
  RateLimitInfo,
  RequestGate,
  SailthruCredentials,
  SailthruError,
  SailthruResult,
  SailthruUser,
} from './types.ts';
import type { JsonObject } from '../json.ts';
import { DEFAULT_API_URL, DEFAULT_TRACK_URL } from './urls.ts';

export { DEFAULT_API_URL, DEFAULT_TRACK_URL };
export const PAGEVIEW_ENDPOINT = '/v1/track/event/pageview';

export interface SailthruClientOptions {
  /** Asked before every request; the delivery layer's rate limiter. */
  gate?: RequestGate;
  /** Per request, headers and body each (default 10 s). */
  timeoutMs?: number;
  /** Keep-alive connections per origin (default 32). */
  connections?: number;
  now?: () => number;
}

interface Prepared {
  method: HttpMethod;
  endpoint: string;
  payload: unknown;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * The Sailthru REST API and the page-view API. Every call resolves to a SailthruResult: network
 * failures, timeouts, non-JSON bodies and error envelopes all become typed errors, never throws.
 */
export class SailthruClient {
  private readonly apiUrl: string;
  private readonly trackUrl: string;
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;
  private readonly gate: RequestGate | undefined;
  private readonly now: () => number;
  private readonly lastRateLimits = new Map<string, RateLimitInfo>();

  constructor(
    private readonly creds: SailthruCredentials,
    opts: SailthruClientOptions = {},
  ) {
    this.apiUrl = trimSlash(creds.apiUrl ?? DEFAULT_API_URL);
    this.trackUrl = trimSlash(creds.trackUrl ?? DEFAULT_TRACK_URL);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.gate = opts.gate;
    this.now = opts.now ?? Date.now;
    this.dispatcher = new Agent({
      connections: opts.connections ?? 32,
      keepAliveTimeout: 30_000,
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  getUser(payload: { id: string; key?: string; fields?: Record<string, 0 | 1> }): Promise<SailthruResult<SailthruUser>> {
    return this.api<SailthruUser>('GET', '/user', payload);
  }
  postUser(payload: JsonObject): Promise<SailthruResult> {
    return this.api('POST', '/user', payload);
  }
  deleteUser(payload: { id: string; key?: string }): Promise<SailthruResult> {
    return this.api('DELETE', '/user', payload);
  }
  postEvent(payload: JsonObject): Promise<SailthruResult> {
    return this.api('POST', '/event', payload);
  }
  postPurchase(payload: JsonObject): Promise<SailthruResult> {
    return this.api('POST', '/purchase', payload);
  }
  postJob(payload: JsonObject): Promise<SailthruResult<{ job_id: string; status: string; [k: string]: unknown }>> {
    return this.api('POST', '/job', payload);
  }
  getJob(payload: { job_id: string }): Promise<SailthruResult<{ job_id: string; status: string; [k: string]: unknown }>> {
    return this.api('GET', '/job', payload);
  }

  /** Page views go to the tracking host as JSON with the customer id as bearer token; no signature. */
  pageView(body: JsonObject): Promise<SailthruResult> {
    const customerId = this.creds.customerId;
    if (!customerId) {
      return Promise.resolve(
        this.failWithoutRequest('POST', PAGEVIEW_ENDPOINT, body, 'customerId is required for page calls'),
      );
    }
    return this.send({
      method: 'POST',
      endpoint: PAGEVIEW_ENDPOINT,
      payload: body,
      url: this.trackUrl + PAGEVIEW_ENDPOINT,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customerId}` },
      body: JSON.stringify(body),
    });
  }

  /** Last X-Rate-Limit-* seen per "METHOD /endpoint" (e.g. "POST /user"). */
  rateLimits(): ReadonlyMap<string, RateLimitInfo> {
    return this.lastRateLimits;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private api<T>(method: HttpMethod, endpoint: string, payload: unknown): Promise<SailthruResult<T>> {
    let params;
    try {
      params = signedParams(this.creds.apiKey, this.creds.sharedSecret, payload);
    } catch (err) {
      // JSON.stringify refuses cycles and BigInts: that payload can never be sent.
      const reason = err instanceof Error ? err.message : String(err);
      return Promise.resolve(this.failWithoutRequest(method, endpoint, null, `Payload cannot be serialised: ${reason}`));
    }
    const encoded = new URLSearchParams(params as unknown as Record<string, string>).toString();
    const url = this.apiUrl + endpoint;
    if (method === 'POST') {
      return this.send<T>({
        method,
        endpoint,
        payload,
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: encoded,
      });
    }
    return this.send<T>({ method, endpoint, payload, url: `${url}?${encoded}`, headers: {} });
  }

  private async send<T>(req: Prepared): Promise<SailthruResult<T>> {
    if (this.gate) await this.gate.acquire(req.method, req.endpoint);
    const started = this.now();
    let status: number;
    let text: string;
    let rateLimit: RateLimitInfo | undefined;
    try {
      const res = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher: this.dispatcher,
      });
      status = res.statusCode;
      rateLimit = parseRateLimitHeaders(res.headers);
      text = await res.body.text();
    } catch (err) {
      return this.networkError<T>(req, err, started);
    }
    if (rateLimit) {
      this.lastRateLimits.set(`${req.method} ${req.endpoint}`, rateLimit);
      this.gate?.observe?.(req.method, req.endpoint, rateLimit);
    }
    return this.interpret<T>(req, status, text, rateLimit, started);
  }

  private interpret<T>(
    req: Prepared,
    status: number,
    text: string,
    rateLimit: RateLimitInfo | undefined,
    started: number,
  ): SailthruResult<T> {
    const durationMs = this.now() - started;
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      const message = `Sailthru answered HTTP ${status} with a body that is not JSON: ${preview(text)}`;
      const call = record(req, status, durationMs, { errorMessage: message });
      // A proxy's HTML page on a 2xx or 5xx says nothing about our request: worth another try.
      const c = status >= 200 && status < 300 ? { class: 'retryable' as const } : classifyError(status, null, rateLimit, this.now());
      return { ok: false, status, code: null, message, ...c, call, rateLimit };
    }
    const envelope = errorEnvelope(body);
    const failed = envelope !== null || status < 200 || status >= 300;
    if (!failed) {
      return { ok: true, status, body: body as T, call: record(req, status, durationMs, { response: body }), rateLimit };
    }
    const code = envelope?.code ?? null;
    const message = envelope?.message ?? `Sailthru answered HTTP ${status}`;
    const c = classifyError(status, code, rateLimit, this.now());
    const call = record(req, status, durationMs, {
      response: body,
      errorMessage: message,
      ...(code !== null ? { errorCode: code } : {}),
    });
    return { ok: false, status, code, message, ...c, call, rateLimit };
  }

  private networkError<T>(req: Prepared, err: unknown, started: number): SailthruResult<T> {
    // Messages are built from error codes only: undici's own texts may quote the URL, and a GET
    // URL carries api_key and sig.
    const timedOut =
      err instanceof undiciErrors.HeadersTimeoutError ||
      err instanceof undiciErrors.BodyTimeoutError ||
      err instanceof undiciErrors.ConnectTimeoutError;
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'UNKNOWN';
    const host = safeHost(req.url);
    const message = timedOut
      ? `No answer from ${host} within ${this.timeoutMs} ms (${code})`
      : `Could not reach ${host}: ${code}`;
    const call = record(req, 0, this.now() - started, { errorMessage: message });
    return { ok: false, status: 0, code: null, message, class: 'retryable', call };
  }

  private failWithoutRequest(method: HttpMethod, endpoint: string, payload: unknown, message: string): SailthruError {
    const call: CallRecord = { method, endpoint, payload, status: 0, durationMs: 0, errorMessage: message };
    return { ok: false, status: 0, code: null, message, class: 'permanent', call };
  }
}

function record(req: Prepared, status: number, durationMs: number, extra: Partial<CallRecord>): CallRecord {
  return { method: req.method, endpoint: req.endpoint, payload: req.payload, status, durationMs, ...extra };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'Sailthru';
  }
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 120 ? `${oneLine.slice(0, 120)}…` : oneLine || '(empty)';
}
