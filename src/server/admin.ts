import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '../config.ts';
import type { DestinationRegistry } from '../delivery/destinations.ts';
import type { DeliveryMetrics } from '../delivery/metrics.ts';
import type { EventStore } from '../delivery/store.ts';
import { FailedAttempts } from './admin-auth.ts';
import { adminApiRoutes } from './admin-api.ts';
import { AdminService } from './admin-service.ts';
import { consoleRoutes } from './console/routes.ts';
import type { RefusalSummary } from './ingest-refusals.ts';
import { SessionStore, type Session } from './console/session.ts';
import { redactSecrets, SecretList } from './secret-redaction.ts';
import { SeriesSampler } from './series-sampler.ts';

/**
 * The operator side of the app: the admin JSON API under /api and the console pages, sharing one
 * AdminService, one session store and one chart sampler. Register it encapsulated:
 * `app.register(adminRoutes, { config, store, metrics, registry })`.
 */
export interface AdminRoutesOptions {
  config: Pick<AppConfig, 'adminToken' | 'destinations'>;
  store: EventStore;
  metrics: DeliveryMetrics;
  registry: DestinationRegistry;
  /** Chart sampling interval, ms (default 5 s). */
  sampleIntervalMs?: number;
  /** Console session idle timeout, ms (default 12 h). */
  sessionIdleMs?: number;
  /** Test-connection timeout, ms (default 5 s). */
  connectionTimeoutMs?: number;
  /** Requests the ingest refused (shown on the overview). */
  refusals?: { summary(): RefusalSummary[] };
}

const SESSION_COOKIE = 'sd_session';

export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const { config, store, metrics, registry } = options;
  const sampler = new SeriesSampler({
    metrics: metrics.registry,
    store,
    registry,
    ...(options.sampleIntervalMs !== undefined ? { intervalMs: options.sampleIntervalMs } : {}),
    onError: (err) => app.log.warn({ err }, 'chart sampling failed'),
  });
  const service = new AdminService({
    store,
    registry,
    sink: metrics.instrumentSink(store),
    sampler,
    config,
    ...(options.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
    ...(options.refusals !== undefined ? { refusals: options.refusals } : {}),
  });
  // Sessions live in the event store: a balancer may send each request of a session to a
  // different process. The cookie holds the session id alone, unsigned: a signature would need a
  // secret every process shares, and adds nothing to 256 random bits looked up by their hash.
  const sessions = new SessionStore({
    backend: store,
    secret: config.adminToken ?? '',
    ...(options.sessionIdleMs !== undefined ? { idleMs: options.sessionIdleMs } : {}),
  });
  // Counted in the store: the limit on wrong tokens holds across every process behind a balancer.
  const failedAttempts = new FailedAttempts({ store });
  const secrets = new SecretList(() => service.secrets());

  await app.register(fastifyCookie);

  const sessionOf = async (request: FastifyRequest): Promise<Session | null> => {
    const id = request.cookies[SESSION_COOKIE];
    return id ? sessions.get(id) : null;
  };
  const setSessionCookie = (reply: FastifyReply, session: Session): void => {
    reply.setCookie(SESSION_COOKIE, session.id, { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto' });
  };
  const clearSessionCookie = (reply: FastifyReply): void => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
  };

  // Last line of defence: no known secret leaves in a response body (see secret-redaction.ts).
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string') return payload;
    const { text, hits } = redactSecrets(payload, await secrets.current());
    if (hits > 0) request.log.error({ route: request.routeOptions.url, hits }, 'a secret was about to be sent in a response and was redacted');
    return text;
  });
  app.addHook('onResponse', async (request) => {
    if (request.method !== 'GET') secrets.invalidate();
  });

  await app.register(adminApiRoutes, {
    prefix: '/api',
    service,
    adminToken: config.adminToken,
    // The overview's charts poll the API: that is activity too, and keeps the session alive.
    hasSession: async (request) => {
      const session = await sessionOf(request);
      if (session) await sessions.save(session);
      return session !== null;
    },
    failedAttempts,
  });
  await app.register(consoleRoutes, {
    service,
    adminToken: config.adminToken,
    sessions,
    failedAttempts,
    sessionOf,
    setSessionCookie,
    clearSessionCookie,
  });

  sampler.start();
  app.addHook('onClose', async () => {
    await sampler.stop();
  });
}
