import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, type AdminDirectory, type FailedAttempts, NO_ADMIN_TOKEN_MESSAGE } from './admin-auth.ts';
import { AdminError, adminErrorBody, badRequest } from './admin-errors.ts';
import { statusOf, type AdminErrorCode } from './error-codes.ts';
import { parseAuditQuery, parseDeadLetterSelector, parseEventId, parseEventQuery } from './admin-input.ts';
import type { AdminService } from './admin-service.ts';
import { CLI_USER_AGENT_PREFIX, viewerRefusal, type Actor, type AuditTrail } from './audit.ts';
import { auditView } from './admin-views.ts';
import { mappingApiRoutes } from './mapping-api.ts';
import { operatorApiRoutes } from './operator-api.ts';
import type { OperatorServices } from './operator-services.ts';
import { SAMPLE_EVENTS } from './sample-events.ts';
import { isSeriesRange, SERIES_RANGES, type SeriesRange } from './series-buckets.ts';

/**
 * The admin JSON API under /api (register with `prefix: '/api'`). Every request needs
 * `Authorization: Bearer <token>` (ADMIN_TOKEN or one of ADMIN_TOKENS); the console's session
 * cookie also opens the GET routes (its charts poll /api/series), never the changing ones, so no
 * form can be forged against them. A viewer's token reads; anything else answers 403.
 */
export interface AdminApiOptions {
  service: AdminService;
  admins: AdminDirectory;
  audit: AuditTrail;
  /** Who a signed-in console session (cookie) of this request is, if any. */
  sessionActor: (request: FastifyRequest) => Promise<Actor | null>;
  failedAttempts: FailedAttempts;
  operator: OperatorServices;
}

type Body = Record<string, unknown>;

export async function adminApiRoutes(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const { service } = options;
  const actors = new WeakMap<FastifyRequest, Actor>();
  const actor = (request: FastifyRequest): Actor => {
    const found = actors.get(request);
    // The onRequest hook sets it for every request it lets through.
    if (!found) throw new AdminError('ADMIN_NOT_SIGNED_IN', 'Not signed in');
    return found;
  };
  const reading = (request: FastifyRequest) => request.method === 'GET' || request.method === 'HEAD';

  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (options.admins.closed) return answer(reply, 'ADMIN_CONSOLE_CLOSED', NO_ADMIN_TOKEN_MESSAGE);
    const token = bearerToken(request.headers.authorization);
    const channel = (request.headers['user-agent'] ?? '').startsWith(CLI_USER_AGENT_PREFIX) ? 'cli' : 'api';
    if (token !== undefined) {
      if (await options.failedAttempts.blocked(request.ip)) {
        return answer(reply.header('retry-after', '900'), 'ADMIN_TOO_MANY_WRONG_TOKENS', 'Too many wrong admin tokens from this address; try again later');
      }
      const admin = options.admins.identify(token);
      if (!admin) {
        await options.failedAttempts.record(request.ip);
        await options.audit.record({ name: null, channel, source: request.ip }, 'sign-in.failed', { detail: `wrong admin token on ${request.method} ${request.routeOptions.url ?? 'an unknown route'}` });
        return answer(reply.header('www-authenticate', 'Bearer'), 'ADMIN_WRONG_TOKEN', 'Wrong admin token');
      }
      if (admin.role !== 'admin' && !reading(request)) return answer(reply, 'ADMIN_VIEWER_READ_ONLY', viewerRefusal(admin.name).message);
      actors.set(request, { name: admin.name, role: admin.role, channel, source: request.ip });
      return undefined;
    }
    if (reading(request)) {
      const fromSession = await options.sessionActor(request);
      if (fromSession) {
        actors.set(request, fromSession);
        return undefined;
      }
    }
    return answer(reply.header('www-authenticate', 'Bearer'), 'ADMIN_MISSING_TOKEN', 'Missing admin token: send Authorization: Bearer <ADMIN_TOKEN>');
  });

  app.setErrorHandler((error: FastifyError | AdminError, request, reply) => {
    if (error instanceof AdminError) return answer(reply, error.code, error.message, error.problems);
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error, route: request.routeOptions.url }, 'admin API request failed');
      return answer(reply, 'ADMIN_INTERNAL_ERROR', 'Internal error; see the server log');
    }
    // Fastify's own 4xx (bad JSON, body too large, wrong content type) say what is wrong.
    const code = status === 413 ? 'ADMIN_BODY_TOO_LARGE' : status === 415 ? 'ADMIN_UNSUPPORTED_MEDIA_TYPE' : 'ADMIN_INVALID_REQUEST';
    // Fastify's parser refuses valid JSON holding a __proto__ (or constructor.prototype) key with
    // the same error as broken JSON, and keeps no cause: say both, or a user hunts a syntax error.
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return answer(reply, code, 'The body is not valid JSON, or it holds a "__proto__" or "constructor": {"prototype": …} key, which the admin API refuses');
    }
    return answer(reply, code, error.message);
  });

  app.setNotFoundHandler(async (request, reply) => answer(reply, 'ADMIN_NOT_FOUND', `No admin API route ${request.method} ${request.url.split('?', 1)[0]}`));

  const body = (request: FastifyRequest): Body => {
    const b = request.body;
    if (b === undefined || b === null) return {};
    if (typeof b !== 'object' || Array.isArray(b)) throw badRequest('The body must be a JSON object');
    return b as Body;
  };
  const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string>)[name] ?? '';
  const created = (reply: FastifyReply) => reply.code(201);

  app.get('/overview', async (request) => service.overview(rangeOf(request.query)));
  app.get('/series', async (request) => service.series(rangeOf(request.query)));
  app.get('/sample-events', async () => ({ samples: SAMPLE_EVENTS }));
  app.get('/audit', async (request) => {
    const page = await service.audit(parseAuditQuery(request.query as Body));
    return { entries: page.records.map(auditView), nextBefore: page.nextBeforeId };
  });
  app.get('/whoami', async (request) => {
    const { name, role, channel } = actor(request);
    return { name, role, channel };
  });

  app.get('/destinations', async () => ({ destinations: await service.listDestinations() }));
  app.post('/destinations', async (request, reply) => {
    const destination = await service.createDestination(actor(request), body(request));
    created(reply);
    return { destination };
  });
  app.get('/destinations/:id', async (request) => ({ destination: await service.getDestination(param(request, 'id')) }));
  app.patch('/destinations/:id', async (request) => {
    const b = body(request);
    return { destination: await service.updateDestination(actor(request), param(request, 'id'), { name: b.name, settings: b.settings }) };
  });
  app.delete('/destinations/:id', async (request) => {
    await service.deleteDestination(actor(request), param(request, 'id'));
    return { deleted: true };
  });
  app.post('/destinations/:id/test-connection', async (request) => service.testConnection(actor(request), param(request, 'id'), body(request).settings));
  app.post('/destinations/:id/pause', async (request) => ({ destination: await service.pause(actor(request), param(request, 'id'), body(request).reason) }));
  app.post('/destinations/:id/resume', async (request) => ({ destination: await service.resume(actor(request), param(request, 'id')) }));

  app.get('/destinations/:id/write-keys', async (request) => ({ writeKeys: await service.listWriteKeys(param(request, 'id')) }));
  app.post('/destinations/:id/write-keys', async (request, reply) => {
    const result = await service.createWriteKey(actor(request), param(request, 'id'), body(request).label);
    created(reply);
    return result;
  });
  app.delete('/write-keys/:keyId', async (request) => ({ writeKey: await service.revokeWriteKey(actor(request), param(request, 'keyId')) }));

  app.get('/events', async (request) => service.searchEvents(parseEventQuery(request.query as Body)));
  app.get('/events/:id', async (request) => ({ event: await service.getEvent(parseEventId(param(request, 'id'))) }));
  app.post('/events/:id/retry', async (request) => ({ retried: await service.retryEvent(actor(request), parseEventId(param(request, 'id'))) }));
  app.post('/events/:id/drop', async (request) => ({ dropped: await service.dropEvent(actor(request), parseEventId(param(request, 'id'))) }));

  app.post('/deadletters/retry', async (request) => ({ retried: await service.retryDeadLetters(actor(request), parseDeadLetterSelector(body(request))) }));
  app.post('/deadletters/drop', async (request) => ({ dropped: await service.dropDeadLetters(actor(request), parseDeadLetterSelector(body(request))) }));

  app.post('/users/:userId/delete', async (request) => service.deleteUser(actor(request), param(request, 'userId'), body(request).destination));

  operatorApiRoutes(app, options.operator, service, actor);
  mappingApiRoutes(app, options.operator.mappings, actor);

  app.post('/test-events', async (request) => {
    const b = body(request);
    return service.sendTestEvent(actor(request), { destination: b.destination, event: b.event, waitMs: b.waitMs });
  });
}

/** `?range=1h|24h|7d`, or `?minutes=1..60` (the finest resolution); default 1h. */
function rangeOf(query: unknown): SeriesRange | number {
  const q = (query as Record<string, unknown> | undefined) ?? {};
  if (q.range !== undefined && q.range !== '') {
    if (!isSeriesRange(q.range)) throw badRequest(`range must be one of ${Object.keys(SERIES_RANGES).join(', ')} (got ${JSON.stringify(q.range)})`);
    return q.range;
  }
  const raw = q.minutes;
  if (raw === undefined || raw === '') return '1h';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 60) throw badRequest(`minutes must be a whole number from 1 to 60 (got ${JSON.stringify(raw)})`);
  return n;
}

/** An error answer: the status comes with the code (error-codes.ts). */
function answer(reply: FastifyReply, code: AdminErrorCode, message: string, problems: string[] = []): FastifyReply {
  return reply.code(statusOf(code)).send(adminErrorBody(code, message, problems));
}
