import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DeliveryMetrics } from '../delivery/metrics.ts';
import type { DestinationRegistry } from '../delivery/destinations.ts';
import type { EventStore } from '../delivery/store.ts';
import { WriteKeyUsage } from '../delivery/write-key-usage.ts';
import type { AppConfig } from '../config.ts';
import { adminRoutes } from './admin.ts';
import { healthRoutes } from './health.ts';
import { ingestRoutes, RefusalMonitor, type WebhookSecret } from './ingest.ts';
import type { SeriesSampler } from './series-sampler.ts';

/** Everything the HTTP side reaches: the store (through its interfaces) and process state. */
export interface AppDeps {
  config: AppConfig;
  store: EventStore;
  metrics: DeliveryMetrics;
  registry: DestinationRegistry;
  logger: Logger;
  webhookSecrets: readonly WebhookSecret[];
  /** Serve the ingest routes (false on a worker-only process). */
  ingest: boolean;
  isShuttingDown: () => boolean;
  /** This process's chart sampler (writes its figures to the store; the console reads them). */
  sampler?: SeriesSampler;
  /** This process's per-mapping counter (flushed before the cost figures are read). */
  mappingStats?: { flush(): Promise<void> };
}

/** The fastify app: ingest, health and metrics, admin API and console, each its own plugin. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app's default generic types.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request logs would carry URLs and headers at ingest rates; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // Slow clients (slow-loris) cannot hold a connection open for long: headers within 10 s,
    // the whole request (a trickled body) within 30 s, checked every 5 s.
    requestTimeout: 30_000,
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 5_000 },
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    bodyLimit: 1024 * 1024,
    trustProxy: deps.config.trustProxy,
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 500) {
      request.log.warn({ method: request.method, route: request.routeOptions.url, status: reply.statusCode }, 'request failed');
    }
  });

  await app.register(healthRoutes, {
    metrics: deps.metrics.registry,
    isReady: async () => {
      if (deps.isShuttingDown()) return false;
      await deps.store.checkWritable();
      return true;
    },
    onReadinessChange: (ready, reason) => {
      if (ready) deps.logger.info('ready: the database takes writes');
      else deps.logger.warn({ reason }, 'not ready: an append would not succeed now');
    },
  });

  if (deps.ingest) {
    const refusals = new RefusalMonitor({ registry: deps.metrics.registry, logger: deps.logger });
    const writeKeys = new WriteKeyUsage(deps.store, { onError: (err) => deps.logger.warn({ err }, 'could not record when write keys were last used') });
    app.addHook('onClose', () => writeKeys.flush());
    await app.register(ingestRoutes, {
      sink: deps.metrics.instrumentSink(deps.store),
      writeKeys,
      webhookSecrets: deps.webhookSecrets,
      maxBacklog: deps.config.maxBacklog,
      isShuttingDown: deps.isShuttingDown,
      corsOrigins: deps.config.corsOrigins,
      onRefused: (refused) => refusals.record(refused),
    });
    // The admin API and console: served where ingest is (DESIGN.md "Contracts").
    await app.register(adminRoutes, {
      config: deps.config,
      store: deps.store,
      metrics: deps.metrics,
      registry: deps.registry,
      refusals,
      ...(deps.sampler ? { sampler: deps.sampler } : {}),
      ...(deps.mappingStats ? { mappingStats: deps.mappingStats } : {}),
    });
  }

  return app;
}
