import type { Exchange, ResponseHeaders } from './transport.ts';
import type { ErrorClass, RateLimitInfo } from './types.ts';

/** Bad credentials (3, 5), IP not allowed (4), account not approved to send (21). */
const ACCOUNT_WIDE_CODES = new Set([3, 4, 5, 21]);
/** 9 = "internal error, probably not saved, wait and retry"; 43 = rate limited. */
const RETRYABLE_CODES = new Set([9, 43]);

/** How many bytes of an answer we do not understand go into the delivery log (SPEC.md §9). */
export const PREVIEW_BYTES = 200;

/**
 * What a success looks like, per call (SPEC.md §9): a 2xx alone proves nothing, since a proxy,
 * a captive portal or a misrouted URL answers 200 too.
 * - `object`: a JSON object without `error`;
 * - `{ field }`: a JSON object carrying that field (an object, or for ids a string or number);
 * - `any`: any 2xx (the page-view API's answer has no documented shape).
 */
type SuccessShape = 'object' | { field: string; holds: 'object' | 'id' } | 'any';

/**
 * Every call the client makes, each with the shape of its success. Declared once: the client's
 * calls are named by these keys, so a new call cannot be added without saying what its success is.
 */
export const SUCCESS_SHAPES = {
  // Every GET /user we send asks for `keys` (email, cart and connection test alike).
  'GET /user': { field: 'keys', holds: 'object' },
  'POST /user': 'object',
  'DELETE /user': 'object',
  'POST /event': 'object',
  'POST /purchase': { field: 'purchase', holds: 'object' },
  /** Order Refunded (SPEC.md §5.3). */
  'POST /return': 'object',
  'POST /job': { field: 'job_id', holds: 'id' },
  'GET /job': { field: 'job_id', holds: 'id' },
  'POST /v1/track/event/pageview': 'any',
} as const satisfies Record<string, SuccessShape>;

/** e.g. `POST /purchase`: a method and an endpoint the client calls. */
export type SailthruCall = keyof typeof SUCCESS_SHAPES;

export interface Classification {
  class: ErrorClass;
  retryAfterMs?: number;
}

/** What one exchange means for the caller: a success with its body, or a typed failure. */
export type Verdict =
  | { ok: true; status: number; body: unknown }
  | {
      ok: false;
      /** 0 unless a whole (or a too large) answer arrived. */
      status: number;
      code: number | null;
      message: string;
      class: ErrorClass;
      retryAfterMs?: number;
      /** The parsed body, for the delivery log, when it was a JSON error answer. */
      response?: unknown;
    };

export interface ExchangeContext {
  /** The URL that was called (the redirect's target is resolved against it). */
  url: string;
  /** The setting that holds the called base URL: where to look when it redirects. */
  urlSetting: 'apiUrl' | 'trackUrl';
  timeoutMs: number;
  maxBytes: number;
  rateLimit: RateLimitInfo | undefined;
  nowMs: number;
  /** Strings that must never reach a message (the shared secret, the request's sig). */
  secrets: readonly string[];
}

/**
 * The one place that decides what an unsuccessful answer means (SPEC.md §9). Account-wide wins
 * over retryable: a 500 carrying error 3 would still fail every later request.
 */
export function classifyError(
  status: number,
  code: number | null,
  rateLimit: RateLimitInfo | undefined,
  nowMs: number,
): Classification {
  if ((code !== null && ACCOUNT_WIDE_CODES.has(code)) || status === 401) return { class: 'account' };
  if (status === 429 || code === 43) {
    // Sailthru sends no Retry-After: the window's reset (epoch seconds) is the earliest retry.
    const retryAfterMs = rateLimit ? Math.max(0, rateLimit.reset * 1000 - nowMs) : undefined;
    return retryAfterMs === undefined ? { class: 'retryable' } : { class: 'retryable', retryAfterMs };
  }
  if (code !== null && RETRYABLE_CODES.has(code)) return { class: 'retryable' };
  if (status === 0) return { class: 'retryable' };
  if (status >= 300 && status < 400) return { class: 'redirect' };
  if (status >= 500 && status !== 501) return { class: 'retryable' };
  return { class: 'permanent' };
}

/** A truthy numeric `error` marks a failure even on HTTP 200 (reference §1.4). */
export function errorEnvelope(body: unknown): { code: number; message: string } | null {
  if (!isObject(body)) return null;
  const { error, errormsg } = body as { error?: unknown; errormsg?: unknown };
  const code = typeof error === 'number' ? error : typeof error === 'string' && /^\d+$/.test(error) ? Number(error) : NaN;
  if (!Number.isFinite(code) || code === 0) return null;
  return { code, message: typeof errormsg === 'string' ? errormsg : `Sailthru error ${code}` };
}

/** Everything an exchange can end in, told in words a person can act on. */
export function classifyExchange(call: SailthruCall, exchange: Exchange, ctx: ExchangeContext): Verdict {
  // An answer's verdict names no host: the URL (a GET's carries the whole signed query) is parsed only for the others.
  if (exchange.kind === 'answered') return classifyAnswer(call, exchange.status, exchange.headers, exchange.body, ctx);
  const host = hostOf(ctx.url);
  switch (exchange.kind) {
    case 'too-large': {
      const size = exchange.announced !== null ? `Content-Length ${exchange.announced}` : `more than ${ctx.maxBytes} bytes`;
      const message = `The answer from ${host} is over the ${megabytes(ctx.maxBytes)} limit (${size}); cut off`;
      return { ok: false, status: exchange.status, code: null, message, class: 'retryable' };
    }
    case 'timed-out': {
      const message =
        exchange.stage === 'headers'
          ? `No answer from ${host} within ${ctx.timeoutMs} ms`
          : `No complete answer from ${host} within ${ctx.timeoutMs} ms (HTTP ${exchange.status}; the body was still arriving, ${exchange.bytesRead} bytes so far)`;
      return { ok: false, status: 0, code: null, message, class: 'retryable' };
    }
    case 'unreachable':
      return { ok: false, status: 0, code: null, message: `Could not reach ${host}: ${exchange.code}`, class: 'retryable' };
    case 'not-http':
      return { ok: false, status: 0, code: null, message: `${host} answered with bytes that are not HTTP (${exchange.code})`, class: 'retryable' };
    case 'cut': {
      const message = `The connection to ${host} broke in the middle of the answer (HTTP ${exchange.status}, ${exchange.bytesRead} bytes of the body read): ${exchange.code}`;
      return { ok: false, status: 0, code: null, message, class: 'retryable' };
    }
  }
}

function classifyAnswer(call: SailthruCall, status: number, headers: ResponseHeaders, body: Buffer, ctx: ExchangeContext): Verdict {
  if (status >= 300 && status < 400) {
    // Never followed: a redirect would carry the signed request (a GET's sig in its URL) to
    // wherever it points, and Sailthru's API does not redirect.
    const target = redirectTarget(headers, ctx.url);
    const message = `the API URL redirects: check apiUrl/trackUrl (${ctx.urlSetting} ${originOf(ctx.url)} answered with a redirect ${target})`;
    return { ok: false, status, code: null, message, ...classifyError(status, null, ctx.rateLimit, ctx.nowMs) };
  }
  const parsed = parseJson(body);
  const envelope = parsed.kind === 'json' ? errorEnvelope(parsed.value) : null;
  if (envelope !== null) {
    return {
      ok: false,
      status,
      code: envelope.code,
      message: envelope.message,
      ...classifyError(status, envelope.code, ctx.rateLimit, ctx.nowMs),
      response: parsed.kind === 'json' ? parsed.value : undefined,
    };
  }
  if (status < 200 || status >= 300) {
    const c = classifyError(status, null, ctx.rateLimit, ctx.nowMs);
    if (parsed.kind === 'json') return { ok: false, status, code: null, message: `Sailthru answered HTTP ${status}`, ...c, response: parsed.value };
    const message = `Sailthru answered HTTP ${status} with a body that is not JSON: ${preview(body, ctx.secrets)}`;
    return { ok: false, status, code: null, message, ...c };
  }
  const shape: SuccessShape = SUCCESS_SHAPES[call];
  const mismatch = mismatchOf(shape, parsed);
  if (mismatch === null) return { ok: true, status, body: parsed.kind === 'json' ? parsed.value : null };
  const shown = body.length === 0 ? '' : `; ${body.length > PREVIEW_BYTES ? `first ${PREVIEW_BYTES} bytes` : 'the body'}: ${preview(body, ctx.secrets)}`;
  const message = `unrecognised answer from Sailthru (${mismatch}${shown})`;
  return { ok: false, status, code: null, message, class: 'retryable' };
}

type Parsed = { kind: 'empty' } | { kind: 'json'; value: unknown } | { kind: 'not-json' };

function parseJson(body: Buffer): Parsed {
  if (body.length === 0) return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { kind: 'not-json' };
  }
}

/** Why a 2xx answer is not the success `shape` describes, or null when it is one. */
function mismatchOf(shape: SuccessShape, parsed: Parsed): string | null {
  if (shape === 'any') return null;
  const wanted = shape === 'object' ? 'a JSON object without "error"' : `a JSON object with "${shape.field}"`;
  const got = (what: string) => `expected ${wanted}, got ${what}`;
  if (parsed.kind === 'empty') return got('an empty body');
  if (parsed.kind === 'not-json') return got('a body that is not JSON');
  const value = parsed.value;
  if (!isObject(value)) return got(jsonKind(value));
  if (shape === 'object') return Object.hasOwn(value, 'error') ? got('an object with "error"') : null;
  const held = value[shape.field];
  const fits = shape.holds === 'object' ? isObject(held) : (typeof held === 'string' && held !== '') || typeof held === 'number';
  return fits ? null : got(held === undefined ? `an object without "${shape.field}"` : `"${shape.field}" holding ${jsonKind(held)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function jsonKind(value: unknown): string {
  if (value === null) return 'JSON null';
  if (Array.isArray(value)) return 'a JSON array';
  if (typeof value === 'object') return 'a JSON object';
  return `a JSON ${typeof value}`;
}

/**
 * The start of a body for the delivery log: at most PREVIEW_BYTES bytes, on one line, with the
 * secrets masked first (a body echoing the request would carry its sig).
 */
function preview(body: Buffer, secrets: readonly string[]): string {
  if (body.length === 0) return '(empty)';
  let text = body.toString('utf8');
  for (const secret of secrets) if (secret !== '') text = text.split(secret).join('[redacted]');
  const bytes = Buffer.from(text, 'utf8');
  const cut = bytes.length > PREVIEW_BYTES;
  // A character split at the cut decodes as U+FFFD; control characters would break log lines.
  const head = bytes.subarray(0, PREVIEW_BYTES).toString('utf8').replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ');
  return `${head}${cut ? '…' : ''}`;
}

function redirectTarget(headers: ResponseHeaders, url: string): string {
  const raw = headers.location;
  const location = Array.isArray(raw) ? raw[0] : raw;
  if (location === undefined || location.trim() === '') return 'without a Location';
  try {
    // Origin and path only: a redirect of a GET keeps its query, which holds api_key and sig.
    const target = new URL(location, url);
    return `to ${target.origin}${target.pathname}`;
  } catch {
    return 'to an unreadable Location';
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured URL';
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'Sailthru';
  }
}

function megabytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MB` : `${bytes} bytes`;
}
