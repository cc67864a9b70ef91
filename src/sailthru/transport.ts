import { request, errors as undiciErrors, type Dispatcher } from 'undici';
import { targetOf } from './target.ts';
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
      const options = { method: req.method, headers: req.headers, body: req.body, signal: deadline.signal };
      // The origin and path undici would take from the URL, without parsing it on every call
      // (target.ts); a URL it cannot vouch for goes to undici whole, as before.
      const target = targetOf(req.url);
      res = target ? await dispatcher.request({ ...options, ...target }) : await request(req.url, { ...options, dispatcher });
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
    const read = await readBody(res.body, maxBytes);
    if (read.kind === 'too-large') return { kind: 'too-large', status, headers, bytesRead: read.bytesRead, announced };
    if (read.kind === 'failed') {
      if (timedOut || isTimeout(read.err)) return { kind: 'timed-out', stage: 'body', status, bytesRead: read.bytesRead };
      return { kind: 'cut', status, bytesRead: read.bytesRead, code: codeOf(read.err) };
    }
    return { kind: 'answered', status, headers, body: read.body };
  } finally {
    clearTimeout(timer);
  }
}

type BodyRead =
  | { kind: 'whole'; body: Buffer }
  | { kind: 'too-large'; bytesRead: number }
  | { kind: 'failed'; bytesRead: number; err: unknown };

/**
 * The body, at most `maxBytes` of it, read with plain listeners: an async iterator over the
 * stream costs a promise per chunk and an end-of-stream watcher per call (issue 22's profile),
 * for answers that are one small chunk. The outcomes are the iterator's: whole at 'end'; over
 * the cap, the stream destroyed (closing the connection); an 'error' (the deadline's abort, a
 * reset); a 'close' before 'end' is a premature close, as the iterator reported it.
 */
function readBody(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytesRead = 0;
    let done = false;
    const finish = (outcome: BodyRead): void => {
      if (done) return;
      done = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      // Left on: an error emitted after we are done (a late reset) must not go unhandled.
      body.on('error', ignore);
      body.off('error', onError);
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      bytesRead += chunk.length;
      if (bytesRead > maxBytes) {
        finish({ kind: 'too-large', bytesRead });
        body.destroy();
        return;
      }
      chunks.push(chunk);
    };
    // Copied, as before: a chunk is a view into the socket's read buffer.
    const onEnd = (): void => finish({ kind: 'whole', body: Buffer.concat(chunks, bytesRead) });
    const onError = (err: unknown): void => finish({ kind: 'failed', bytesRead, err });
    const onClose = (): void => finish({ kind: 'failed', bytesRead, err: Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }) });
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}

function ignore(): void {}

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
