import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppendResult, IngestBatch, IngestSink, WriteKeyDirectory } from '../delivery/ingest.ts';
import { promiseFrom } from '../delivery/promise-from.ts';
import {
  MAX_REQUEST_BYTES,
  TRACKING_ROUTES,
  normalizeTrackingBody,
  normalizeWebhookBody,
  parseJsonBody,
  writeKeyInBody,
  type NormalizedRequest,
  type NormalizeResult,
} from '../segment/index.ts';
import { IngestRefusal, ingestResponseSchemas, type IngestError, type IngestSuccess } from './ingest-answers.ts';
import { basicAuthUsername, destinationBySignature, firstEventSignedText, type WebhookSecret } from './ingest-auth.ts';
import { BacklogGauge } from './ingest-backlog.ts';

export * from './ingest-answers.ts';
export * from './ingest-auth.ts';
export * from './ingest-backlog.ts';

/**
 * The ingest routes: Segment's HTTP Tracking API (`POST /v1/batch|identify|track|page|screen|
 * group|alias`) and `POST /v1/webhook` for Segment's Webhooks destinations, answering as
 * DESIGN.md "Contracts" says.
 *
 * Register it encapsulated (`app.register(ingestRoutes, options)`, not wrapped in fastify-plugin):
 * it replaces the body parsers and the error handler for its own routes only.
 *
 * Content types (decided): `application/json` and `text/plain` (any charset parameter) are both
 * read as JSON. Segment documents application/json, but browser SDKs send text/plain from
 * sendBeacon to avoid a CORS preflight. Anything else, a missing Content-Type on a non-empty body,
 * or a compressed body (Content-Encoding), is answered 415.
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
}

export interface StoredCounts {
  accepted: number;
  rejected: number;
}

type IngestReply = IngestSuccess | IngestError;

type AppendOutcome = { ok: true; result: AppendResult; counts: StoredCounts } | { ok: false; error: unknown };

const DEFAULT_RETRY_AFTER_SECONDS = 5;
const ACCEPTED_CONTENT_TYPES = ['application/json', 'text/plain'];
const NO_ENCODING = new Set(['', 'identity']);

export async function ingestRoutes(app: FastifyInstance, options: IngestRoutesOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const retryAfter = String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
  const backlog = new BacklogGauge(() => options.sink.backlog(), options.backlogMaxAgeMs ?? 100, now);

  // The raw bytes are kept: X-Signature is an HMAC of exactly what was sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(ACCEPTED_CONTENT_TYPES, { parseAs: 'buffer', bodyLimit: MAX_REQUEST_BYTES }, (_request, body, done) => {
    done(null, body);
  });

  app.addHook('onRequest', async (request, reply) => {
    if (options.isShuttingDown()) {
      reply.header('retry-after', retryAfter).header('connection', 'close');
      return reply.code(503).send(failure('The server is shutting down; retry later'));
    }
    const encoding = String(request.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (!NO_ENCODING.has(encoding)) {
      return reply.code(415).send(failure('Compressed bodies (Content-Encoding) are not supported; send plain JSON'));
    }
    return undefined;
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = errorAnswer(error);
    // Refusals are answers on purpose (a failed store is logged where it happens, with its cause).
    if (answer.status >= 500 && !(error instanceof IngestRefusal)) request.log.error({ err: error }, 'ingest failed');
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value);
    return reply.code(answer.status).send(failure(answer.message));
  });

  const routeOptions = { bodyLimit: MAX_REQUEST_BYTES, schema: { response: ingestResponseSchemas } };

  for (const route of TRACKING_ROUTES) {
    app.post(`/v1/${route}`, routeOptions, async (request, reply) => {
      const receivedAt = new Date(now());
      const { value } = readBody(request);
      const destinationId = await trackingDestination(request, value);
      return store(reply, destinationId, normalizeTrackingBody(value, route, receivedAt), receivedAt);
    });
  }

  app.post('/v1/webhook', routeOptions, async (request, reply) => {
    const receivedAt = new Date(now());
    const { raw, text, value } = readBody(request);
    const destinationId = await webhookDestination(request, raw, text);
    return store(reply, destinationId, normalizeWebhookBody(value, receivedAt), receivedAt);
  });

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
    if (!normalized.ok) throw new IngestRefusal(400, normalized.error);
    await refuseWhenBacklogged();
    const answer = success(normalized);
    const { accepted, rejected } = normalized;
    if (accepted.length === 0 && rejected.length === 0) {
      reply.code(200);
      return answer;
    }
    return committed(reply, startAppend({ destinationId, accepted, rejected, receivedAt }), answer);
  }

  function startAppend(batch: IngestBatch): Promise<AppendOutcome> {
    const counts = { accepted: batch.accepted.length, rejected: batch.rejected.length };
    return promiseFrom(() => options.sink.append(batch)).then(
      (result) => ({ ok: true, result, counts }),
      (error: unknown) => ({ ok: false, error }),
    );
  }

  async function committed(reply: FastifyReply, appending: Promise<AppendOutcome>, answer: IngestReply): Promise<IngestReply> {
    const outcome = await appending;
    if (!outcome.ok) {
      reply.log.error({ err: outcome.error }, 'could not store an ingest batch');
      throw new IngestRefusal(503, `Could not store the events${errorCodeSuffix(outcome.error)}; nothing was stored, retry later`, {
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

  async function refuseWhenBacklogged(): Promise<void> {
    let pending: number;
    try {
      pending = await backlog.current();
    } catch {
      throw new IngestRefusal(503, 'Could not read the delivery backlog; retry later', { 'retry-after': retryAfter });
    }
    if (pending > options.maxBacklog) {
      throw new IngestRefusal(429, 'Too many events are waiting for delivery; retry after the Retry-After delay', {
        'retry-after': retryAfter,
      });
    }
  }

  async function destinationForKey(writeKey: string): Promise<string | null> {
    try {
      return await options.writeKeys.destinationFor(writeKey);
    } catch {
      throw new IngestRefusal(503, 'Could not check the write key; retry later', { 'retry-after': retryAfter });
    }
  }

  /** Basic auth username first, then `writeKey` in the body (analytics-node sends both). */
  async function trackingDestination(request: FastifyRequest, body: unknown): Promise<string> {
    const candidates = [basicAuthUsername(request.headers.authorization), writeKeyInBody(body)].filter(
      (key): key is string => key !== undefined,
    );
    if (candidates.length === 0) {
      throw new IngestRefusal(401, 'Missing write key: send it as the Basic auth username or as "writeKey" in the body');
    }
    for (const key of new Set(candidates)) {
      const destinationId = await destinationForKey(key);
      if (destinationId !== null) return destinationId;
    }
    throw new IngestRefusal(401, 'Unknown write key');
  }

  async function webhookDestination(request: FastifyRequest, raw: Buffer, text: string): Promise<string> {
    const username = basicAuthUsername(request.headers.authorization);
    if (username !== undefined) {
      const destinationId = await destinationForKey(username);
      if (destinationId !== null) return destinationId;
    }
    const signature = headerValue(request.headers['x-signature']) ?? headerValue(request.headers['x-segment-signature']);
    if (signature !== undefined) {
      const secrets = await webhookSecrets();
      const destinationId = destinationBySignature(signature, [raw], secrets);
      if (destinationId !== null) return destinationId;
      // JSON.parse without dropping prototype keys: the signed bytes included them.
      const firstEvent = firstEventSignedText(raw, () => JSON.parse(stripBom(text)) as unknown);
      const byFirstEvent = firstEvent === null ? null : destinationBySignature(signature, [firstEvent], secrets);
      if (byFirstEvent !== null) return byFirstEvent;
    }
    if (username === undefined && signature === undefined) {
      throw new IngestRefusal(401, 'Missing credentials: send a write key as the Basic auth username, or sign the body (X-Signature)');
    }
    throw new IngestRefusal(401, 'Invalid credentials: unknown write key or wrong X-Signature');
  }

  async function webhookSecrets(): Promise<readonly WebhookSecret[]> {
    const source = options.webhookSecrets;
    if (source === undefined) return [];
    if (typeof source !== 'function') return source;
    try {
      return await source();
    } catch {
      throw new IngestRefusal(503, 'Could not read the webhook secrets; retry later', { 'retry-after': retryAfter });
    }
  }
}

interface ReadBody {
  raw: Buffer;
  text: string;
  value: unknown;
}

function readBody(request: FastifyRequest): ReadBody {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const text = raw.toString('utf8');
  const parsed = parseJsonBody(text);
  if (!parsed.ok) throw new IngestRefusal(400, parsed.error);
  return { raw, text, value: parsed.value };
}

function success(normalized: NormalizedRequest): IngestSuccess {
  if (normalized.rejected.length === 0) return { success: true };
  return {
    success: true,
    rejected: normalized.rejected.map(({ index, messageId, reason }) => ({ index, messageId, reason })),
  };
}

function failure(message: string): IngestError {
  return { success: false, error: message };
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

interface ErrorAnswer {
  status: number;
  message: string;
  headers: Record<string, string>;
}

/** Fastify's own errors (body parsing, limits) in our answer format, with DESIGN's statuses. */
function errorAnswer(error: FastifyError): ErrorAnswer {
  if (error instanceof IngestRefusal) return { status: error.statusCode, message: error.message, headers: error.headers };
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      // DESIGN.md answers 400 (not 413) for an oversize batch, as Segment does.
      return { status: 400, message: `The request body is over the limit of 500 KB (${MAX_REQUEST_BYTES} bytes)`, headers: {} };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'Content-Type must be application/json (or text/plain holding JSON)', headers: {} };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'The body length does not match Content-Length', headers: {} };
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, message: error.message, headers: {} };
  return { status: 500, message: 'Internal error while receiving the events', headers: {} };
}
