/**
 * HTTP for the CLI's client commands: JSON in and out, and patience the way a good Segment client
 * has it — wait out a 429 or 503 for its Retry-After, try 5xx answers and network failures again a
 * few times with growing pauses, give up with a message that says what happened.
 */

export interface HttpAnswer {
  status: number;
  /** The parsed JSON body; the text when it was not JSON; null when empty. */
  body: unknown;
}

export interface RetryOptions {
  /** Tries for 5xx answers and network failures. default 5 */
  attempts?: number;
  /** Waits for 429 (back-pressure can last a while). default 60 */
  throttledAttempts?: number;
  /** First pause after a failure, doubled each time. default 500 ms */
  backoffMs?: number;
  /** Longest Retry-After honoured, seconds. default 60 */
  maxRetryAfterSeconds?: number;
  /** Told before each wait (a progress line can say why it stalls). */
  onWait?: (reason: string, ms: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** No answer worth waiting for: the server could not be reached, or kept failing. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    /** The last HTTP status, 0 when none arrived. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function requestJson(
  method: 'GET' | 'POST',
  url: string,
  /** `body` is sent as JSON; `bodyText` is JSON text already. */
  init: { headers?: Record<string, string>; body?: unknown; bodyText?: string } = {},
  retry: RetryOptions = {},
): Promise<HttpAnswer> {
  const attempts = retry.attempts ?? 5;
  const throttledAttempts = retry.throttledAttempts ?? 60;
  const sleep = retry.sleep ?? sleepFor;
  const maxRetryAfter = (retry.maxRetryAfterSeconds ?? 60) * 1000;
  let backoff = retry.backoffMs ?? 500;
  let failures = 0;
  let throttled = 0;
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  const body = init.bodyText ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  if (body !== undefined) headers['content-type'] = 'application/json';

  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (err) {
      failures++;
      const reason = `could not reach ${originOf(url)} (${networkCode(err)})`;
      if (failures >= attempts) throw new HttpFailure(`${reason}; gave up after ${failures} tries`, 0);
      retry.onWait?.(reason, backoff);
      await sleep(backoff);
      backoff *= 2;
      continue;
    }
    const answer: HttpAnswer = { status: response.status, body: await bodyOf(response) };
    const retryAfter = retryAfterMs(response.headers.get('retry-after'), maxRetryAfter);
    if (response.status === 429 && ++throttled < throttledAttempts) {
      const wait = retryAfter ?? backoff;
      retry.onWait?.(`the server is busy (429${messageOf(answer.body)})`, wait);
      await sleep(wait);
      continue;
    }
    if (response.status >= 500 && response.status !== 501 && ++failures < attempts) {
      const wait = retryAfter ?? backoff;
      retry.onWait?.(`HTTP ${response.status}${messageOf(answer.body)}`, wait);
      await sleep(wait);
      backoff *= 2;
      continue;
    }
    return answer;
  }
}

/** `error` of a `{"error": "..."}` answer (ingest and admin API errors), else the status text. */
export function errorMessageOf(answer: HttpAnswer): string {
  const message = messageOf(answer.body);
  return message === '' ? `HTTP ${answer.status}` : `HTTP ${answer.status}${message}`;
}

function messageOf(body: unknown): string {
  if (body !== null && typeof body === 'object') {
    const error = (body as { error?: unknown; message?: unknown }).error ?? (body as { message?: unknown }).message;
    if (typeof error === 'string' && error !== '') return `: ${error}`;
  }
  return '';
}

async function bodyOf(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function retryAfterMs(header: string | null, max: number): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, max);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(date - Date.now(), 0), max);
}

/** fetch() hides the reason in `cause`; its code (ECONNREFUSED…) is what a person can act on. */
function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** URLs are shown without credentials or query (the admin token never goes in one, but still). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** `http://host:8080/` + `/v1/batch` without doubled slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
