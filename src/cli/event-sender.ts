import { MAX_BATCH_EVENTS, MAX_REQUEST_BYTES, type JsonObject } from '../segment/index.ts';
import type { EventFile } from './event-file.ts';
import { errorMessageOf, HttpFailure, joinUrl, requestJson, type RetryOptions } from './http.ts';

/**
 * Posts the events of a file to a server's `/v1/batch` in batches, as analytics-node does (under
 * 500 KB a request), and accounts for every entry: accepted, rejected by the server (with its
 * reason), invalid in the file, or not sent because the server could not be reached.
 */

export interface SendOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080 */
  url: string;
  writeKey: string;
  /** Events per request. default 100 */
  batchSize?: number;
  /** Bytes per request (JSON). default 480 KB, as analytics-node, under the server's 500 KB. */
  maxBatchBytes?: number;
  retry?: RetryOptions;
  onProgress?: (progress: SendProgress) => void;
}

export interface SendProgress {
  total: number;
  /** Entries dealt with so far (sent and answered, or invalid). */
  done: number;
  accepted: number;
  rejected: number;
  invalid: number;
}

/** A file entry that did not make it, named as a person finds it (`line 7`). */
export interface EntryProblem {
  where: string;
  reason: string;
}

export interface SendSummary {
  total: number;
  accepted: number;
  rejected: EntryProblem[];
  invalid: EntryProblem[];
  /** Entries never answered for, because sending stopped (see `stopped`). */
  notSent: number;
  /** Why sending stopped before the end (a refused write key, an unreachable server). */
  stopped?: string;
  requests: number;
}

const DEFAULT_MAX_BATCH_BYTES = 480 * 1024;

interface Pending {
  where: string;
  json: string;
}

export async function sendEventFile(file: EventFile, options: SendOptions): Promise<SendSummary> {
  const batchSize = Math.min(Math.max(options.batchSize ?? 100, 1), MAX_BATCH_EVENTS);
  const maxBytes = Math.min(options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES, MAX_REQUEST_BYTES);
  const endpoint = joinUrl(options.url, '/v1/batch');
  const authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  const envelope = envelopeOf(file.batchFields);

  const summary: SendSummary = { total: file.total, accepted: 0, rejected: [], invalid: [], notSent: 0, requests: 0 };
  let done = 0;
  const progress = () =>
    options.onProgress?.({
      total: file.total,
      done,
      accepted: summary.accepted,
      rejected: summary.rejected.length,
      invalid: summary.invalid.length,
    });

  let batch: Pending[] = [];
  let batchBytes = envelope.bytes;

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const sending = batch;
    batch = [];
    batchBytes = envelope.bytes;
    summary.requests++;
    let answer;
    try {
      answer = await requestJson(
        'POST',
        endpoint,
        { headers: { authorization }, bodyText: envelope.wrap(sending.map((p) => p.json)) },
        options.retry ?? {},
      );
    } catch (err) {
      throw err instanceof HttpFailure ? new StopSending(err.message) : err;
    }
    if (answer.status === 200) {
      const refused = rejectionsOf(answer.body);
      for (const r of refused) {
        const entry = sending[r.index];
        summary.rejected.push({ where: entry?.where ?? `request ${summary.requests} event ${r.index + 1}`, reason: r.reason });
      }
      summary.accepted += sending.length - refused.length;
    } else if (answer.status === 400 || answer.status === 413) {
      // The request as a whole was refused (its size, its JSON): every event of it, with that reason.
      const reason = errorMessageOf(answer);
      for (const entry of sending) summary.rejected.push({ where: entry.where, reason });
    } else {
      throw new StopSending(refusalOf(answer.status, errorMessageOf(answer)));
    }
    done += sending.length;
    progress();
  };

  try {
    for (const entry of file.entries) {
      if (!entry.ok) {
        summary.invalid.push({ where: entry.where, reason: entry.error });
        done++;
        progress();
        continue;
      }
      const json = JSON.stringify(entry.value) ?? 'null';
      const bytes = Buffer.byteLength(json, 'utf8') + 1;
      if (envelope.bytes + bytes > maxBytes) {
        summary.rejected.push({ where: entry.where, reason: `the event is ${bytes - 1} bytes as JSON, too large to send (one event may have 32 KB)` });
        done++;
        progress();
        continue;
      }
      if (batch.length >= batchSize || batchBytes + bytes > maxBytes) await flush();
      batch.push({ where: entry.where, json });
      batchBytes += bytes;
    }
    await flush();
  } catch (err) {
    if (!(err instanceof StopSending)) throw err;
    summary.stopped = err.message;
    summary.notSent = file.total - done;
  }
  return summary;
}

class StopSending extends Error {}

function refusalOf(status: number, message: string): string {
  if (status === 401 || status === 403) return `the server refused the write key (${message})`;
  if (status === 404) return `no Segment ingest at this URL (${message}); is it the server's base URL?`;
  return `the server answered ${message}`;
}

/** The batch body: serialised events spliced into `{"batch":[...], ...fields}` without re-encoding. */
function envelopeOf(fields: JsonObject): { bytes: number; wrap(events: string[]): string } {
  const head = '{"batch":[';
  const rest = Object.keys(fields).length === 0 ? '' : `,${JSON.stringify(fields).slice(1, -1)}`;
  const tail = `]${rest}}`;
  return {
    bytes: Buffer.byteLength(head + tail, 'utf8'),
    wrap: (events) => `${head}${events.join(',')}${tail}`,
  };
}

function rejectionsOf(body: unknown): Array<{ index: number; reason: string }> {
  const list = (body as { rejected?: unknown } | null)?.rejected;
  if (!Array.isArray(list)) return [];
  return list.flatMap((r) => {
    const index = (r as { index?: unknown }).index;
    const reason = (r as { reason?: unknown }).reason;
    return typeof index === 'number' ? [{ index, reason: typeof reason === 'string' ? reason : 'rejected' }] : [];
  });
}
