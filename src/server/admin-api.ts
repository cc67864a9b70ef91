import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, FailedAttempts, NO_ADMIN_TOKEN_MESSAGE, tokenMatches } from './admin-auth.ts';
import { AdminError, adminErrorBody, badRequest } from './admin-errors.ts';
import { statusOf, type AdminErrorCode } from './error-codes.ts';
import { parseDeadLetterSelector, parseEventId, parseEventQuery } from './admin-input.ts';
import type { AdminService } from './admin-service.ts';
import { SAMPLE_EVENTS } from './sample-events.ts';

/**
 * The admin JSON API under /api (register with `prefix: '/api'`). Every request needs
 * `Authorization: Bearer <ADMIN_TOKEN>`; the console's session cookie also opens the GET routes
 * (its charts poll /api/series), never the changing ones, so no form can be forged against them.
 */
export interface AdminApiOptions {
  service: AdminService;
  adminToken: string | undefined;
  /** A signed-in console session for this request (cookie), if any. */
  hasSession: (request: FastifyRequest) => Promise<boolean>;
  failedAttempts: FailedAttempts;
}

type Body = Record<string, unknown>;

export async function adminApiRoutes(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const { service } = options;

  app.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (!options.adminToken) return answer(reply, 'ADMIN_CONSOLE_CLOSED', NO_ADMIN_TOKEN_MESSAGE);
    const token = bearerToken(request.headers.authorization);
    if (token !== undefined) {
      if (await options.failedAttempts.blocked(request.ip)) {
        return answer(reply.header('retry-after', '900'), 'ADMIN_TOO_MANY_WRONG_TOKENS', 'Too many wrong admin tokens from this address; try again later');
      }
      if (tokenMatches(token, options.adminToken)) return undefined;
      await options.failedAttempts.record(request.ip);
      return answer(reply.header('www-authenticate', 'Bearer'), 'ADMIN_WRONG_TOKEN', 'Wrong admin token');
    }
    if ((request.method === 'GET' || request.method === 'HEAD') && (await options.hasSession(request))) return undefined;
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

  app.get('/overview', async (request) => service.overview(minutesOf(request.query)));
  app.get('/series', async (request) => service.series(minutesOf(request.query)));
  app.get('/sample-events', async () => ({ samples: SAMPLE_EVENTS }));

  app.get('/destinations', async () => ({ destinations: await service.listDestinations() }));
  app.post('/destinations', async (request, reply) => {
    const destination = await service.createDestination(body(request));
    created(reply);
    return { destination };
  });
  app.get('/destinations/:id', async (request) => ({ destination: await service.getDestination(param(request, 'id')) }));
  app.patch('/destinations/:id', async (request) => {
    const b = body(request);
    return { destination: await service.updateDestination(param(request, 'id'), { name: b.name, settings: b.settings }) };
  });
  app.delete('/destinations/:id', async (request) => {
    await service.deleteDestination(param(request, 'id'));
    return { deleted: true };
  });
  app.post('/destinations/:id/test-connection', async (request) => service.testConnection(param(request, 'id'), body(request).settings));
  app.post('/destinations/:id/pause', async (request) => ({ destination: await service.pause(param(request, 'id'), body(request).reason) }));
  app.post('/destinations/:id/resume', async (request) => ({ destination: await service.resume(param(request, 'id')) }));

  app.get('/destinations/:id/write-keys', async (request) => ({ writeKeys: await service.listWriteKeys(param(request, 'id')) }));
  app.post('/destinations/:id/write-keys', async (request, reply) => {
    const result = await service.createWriteKey(param(request, 'id'), body(request).label);
    created(reply);
    return result;
  });
  app.delete('/write-keys/:keyId', async (request) => ({ writeKey: await service.revokeWriteKey(param(request, 'keyId')) }));

  app.get('/events', async (request) => service.searchEvents(parseEventQuery(request.query as Body)));
  app.get('/events/:id', async (request) => ({ event: await service.getEvent(parseEventId(param(request, 'id'))) }));
  app.post('/events/:id/retry', async (request) => ({ retried: await service.retryEvent(parseEventId(param(request, 'id'))) }));
  app.post('/events/:id/drop', async (request) => ({ dropped: await service.dropEvent(parseEventId(param(request, 'id'))) }));

  app.post('/deadletters/retry', async (request) => ({ retried: await service.retryDeadLetters(parseDeadLetterSelector(body(request))) }));
  app.post('/deadletters/drop', async (request) => ({ dropped: await service.dropDeadLetters(parseDeadLetterSelector(body(request))) }));

  app.post('/users/:userId/delete', async (request) => service.deleteUser(param(request, 'userId'), body(request).destination));

  app.post('/test-events', async (request) => {
    const b = body(request);
    return service.sendTestEvent({ destination: b.destination, event: b.event, waitMs: b.waitMs });
  });
}

function minutesOf(query: unknown): number {
  const raw = (query as Record<string, unknown> | undefined)?.minutes;
  if (raw === undefined || raw === '') return 60;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 60) throw badRequest(`minutes must be a whole number from 1 to 60 (got ${JSON.stringify(raw)})`);
  return n;
}

/** An error answer: the status comes with the code (error-codes.ts). */
function answer(reply: FastifyReply, code: AdminErrorCode, message: string, problems: string[] = []): FastifyReply {
  return reply.code(statusOf(code)).send(adminErrorBody(code, message, problems));
}
