import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import { createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import { IngestRefusal } from './ingest-answers.ts';

/**
 * Reading an ingest request body: the bytes as sent (X-Signature is an HMAC of those), the body
 * they decompress to (`Content-Encoding: gzip` or `deflate`), and its text in the declared charset.
 *
 * Decompression is a stream with the limit on the decompressed bytes: a 1 KB body that inflates
 * to 1 GB is refused as soon as its output passes the limit, having allocated no more than the
 * limit and one zlib chunk (16 KB).
 */

export interface ReceivedBody {
  /** The bytes as sent. */
  raw: Buffer;
  /** After Content-Encoding was undone (the same buffer as `raw` when there was none). */
  decoded: Buffer;
}

type Encoding = 'identity' | 'gzip' | 'deflate';

const ENCODINGS: Record<string, Encoding> = { '': 'identity', identity: 'identity', gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate' };

const tooLarge = (limit: number, what: string): IngestRefusal =>
  new IngestRefusal('INGEST_BODY_TOO_LARGE', `The request body is over the limit of 500 KB (${limit} bytes)${what}`, { connection: 'close' });

/** The body's Content-Encoding, or a refusal naming it. */
export function contentEncodingOf(headers: IncomingHttpHeaders): Encoding {
  const value = String(headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const encoding = ENCODINGS[value];
  if (encoding !== undefined) return encoding;
  throw new IngestRefusal(
    'INGEST_UNSUPPORTED_ENCODING',
    `Content-Encoding "${printable(value, 40)}" is not supported: send the body as is, or compressed with gzip or deflate`,
  );
}

/** Reads the whole body from `stream`, at most `limit` bytes as sent and `limit` decompressed. */
export function receiveBody(stream: Readable, headers: IncomingHttpHeaders, limit: number): Promise<ReceivedBody> {
  const encoding = contentEncodingOf(headers);
  const declared = Number(headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit, ''));

  return new Promise<ReceivedBody>((resolve, reject) => {
    const raw: Buffer[] = [];
    let rawLength = 0;
    const decoded: Buffer[] = [];
    let decodedLength = 0;
    let inflater: Transform | null = null;
    let settled = false;

    const finish = (error: Error | null, body?: ReceivedBody): void => {
      if (settled) return;
      settled = true;
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.removeListener('aborted', onAborted);
      inflater?.destroy();
      if (error !== null) {
        // Whatever is still coming is read and dropped (the answer closes the connection).
        stream.resume();
        reject(error);
      } else {
        resolve(body as ReceivedBody);
      }
    };

    /** Deflate bytes held until the first two have come, which say zlib-wrapped or raw. */
    let heldForHeader: Buffer | null = null;

    const startInflater = (first: Buffer): Transform => {
      const created = encoding === 'gzip' ? createGunzip() : isZlibHeader(first) ? createInflate() : createInflateRaw();
      created.on('data', (chunk: Buffer) => {
        decodedLength += chunk.length;
        if (decodedLength > limit) finish(tooLarge(limit, ' once decompressed'));
        else decoded.push(chunk);
      });
      created.on('end', () => {
        const rawBody = Buffer.concat(raw, rawLength);
        finish(null, { raw: rawBody, decoded: Buffer.concat(decoded, decodedLength) });
      });
      created.on('error', (error: NodeJS.ErrnoException) => {
        // zlib's "unexpected end of file": the stream was fine as far as it went.
        const truncated = error.code === 'Z_BUF_ERROR';
        const message = truncated
          ? `The ${encoding} body ends before its compressed data does (cut off?) (Content-Encoding: ${encoding})`
          : `The body is not valid ${encoding} data (Content-Encoding: ${encoding})`;
        finish(new IngestRefusal('INGEST_INVALID_COMPRESSION', message));
      });
      return created;
    };

    function onData(chunk: Buffer | string): void {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      rawLength += bytes.length;
      if (rawLength > limit) {
        finish(tooLarge(limit, ''));
        return;
      }
      raw.push(bytes);
      if (encoding === 'identity' || bytes.length === 0) return;
      if (inflater === null) {
        // A client may send the first byte on its own: decide on two, never by trial.
        const start = heldForHeader === null ? bytes : Buffer.concat([heldForHeader, bytes]);
        if (encoding === 'deflate' && start.length < 2) {
          heldForHeader = start;
          return;
        }
        heldForHeader = null;
        inflater = startInflater(start);
        inflater.write(start);
        return;
      }
      inflater.write(bytes);
    }

    function onEnd(): void {
      if (!Number.isNaN(declared) && declared !== rawLength) {
        finish(new IngestRefusal('INGEST_CONTENT_LENGTH_MISMATCH', 'The body length does not match Content-Length'));
        return;
      }
      if (encoding === 'identity') {
        const body = raw.length === 1 ? (raw[0] as Buffer) : Buffer.concat(raw, rawLength);
        finish(null, { raw: body, decoded: body });
      } else if (inflater === null && heldForHeader !== null) {
        // One byte in all: no deflate stream is that short.
        finish(new IngestRefusal('INGEST_INVALID_COMPRESSION', `The ${encoding} body ends before its compressed data does (cut off?) (Content-Encoding: ${encoding})`));
      } else if (inflater === null) {
        finish(new IngestRefusal('INGEST_INVALID_COMPRESSION', `The body is empty but says Content-Encoding: ${encoding}`));
      } else {
        inflater.end();
      }
    }

    function onError(): void {
      finish(new IngestRefusal('INGEST_BAD_REQUEST', 'The request body could not be read'));
    }

    function onAborted(): void {
      finish(new IngestRefusal('INGEST_BAD_REQUEST', 'The client closed the request before its body ended'));
    }

    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('aborted', onAborted);
    stream.resume();
  });
}

/**
 * `Content-Encoding: deflate` means zlib-wrapped deflate (RFC 9110), but some clients send raw
 * deflate. RFC 1950's two-byte header tells them apart: method 8 with a window of at most 32 KB,
 * and a check value making the two bytes a multiple of 31. A raw stream starting so would begin
 * with a stored block whose padding bits are not zero, which encoders never write.
 */
export function isZlibHeader(first: Buffer): boolean {
  if (first.length < 2) return false;
  const cmf = first[0] as number;
  const flg = first[1] as number;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

/** The charset parameter of a Content-Type, lower-cased; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  if (match === null) return undefined;
  return (match[1] ?? match[2] ?? '').trim().toLowerCase();
}

const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8']);

/**
 * The body as text. UTF-8 (the default, and what JSON must be) is checked, never patched with
 * replacement characters; another charset is decoded by it, or refused (415) naming it.
 */
export function decodeText(bytes: Buffer, contentType: string | undefined): string {
  const charset = charsetOf(contentType);
  if (charset === undefined || charset === '' || UTF8_LABELS.has(charset)) {
    if (!isUtf8(bytes)) {
      throw new IngestRefusal(
        'INGEST_INVALID_TEXT',
        'The body is not valid UTF-8: send UTF-8, or name its charset in Content-Type (for example "application/json; charset=iso-8859-1")',
      );
    }
    return bytes.toString('utf8');
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    throw new IngestRefusal('INGEST_UNSUPPORTED_CHARSET', `The charset "${printable(charset, 40)}" is not supported: send UTF-8`);
  }
  if (decoder.encoding === 'windows-1252') return decodeWindows1252(bytes);
  try {
    return decoder.decode(bytes);
  } catch {
    throw new IngestRefusal('INGEST_INVALID_TEXT', `The body is not valid ${printable(charset, 40)} text, as its Content-Type says`);
  }
}

/**
 * WHATWG's windows-1252 (also what every Latin-1 and ASCII label means): Latin-1, except that
 * 0x80–0x9F are typographic characters (€, curly quotes, ™, Œ…). Node 20's TextDecoder decodes
 * those labels as plain Latin-1, turning "€" into the control character U+0080, so it is done here.
 * Every byte has a character: it cannot fail.
 */
const WINDOWS_1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

export function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80] as string);
}

/** A header value safe to quote in an answer or a log: short, printable ASCII. */
export function printable(value: string, length: number): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return clean.length <= length ? clean : `${clean.slice(0, length)}…`;
}
