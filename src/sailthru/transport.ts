import { request, errors as undiciErrors, type Dispatcher } from 'undici';
import type { HttpMethod } from './types.ts';

/**
 * One HTTP exchange with Sailthru (or whatever answers at its address), bounded in time and in
 * size, told as a value: nothing here throws for what the network or the peer did, and nothing
 * here decides what an answer means (classify.ts does).
 */

/** SPEC.md §9: an answer larger than this is cut off (and retried). */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface OutgoingRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export type Exchange =
  /** The whole answer arrived within the time limit and the size cap. */
  | { kind: 'answered'; status: number; headers: ResponseHeaders; body: Buffer }
  /**
   * The answer is larger than MAX_ANSWER_BYTES (announced by Content-Length, or counted while
   * reading): reading stopped there and the connection was closed.
   */
  | { kind: 'too-large'; status: number; headers: ResponseHeaders; bytesRead: number; announced: number | null }
  /** The time limit ran out: before the status line and headers, or while the body was arriving. */
  | { kind: 'timed-out'; stage: 'headers' }
  | { kind: 'timed-out'; stage: 'body'; status: number; bytesRead: number }
  /** No answer: the connection was refused, reset or closed before any (DNS, TCP, TLS errors too). */
  | { kind: 'unreachable'; code: string }
  /** The peer answered with bytes that are not an HTTP response. */
  | { kind: 'not-http'; code: string }
  /** The connection broke after the headers, before the body was complete. */
  | { kind: 'cut'; status: number; bytesRead: number; code: string };

/**
 * Sends one request and reads its answer, all within `timeoutMs` from now: connecting, the
 * headers and the last byte of the body (undici's own timeouts restart with every chunk, so a
 * peer trickling a byte now and then would hold the call for ever). At most MAX_ANSWER_BYTES
 * are kept in memory.
 */
export async function exchange(dispatcher: Dispatcher, req: OutgoingRequest, timeoutMs: number, maxBytes = MAX_ANSWER_BYTES): Promise<Exchange> {
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort();
  }, timeoutMs);
  try {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher,
        signal: deadline.signal,
      });
    } catch (err) {
      if (timedOut || isTimeout(err)) return { kind: 'timed-out', stage: 'headers' };
      if (isParserError(err)) return { kind: 'not-http', code: parserReasonOf(err) };
      return { kind: 'unreachable', code: codeOf(err) };
    }
    const status = res.statusCode;
    const headers = res.headers as ResponseHeaders;
    const announced = contentLength(headers);
    if (announced !== null && announced > maxBytes) {
      // Closes the connection: nothing of it is read.
      res.body.destroy();
      return { kind: 'too-large', status, headers, bytesRead: 0, announced };
    }
    const chunks: Buffer[] = [];
    let bytesRead = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        bytesRead += chunk.length;
        if (bytesRead > maxBytes) {
          res.body.destroy();
          return { kind: 'too-large', status, headers, bytesRead, announced };
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (timedOut || isTimeout(err)) return { kind: 'timed-out', stage: 'body', status, bytesRead };
      return { kind: 'cut', status, bytesRead, code: codeOf(err) };
    }
    return { kind: 'answered', status, headers, body: Buffer.concat(chunks, bytesRead) };
  } finally {
    clearTimeout(timer);
  }
}

function isTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  );
}

/** llhttp's refusals (HPE_*): what arrived does not parse as an HTTP response. */
function isParserError(err: unknown): boolean {
  return err instanceof undiciErrors.HTTPParserError || /^HPE_/.test(codeOf(err));
}

/** llhttp's own words ("Expected HTTP/"), which quote nothing of the request or the answer. */
function parserReasonOf(err: unknown): string {
  const code = codeOf(err);
  if (code !== 'UNKNOWN') return code;
  const message = err instanceof Error ? err.message : '';
  return /\(([^()]{1,80})\)$/.exec(message)?.[1] ?? 'UNKNOWN';
}

/**
 * Only the error's code: undici's messages may quote the URL, and a GET's URL carries api_key
 * and sig.
 */
function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  const causeCode = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof causeCode === 'string' && causeCode !== '' ? causeCode : 'UNKNOWN';
}

function contentLength(headers: ResponseHeaders): number | null {
  const raw = headers['content-length'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return null;
  return Number(text);
}
