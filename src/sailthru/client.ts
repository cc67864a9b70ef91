import { Agent } from 'undici';
import { recordedAnswer, recordedMessage, recordedPayload } from './answer-record.ts';
import { signedParams } from './signature.ts';
import { parseRateLimitHeaders } from './rate-limit-headers.ts';
import { classifyExchange, type SailthruCall } from './classify.ts';
import { exchange, MAX_ANSWER_BYTES } from './transport.ts';
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
  /** The whole of one call, from connecting to the last byte of the answer (default 10 s). */
  timeoutMs?: number;
  /** The largest answer read (default 1 MB, SPEC.md §9); a larger one is cut off and retryable. */
  maxAnswerBytes?: number;
  /** Keep-alive connections per origin (default 32). */
  connections?: number;
  now?: () => number;
}

interface Prepared {
  call: SailthruCall;
  payload: unknown;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** JSON.stringify(payload), when already made for the request: the delivery log's copy reuses it. */
  payloadJson?: string;
  /** This request's signature: masked wherever the answer is quoted. */
  sig?: string;
}

/**
 * The Sailthru REST API and the page-view API. Every call resolves to a SailthruResult: network
 * failures, timeouts, oversized or unrecognised answers and error envelopes all become typed
 * errors (classify.ts decides which), never throws.
 */
export class SailthruClient {
  private readonly apiUrl: string;
  private readonly trackUrl: string;
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;
  private readonly maxAnswerBytes: number;
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
    this.maxAnswerBytes = opts.maxAnswerBytes ?? MAX_ANSWER_BYTES;
    this.gate = opts.gate;
    this.now = opts.now ?? Date.now;
    // The call's own deadline (transport.ts) bounds the whole exchange; undici's timeouts, which
    // restart with every chunk, are only a backstop.
    this.dispatcher = new Agent({
      connections: opts.connections ?? 32,
      keepAliveTimeout: 30_000,
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  getUser(payload: { id: string; key?: string; fields?: Record<string, 0 | 1> }): Promise<SailthruResult<SailthruUser>> {
    return this.api<SailthruUser>('GET /user', payload);
  }
  postUser(payload: JsonObject): Promise<SailthruResult> {
    return this.api('POST /user', payload);
  }
  deleteUser(payload: { id: string; key?: string }): Promise<SailthruResult> {
    return this.api('DELETE /user', payload);
  }
  postEvent(payload: JsonObject): Promise<SailthruResult> {
    return this.api('POST /event', payload);
  }
  postPurchase(payload: JsonObject): Promise<SailthruResult> {
    return this.api('POST /purchase', payload);
  }
  /** A return or refund (SPEC.md §5.3). */
  postReturn(payload: JsonObject): Promise<SailthruResult> {
    return this.api('POST /return', payload);
  }
  postJob(payload: JsonObject): Promise<SailthruResult<{ job_id: string; status: string; [k: string]: unknown }>> {
    return this.api('POST /job', payload);
  }
  getJob(payload: { job_id: string }): Promise<SailthruResult<{ job_id: string; status: string; [k: string]: unknown }>> {
    return this.api('GET /job', payload);
  }

  /** Page views go to the tracking host as JSON with the customer id as bearer token; no signature. */
  pageView(body: JsonObject): Promise<SailthruResult> {
    const customerId = this.creds.customerId;
    if (!customerId) {
      return Promise.resolve(
        this.failWithoutRequest('POST', PAGEVIEW_ENDPOINT, body, 'customerId is required for page calls'),
      );
    }
    const json = JSON.stringify(body);
    return this.send({
      call: `POST ${PAGEVIEW_ENDPOINT}`,
      payload: body,
      url: this.trackUrl + PAGEVIEW_ENDPOINT,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${customerId}` },
      body: json,
      payloadJson: json,
    });
  }

  /** Last X-Rate-Limit-* seen per "METHOD /endpoint" (e.g. "POST /user"). */
  rateLimits(): ReadonlyMap<string, RateLimitInfo> {
    return this.lastRateLimits;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private api<T>(call: Exclude<SailthruCall, 'POST /v1/track/event/pageview'>, payload: unknown): Promise<SailthruResult<T>> {
    const [method, endpoint] = splitCall(call);
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
    // JSON.stringify(payload ?? {}) is JSON.stringify(payload) only for a payload that is there.
    const base = { call, payload, sig: params.sig, ...(payload !== null && payload !== undefined ? { payloadJson: params.json } : {}) };
    if (method === 'POST') {
      return this.send<T>({ ...base, url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: encoded });
    }
    return this.send<T>({ ...base, url: `${url}?${encoded}`, headers: {} });
  }

  private async send<T>(req: Prepared): Promise<SailthruResult<T>> {
    const [method, endpoint] = splitCall(req.call);
    if (this.gate) await this.gate.acquire(method, endpoint);
    const started = this.now();
    const answer = await exchange(this.dispatcher, { method, url: req.url, headers: req.headers, body: req.body }, this.timeoutMs, this.maxAnswerBytes);
    const durationMs = this.now() - started;
    const rateLimit = 'headers' in answer ? parseRateLimitHeaders(answer.headers) : undefined;
    if (rateLimit) {
      this.lastRateLimits.set(req.call, rateLimit);
      this.gate?.observe?.(method, endpoint, rateLimit);
    }
    const secrets = [this.creds.sharedSecret, ...(req.sig !== undefined ? [req.sig] : [])];
    const verdict = classifyExchange(req.call, answer, {
      url: req.url,
      urlSetting: endpoint === PAGEVIEW_ENDPOINT ? 'trackUrl' : 'apiUrl',
      timeoutMs: this.timeoutMs,
      maxBytes: this.maxAnswerBytes,
      rateLimit,
      nowMs: this.now(),
      secrets,
    });
    const withRateLimit = rateLimit ? { rateLimit } : {};
    // The delivery log keeps a bounded, masked copy of the answer (answer-record.ts); the action gets it whole.
    if (verdict.ok) {
      const call = record(req, verdict.status, durationMs, verdict.body !== null ? { response: recordedAnswer(verdict.body, secrets) } : {});
      return { ok: true, status: verdict.status, body: verdict.body as T, call, ...withRateLimit };
    }
    const message = recordedMessage(verdict.message, secrets);
    const call = record(req, verdict.status, durationMs, {
      errorMessage: message,
      ...(verdict.code !== null ? { errorCode: verdict.code } : {}),
      ...(verdict.response !== undefined ? { response: recordedAnswer(verdict.response, secrets) } : {}),
    });
    const error: SailthruError = {
      ok: false,
      status: verdict.status,
      code: verdict.code,
      message,
      class: verdict.class,
      call,
      ...withRateLimit,
    };
    if (verdict.retryAfterMs !== undefined) error.retryAfterMs = verdict.retryAfterMs;
    return error;
  }

  private failWithoutRequest(method: HttpMethod, endpoint: string, payload: unknown, message: string): SailthruError {
    const call: CallRecord = { method, endpoint, payload, status: 0, durationMs: 0, errorMessage: message };
    return { ok: false, status: 0, code: null, message, class: 'permanent', call };
  }
}

function record(req: Prepared, status: number, durationMs: number, extra: Partial<CallRecord>): CallRecord {
  const [method, endpoint] = splitCall(req.call);
  return { method, endpoint, payload: recordedPayload(req.payload, req.payloadJson), status, durationMs, ...extra };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function splitCall(call: SailthruCall): [HttpMethod, string] {
  const space = call.indexOf(' ');
  return [call.slice(0, space) as HttpMethod, call.slice(space + 1)];
}
