import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_BACKLOG_WARN_HORIZON_HOURS, type AppConfig } from '../config.ts';
import type { DestinationRegistry } from '../delivery/destinations.ts';
import type { DeliveryMetrics } from '../delivery/metrics.ts';
import { BacklogForecaster } from '../delivery/backlog-forecaster.ts';
import type { EventStore } from '../delivery/store.ts';
import { AdminDirectory, FailedAttempts } from './admin-auth.ts';
import { adminApiRoutes } from './admin-api.ts';
import { AdminService } from './admin-service.ts';
import { AuditTrail, type Actor } from './audit.ts';
import { consoleRoutes } from './console/routes.ts';
import type { RefusalSummary } from './ingest-refusals.ts';
import { SessionStore, type Session } from './console/session.ts';
import { redactSecrets, SecretList } from './secret-redaction.ts';
import { SeriesSampler } from './series-sampler.ts';
import { FailureGroups } from './failure-groups.ts';
import { LiveFeed } from './live-feed.ts';
import type { OperatorServices } from './operator-services.ts';
import { MappingService } from './mapping-service.ts';

/**
 * The operator side of the app: the admin JSON API under /api and the console pages, sharing one
 * AdminService, one session store and one chart sampler. Register it encapsulated:
 * `app.register(adminRoutes, { config, store, metrics, registry })`.
 */
export interface AdminRoutesOptions {
  config: Pick<AppConfig, 'admins' | 'destinations'> & Partial<Pick<AppConfig, 'backlogWarnHorizonHours'>>;
  store: EventStore;
  metrics: DeliveryMetrics;
  registry: DestinationRegistry;
  /** The process's chart sampler (service.ts runs one in every process); made here when absent. */
  sampler?: SeriesSampler;
  /** Chart sampling interval, ms (default 5 s), for a sampler made here. */
  sampleIntervalMs?: number;
  /** Console session idle timeout, ms (default 12 h). */
  sessionIdleMs?: number;
  /** Test-connection timeout, ms (default 5 s). */
  connectionTimeoutMs?: number;
  /** This process's per-mapping counter (service.ts runs one), flushed before the cost figures are read. */
  mappingStats?: { flush(): Promise<void> };
  /** Requests the ingest refused (shown on the overview). */
  refusals?: { summary(): RefusalSummary[] };
}

const SESSION_COOKIE = 'sd_session';

export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const { config, store, metrics, registry } = options;
  const ownSampler = options.sampler
    ? null
    : new SeriesSampler({
        metrics: metrics.registry,
        store,
        registry,
        ...(options.sampleIntervalMs !== undefined ? { intervalMs: options.sampleIntervalMs } : {}),
        onError: (err) => app.log.warn({ err }, 'chart sampling failed'),
      });
  const sampler = options.sampler ?? ownSampler!;
  const admins = new AdminDirectory(config.admins);
  const audit = new AuditTrail(store, app.log);
  const forecaster = new BacklogForecaster({ store, registry, warnHorizonSeconds: (config.backlogWarnHorizonHours ?? DEFAULT_BACKLOG_WARN_HORIZON_HOURS) * 3600 });
  forecaster.registerGauges(metrics.registry);
  const service = new AdminService({
    audit,
    adminTokens: () => admins.tokens(),
    store,
    registry,
    sink: metrics.instrumentSink(store),
    sampler,
    config,
    ...(options.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
    ...(options.refusals !== undefined ? { refusals: options.refusals } : {}),
    forecaster,
  });
  // Sessions live in the event store: a balancer may send each request of a session to a
  // different process. The cookie holds the session id alone, unsigned: a signature would need a
  // secret every process shares, and adds nothing to 256 random bits looked up by their hash.
  const sessions = new SessionStore({
    backend: store,
    secret: admins.sessionSecret,
    ...(options.sessionIdleMs !== undefined ? { idleMs: options.sessionIdleMs } : {}),
  });
  // Counted in the store: the limit on wrong tokens holds across every process behind a balancer.
  const failedAttempts = new FailedAttempts({ store });
  const secrets = new SecretList(() => service.secrets());
  const operator: OperatorServices = {
    failures: new FailureGroups(store),
    live: new LiveFeed(store, { onError: (err) => app.log.warn({ err }, 'live view could not read the delivery log') }),
    mappings: new MappingService({ store, audit, ...(options.mappingStats !== undefined ? { stats: options.mappingStats } : {}) }),
  };
  const redact = async (text: string): Promise<string> => redactSecrets(text, await secrets.current()).text;

  await app.register(fastifyCookie);

  // A session whose admin is no longer configured has ended (its token was removed).
  const sessionOf = async (request: FastifyRequest): Promise<Session | null> => {
    const id = request.cookies[SESSION_COOKIE];
    const session = id ? await sessions.get(id) : null;
    return session && admins.byName(session.admin) ? session : null;
  };
  const sessionActor = (request: FastifyRequest, session: Session): Actor => {
    const admin = admins.byName(session.admin)!;
    return { name: admin.name, role: admin.role, channel: 'console', source: request.ip };
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
    admins,
    audit,
    // The overview's charts poll the API: that is activity too, and keeps the session alive.
    sessionActor: async (request) => {
      const session = await sessionOf(request);
      if (!session) return null;
      await sessions.save(session);
      return sessionActor(request, session);
    },
    failedAttempts,
    operator,
  });
  await app.register(consoleRoutes, {
    service,
    admins,
    audit,
    sessions,
    sessionActor,
    failedAttempts,
    sessionOf,
    setSessionCookie,
    clearSessionCookie,
    operator,
    redact,
  });

  if (ownSampler) {
    ownSampler.start();
    app.addHook('onClose', async () => {
      await ownSampler.stop();
    });
  }
}
