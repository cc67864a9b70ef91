import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AppendResult, IngestBatch, IngestSink, WriteKeyDirectory } from '../delivery/ingest.ts';
import { promiseFrom } from '../delivery/promise-from.ts';
import {
  MAX_REQUEST_BYTES,
  TRACKING_PATHS,
  WEBHOOK_PATH,
  normalizeTrackingBody,
  normalizeWebhookBody,
  parseJsonBody,
  writeKeyInBody,
  type NormalizedRequest,
  type NormalizeResult,
  type RequestProblem,
  type TrackingPath,
  type Authentication,
} from '../segment/index.ts';
import { statusOf, type ErrorCode } from './error-codes.ts';
import { IngestRefusal, errorAnswer, errorAnswerOf, ingestResponseSchemas, type IngestError, type IngestSuccess } from './ingest-answers.ts';
import { basicAuthUsername, destinationBySignature, firstEventSignedText, type WebhookSecret } from './ingest-auth.ts';
import { admitOrRefuse, BacklogGauge, type BacklogReservation } from './ingest-backlog.ts';
import { decodeText, receiveBody, type ReceivedBody } from './ingest-body.ts';
import { IngestCors, type CorsOrigins } from './ingest-cors.ts';
import type { RefusedRequest } from './ingest-refusals.ts';

export * from './ingest-answers.ts';
export * from './ingest-auth.ts';
export * from './ingest-backlog.ts';
export * from './ingest-cors.ts';
export * from './ingest-refusals.ts';
export { receiveBody, decodeText, contentEncodingOf, charsetOf } from './ingest-body.ts';

/**
 * The ingest routes: Segment's HTTP Tracking API (`POST /v1/batch|identify|track|page|screen|
 * group|alias`), the paths real clients use (`/v1/t|i|p|s|g|a|b`, `/v1/import`,
 * `/beacon/v1/batch`: src/segment/paths.ts) and `POST /v1/webhook` for Segment's Webhooks
 * destinations, answering as DESIGN.md "Contracts" says, with CORS for browsers.
 *
 * Register it encapsulated (`app.register(ingestRoutes, options)`, not wrapped in fastify-plugin):
 * it replaces the body parsers, the error handler and the CORS headers for its own routes only.
 *
 * Content types (decided): `application/json` and `text/plain` are read as JSON (browser SDKs
 * send text/plain to avoid a CORS preflight). `application/x-www-form-urlencoded` is read as JSON
 * when the body is a JSON object or array: RudderStack's Node SDK labels its gzipped JSON so; a
 * real form body is refused (415). Anything else, or no Content-Type on a non-empty body, is 415.
 * A `charset` other than UTF-8 is decoded by it, or refused (415) naming it. `Content-Encoding:
 * gzip` or `deflate` is undone as a stream, the 500 KB limit applying to the decompressed bytes.
 */

export type WebhookSecretSource = readonly WebhookSecret[] | (() => Promise<readonly WebhookSecret[]>);

export interface IngestRoutesOptions {
  sink: IngestSink;
  writeKeys: WriteKeyDirectory;
  /** Shared secrets that may sign `/v1/webhook` requests (X-Signature), per destination. */
  webhookSecrets?: WebhookSecretSource;
  /** Above this many unsettled events, answer 429 with Retry-After. */
  maxBacklog: number;
  isShuttingDown: () => boolean;
  /** Retry-After of 429 and 503 answers, in seconds. Default 5. */
  retryAfterSeconds?: number;
  /** How long a backlog figure is reused. Default 100 ms. */
  backlogMaxAgeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Called after each stored batch with how many events it held (metrics). Must not throw. */
  onStored?: (counts: StoredCounts, result: AppendResult) => void;
  /** Origins browsers may post from (CORS_ORIGINS). Default `*`. */
  corsOrigins?: CorsOrigins;
  /** Told of every error answer (counted and logged by RefusalMonitor). Must not throw. */
  onRefused?: (refused: RefusedRequest) => void;
}

export interface StoredCounts {
  accepted: number;
  rejected: number;
}

type IngestReply = IngestSuccess | IngestError;

type AppendOutcome = { ok: true; result: AppendResult; counts: StoredCounts } | { ok: false; error: unknown };

const DEFAULT_RETRY_AFTER_SECONDS = 5;
const REQUEST_PROBLEM_CODES: Record<RequestProblem, ErrorCode> = {
  'invalid-body': 'INGEST_INVALID_BODY',
  'too-many-events': 'INGEST_TOO_MANY_EVENTS',
  'event-too-large': 'INGEST_EVENT_TOO_LARGE',
  'batch-context-too-large': 'INGEST_BATCH_CONTEXT_TOO_LARGE',
  'batch-context-too-deep': 'INGEST_BATCH_CONTEXT_TOO_DEEP',
};
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const ACCEPTED_CONTENT_TYPES = ['application/json', 'text/plain', FORM_CONTENT_TYPE];

export async function ingestRoutes(app: FastifyInstance, options: IngestRoutesOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const retryAfter = String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
  const backlog = new BacklogGauge(() => options.sink.backlog(), options.backlogMaxAgeMs ?? 100, now);

  const cors = new IngestCors(options.corsOrigins ?? '*');

  // The bytes as sent are kept: X-Signature is an HMAC of exactly what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(ACCEPTED_CONTENT_TYPES, (request: FastifyRequest, payload: Readable) =>
    receiveBody(payload, request.headers, MAX_REQUEST_BYTES),
  );

  app.addHook('onRequest', async (request, reply) => {
    const decision = cors.decide(request.headers.origin);
    if (decision.kind === 'refused') {
      throw new IngestRefusal('INGEST_ORIGIN_NOT_ALLOWED', 'This origin may not send events here: add it to CORS_ORIGINS on the server');
    }
    if (decision.kind === 'allowed') reply.headers(decision.headers);
    if (options.isShuttingDown()) {
      throw new IngestRefusal('INGEST_SHUTTING_DOWN', 'The server is shutting down; retry later', {
        'retry-after': retryAfter,
        connection: 'close',
      });
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = errorAnswerOf(error);
    // Refusals are answers on purpose (a failed store is logged where it happens, with its cause).
    if (answer.code === 'INGEST_INTERNAL_ERROR') request.log.error({ err: error }, 'ingest failed');
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    try {
      options.onRefused?.({
        code: answer.code,
        status: statusOf(answer.code),
        message: answer.message,
        method: request.method,
        url: request.url,
        ip: request.ip,
        ...optionalHeader('origin', request.headers.origin),
        ...optionalHeader('userAgent', request.headers['user-agent']),
      });
    } catch (observerError) {
      request.log.warn({ err: observerError }, 'onRefused observer failed');
    }
    return reply.code(statusOf(answer.code)).send(errorAnswer(answer.code, answer.message));
  });

  const routeOptions = { schema: { response: ingestResponseSchemas } };
  const preflight = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (cors.decide(request.headers.origin).kind === 'allowed') reply.headers(cors.preflightHeaders(request.headers['access-control-request-headers']));
    await reply.code(204).send();
  };

  // Each path also with a trailing slash: analytics-java's endpoint("https://host") posts to
  // /v1/import/, and a webhook URL is typed by hand (docs/decisions.md, "Ingest paths take a trailing slash").
  const withSlash = (path: string): string[] => [path, `${path}/`];
  for (const trackingPath of TRACKING_PATHS) {
    for (const path of withSlash(trackingPath.path)) {
      app.options(path, preflight);
      app.post(path, routeOptions, async (request, reply) => {
        const receivedAt = new Date(now());
        const { body, text, value } = readBody(request);
        const destinationId = await trackingDestination(request, value, trackingPath);
        const facts = { ...sizeFacts(body, text), authenticatedBy: 'write-key' } as const;
        return store(reply, destinationId, normalizeTrackingBody(value, trackingPath.route, receivedAt, facts), receivedAt);
      });
    }
  }

  for (const path of withSlash(WEBHOOK_PATH)) {
    app.options(path, preflight);
    app.post(path, routeOptions, async (request, reply) => {
      const receivedAt = new Date(now());
      const { body, text, value } = readBody(request);
      const facts = { ...sizeFacts(body, text), ...(await webhookDestination(request, body, text)) };
      const { destinationId } = facts;
      return store(reply, destinationId, normalizeWebhookBody(value, receivedAt, facts), receivedAt);
    });
  }

  /**
   * Checks the backlog and hands the events to the sink. The parsed request is reachable only
   * until the append has started: `committed` waits for the commit holding nothing but the
   * answer, so the events (about 100 KB per batch) die young in V8's new space instead of being
   * promoted while the commit takes its few milliseconds, which under full ingest halves the
   * old-generation collections (bench/README.md, ingest).
   */
  async function store(
    reply: FastifyReply,
    destinationId: string,
    normalized: NormalizeResult,
    receivedAt: Date,
  ): Promise<IngestReply> {
    if (!normalized.ok) throw new IngestRefusal(REQUEST_PROBLEM_CODES[normalized.problem], normalized.error);
    const reservation = await admitOrRefuse(backlog, normalized.accepted.length, options.maxBacklog, retryAfter);
    const answer = success(normalized);
    const { accepted, rejected } = normalized;
    if (accepted.length === 0 && rejected.length === 0) {
      reservation.failed();
      reply.code(200);
      return answer;
    }
    return committed(reply, startAppend({ destinationId, accepted, rejected, receivedAt }, reservation), answer);
  }

  function startAppend(batch: IngestBatch, reservation: BacklogReservation): Promise<AppendOutcome> {
    const counts = { accepted: batch.accepted.length, rejected: batch.rejected.length };
    return promiseFrom(() => options.sink.append(batch)).then(
      (result) => {
        reservation.stored(result.stored);
        return { ok: true, result, counts };
      },
      (error: unknown) => {
        reservation.failed();
        return { ok: false, error };
      },
    );
  }

  async function committed(reply: FastifyReply, appending: Promise<AppendOutcome>, answer: IngestReply): Promise<IngestReply> {
    const outcome = await appending;
    if (!outcome.ok) {
      reply.log.error({ err: outcome.error }, 'could not store an ingest batch');
      throw new IngestRefusal('INGEST_STORE_FAILED', `Could not store the events${errorCodeSuffix(outcome.error)}; nothing was stored, retry later`, {
        'retry-after': retryAfter,
      });
    }
    try {
      options.onStored?.(outcome.counts, outcome.result);
    } catch (error) {
      // The events are stored: a failing observer must not turn that into an error answer.
      reply.log.warn({ err: error }, 'onStored observer failed');
    }
    reply.code(200);
    return answer;
  }

  async function destinationForKey(writeKey: string): Promise<string | null> {
    try {
      return await options.writeKeys.destinationFor(writeKey);
    } catch {
      throw new IngestRefusal('INGEST_STORE_UNAVAILABLE', 'Could not check the write key; retry later', { 'retry-after': retryAfter });
    }
  }

  /**
   * Basic auth username first, then `writeKey` in the body (analytics-node and analytics.js send
   * both), then, on the beacon path only, `?writeKey=` (sendBeacon cannot set a header).
   */
  async function trackingDestination(request: FastifyRequest, body: unknown, path: TrackingPath): Promise<string> {
    const candidates = [
      basicAuthUsername(request.headers.authorization),
      writeKeyInBody(body),
      path.writeKeyInQuery ? writeKeyInQuery(request.query) : undefined,
    ].filter((key): key is string => key !== undefined);
    if (candidates.length === 0) {
      const where = path.writeKeyInQuery ? ', as "writeKey" in the body or as ?writeKey= in the URL' : ' or as "writeKey" in the body';
      throw new IngestRefusal('INGEST_MISSING_WRITE_KEY', `Missing write key: send it as the Basic auth username${where}`);
    }
    for (const key of new Set(candidates)) {
      const destinationId = await destinationForKey(key);
      if (destinationId !== null) return destinationId;
    }
    throw new IngestRefusal('INGEST_UNKNOWN_WRITE_KEY', 'Unknown write key');
  }

  /** Which destination, and by what: a write key (Basic auth) or the shared secret's signature. */
  async function webhookDestination(request: FastifyRequest, body: ReceivedBody, text: string): Promise<WebhookSender> {
    const username = basicAuthUsername(request.headers.authorization);
    if (username !== undefined) {
      const destinationId = await destinationForKey(username);
      if (destinationId !== null) return { destinationId, authenticatedBy: 'write-key' };
    }
    const signature = headerValue(request.headers['x-signature']) ?? headerValue(request.headers['x-segment-signature']);
    if (signature !== undefined) {
      const secrets = await webhookSecrets();
      // Over the JSON as the sender wrote it, or, for a compressed body, over the bytes on the wire.
      const signed = body.raw === body.decoded ? [body.raw] : [body.decoded, body.raw];
      const destinationId = destinationBySignature(signature, signed, secrets);
      if (destinationId !== null) return { destinationId, authenticatedBy: 'webhook-signature' };
      // JSON.parse without dropping prototype keys: the signed bytes included them.
      const firstEvent = firstEventSignedText(body.decoded, () => JSON.parse(stripBom(text)) as unknown);
      const byFirstEvent = firstEvent === null ? null : destinationBySignature(signature, [firstEvent], secrets);
      // Actions webhooks sign only the first event of a batch (reference/segment-wire.md §3.5):
      // the others ride on it, as Segment's own receivers accept them.
      if (byFirstEvent !== null) return { destinationId: byFirstEvent, authenticatedBy: 'webhook-signature', signedFirstEventOnly: true };
    }
    if (username === undefined && signature === undefined) {
      throw new IngestRefusal('INGEST_MISSING_CREDENTIALS', 'Missing credentials: send a write key as the Basic auth username, or sign the body (X-Signature)');
    }
    throw new IngestRefusal('INGEST_INVALID_CREDENTIALS', 'Invalid credentials: unknown write key or wrong X-Signature');
  }

  async function webhookSecrets(): Promise<readonly WebhookSecret[]> {
    const source = options.webhookSecrets;
    if (source === undefined) return [];
    if (typeof source !== 'function') return source;
    try {
      return await source();
    } catch {
      throw new IngestRefusal('INGEST_STORE_UNAVAILABLE', 'Could not read the webhook secrets; retry later', { 'retry-after': retryAfter });
    }
  }
}

interface WebhookSender {
  destinationId: string;
  authenticatedBy: Authentication;
  signedFirstEventOnly?: boolean;
}

interface ReadBody {
  body: ReceivedBody;
  text: string;
  value: unknown;
}

function readBody(request: FastifyRequest): ReadBody {
  const body = isReceivedBody(request.body) ? request.body : { raw: Buffer.alloc(0), decoded: Buffer.alloc(0) };
  const contentType = request.headers['content-type'];
  const text = decodeText(body.decoded, contentType);
  if (isFormContentType(contentType) && !looksLikeJson(text)) {
    throw new IngestRefusal(
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
      'Form-encoded bodies are not supported: send the events as JSON (application/json or text/plain)',
    );
  }
  const parsed = parseJsonBody(text);
  if (!parsed.ok) throw new IngestRefusal('INGEST_INVALID_JSON', parsed.error);
  return { body, text, value: parsed.value };
}

/** The body's size as received (decompressed) and as the UTF-8 text the store keeps. */
function sizeFacts(body: ReceivedBody, text: string): { requestBytes: number; textBytes: number } {
  return { requestBytes: body.decoded.length, textBytes: Buffer.byteLength(text, 'utf8') };
}

function isReceivedBody(value: unknown): value is ReceivedBody {
  return typeof value === 'object' && value !== null && Buffer.isBuffer((value as ReceivedBody).raw) && Buffer.isBuffer((value as ReceivedBody).decoded);
}

function isFormContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.trim().toLowerCase().startsWith(FORM_CONTENT_TYPE);
}

/** A JSON object or array, as RudderStack's Node SDK sends under a form Content-Type. */
function looksLikeJson(text: string): boolean {
  const first = /^[\s\ufeff]*(.)/.exec(text)?.[1];
  return first === '{' || first === '[';
}

/** `?writeKey=` of RudderStack's beacon path. */
function writeKeyInQuery(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const value = (query as Record<string, unknown>).writeKey;
  const key = Array.isArray(value) ? value[0] : value;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

function optionalHeader<K extends string>(name: K, value: string | string[] | undefined): Partial<Record<K, string>> {
  const first = headerValue(value);
  return first === undefined ? {} : ({ [name]: first } as Record<K, string>);
}

function success(normalized: NormalizedRequest): IngestSuccess {
  if (normalized.rejected.length === 0) return { success: true };
  return {
    success: true,
    rejected: normalized.rejected.map(({ index, messageId, reason }) => ({ index, messageId, reason })),
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** A storage error code such as SQLITE_FULL helps the operator; its message might not be safe. */
function errorCodeSuffix(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? ` (${code})` : '';
}
