import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig, DeclaredDestination } from '../config.ts';
import { validateSettings, type DestinationSettings } from '../destination/settings.ts';
import { DestinationRegistry } from '../delivery/destinations.ts';
import { DeliveryMetrics } from '../delivery/metrics.ts';
import { openStore, parseDatabaseUrl } from '../delivery/open-store.ts';
import { SettingsSeal } from '../delivery/settings-seal.ts';
import { memoryLimiterFactory } from '../delivery/rate-limiter.ts';
import type { SharedLimiter } from '../delivery/shared-rate-limit.ts';
import { RetryPolicy } from '../delivery/retry-policy.ts';
import type { EventStore } from '../delivery/store.ts';
import { DeliveryWorker } from '../delivery/worker.ts';
import { longWait } from '../delivery/cross-lane-order.ts';
import { buildApp } from './app.ts';
import type { WebhookSecret } from './ingest.ts';
import { createLogger } from './logger.ts';
import { startWarnings } from './start-warnings.ts';
import { MappingStats } from '../delivery/mapping-stats.ts';
import { SeriesSampler } from './series-sampler.ts';

export interface ServiceRole {
  /** HTTP ingest routes (and the console / admin API). */
  ingest: boolean;
  /** Lane workers delivering to Sailthru. */
  delivery: boolean;
}

export interface ServiceOptions {
  logger?: Logger;
}

/** A running process: what `serve`, `worker`, the demo and the tests start and stop. */
export interface Service {
  app: FastifyInstance;
  /** http://host:port the app listens on. */
  url: string;
  store: EventStore;
  registry: DestinationRegistry;
  metrics: DeliveryMetrics;
  worker: DeliveryWorker | null;
  logger: Logger;
  /** Graceful: refuse new requests (503), finish in-flight deliveries, close the store. */
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 15 * 60 * 1000;

export async function startService(config: AppConfig, role: ServiceRole, options: ServiceOptions = {}): Promise<Service> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = await openStore(config.databaseUrl, {
    onError: (err) => logger.warn({ err }, 'database connection problem (retrying)'),
    seal: SettingsSeal.withKey(config.secretsKey),
  });
  let shuttingDown = false;
  try {
    // Secrets kept in plaintext (before SECRETS_KEY) are sealed now; without the key, or with
    // another, this fails with one line (SecretsKeyError) before anything is served.
    const resealed = await store.resealSecrets();
    if (resealed > 0) logger.info({ destinations: resealed }, 'sealed the Sailthru secrets kept in the database under SECRETS_KEY');
    await applyDeclaredDestinations(store, config.destinations, logger);
  } catch (err) {
    await store.close();
    throw err;
  }

  // One budget per Sailthru account across every process: Redis when REDIS_URL is set,
  // PostgreSQL in PostgreSQL mode, memory for the single SQLite process.
  const limiter = await openLimiter(config, store, logger);
  const metrics = new DeliveryMetrics({ log: store });
  const mappingStats = new MappingStats({ store, onError: (err) => logger.warn({ err }, 'could not write the per-mapping figures') });
  const registry = new DestinationRegistry({
    mappingStats,
    directory: store,
    identities: store,
    sentProfiles: store,
    cartMarkers: store,
    rateLimits: config.rateLimits,
    limiterFactory: limiter.factory,
    // One SQLite process delivers every event; PostgreSQL workers share lanes between them.
    deliversAlone: parseDatabaseUrl(config.databaseUrl).kind === 'sqlite',
    sailthruTimeoutMs: config.sailthruTimeoutMs,
    onRateLimitWait: (wait) => metrics.recordRateLimitWait(wait),
  });

  let worker: DeliveryWorker | null = null;
  if (role.delivery) {
    worker = new DeliveryWorker({
      store,
      deliver: registry.deliver,
      deliverGroup: registry.deliverGroup,
      crowded: registry.crowded,
      concurrency: config.concurrency,
      waitingLanes: config.waitingLanes,
      leaseMs: config.leaseMs,
      window: config.deliveryWindow,
      settleDelayMs: config.settleDelayMs,
      retryPolicy: new RetryPolicy({ windowMs: config.retryWindowHours * 3600_000, baseMs: config.retryBaseMs }),
    });
    metrics.attachWorker(worker);
    worker.on('problem', (err) => logger.error({ err }, 'delivery worker problem (the lane returns when its lease ends)'));
    worker.on('recovered', ({ destinationId, lanes }) => {
      logger.info({ destination: destinationId, lanes }, 'Sailthru answers again after an outage: lanes waiting out a retry are due now');
    });
    // The event's id, which of its ids, and a count: never the ids' values (users).
    worker.on('waiting', (w) => {
      const fields = { destination: w.lane.destinationId, event: w.eventId, field: w.field, earlier: w.earlier, waits: w.waits };
      // Held back about a minute (the 16th look), then every five: an operator should see a lane
      // stalled behind another's backlog or retries without turning debug on.
      if (longWait(w.waits)) logger.warn(fields, `event held back a long time: ${w.note}`);
      else logger.debug(fields, w.note);
    });
    worker.on('settled', (s) => {
      if (s.settlement.state === 'paused') {
        logger.warn({ destination: s.destinationId, reason: s.settlement.reason }, 'destination paused');
      }
    });
  }

  const webhookSecrets: WebhookSecret[] = config.destinations.flatMap((d) =>
    d.webhookSecret ? [{ destinationId: d.id, secret: d.webhookSecret }] : [],
  );
  // Every process, serving or delivering, writes its chart figures to the store.
  const sampler = new SeriesSampler({
    metrics: metrics.registry,
    store,
    registry,
    onError: (err) => logger.warn({ err }, 'chart sampling failed'),
  });
  const app = await buildApp({
    sampler,
    mappingStats,
    config,
    store,
    metrics,
    registry,
    logger,
    webhookSecrets,
    ingest: role.ingest,
    isShuttingDown: () => shuttingDown,
  });

  const url = await app.listen({ port: config.port, host: config.host });
  if (role.ingest) for (const warning of await startWarnings(config, store)) logger.warn(warning);
  worker?.start();
  sampler.start();
  mappingStats.start();

  const pruneTimer = setInterval(() => {
    const olderThan = new Date(Date.now() - config.retentionDays * 86_400_000);
    store.prune({ olderThan }).then(
      (n) => n > 0 && logger.info({ pruned: n }, 'pruned old delivered events'),
      (err: unknown) => logger.error({ err }, 'pruning failed'),
    );
    // The history of operator actions is kept as long as the delivery log.
    store.pruneAudit(olderThan).then(
      (n) => n > 0 && logger.info({ pruned: n }, 'pruned old audit records'),
      (err: unknown) => logger.error({ err }, 'pruning the audit log failed'),
    );
  }, PRUNE_EVERY_MS);
  pruneTimer.unref();

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      shuttingDown = true;
      clearInterval(pruneTimer);
      await app.close();
      await worker?.stop();
      // After the worker: its last settlements are in the last figures.
      await sampler.stop();
      await mappingStats.stop();
      await registry.close();
      await limiter.close();
      await store.close();
    })();
    return stopping;
  };

  logger.info(
    { url: displayUrl(url, config.host), ingest: role.ingest, delivery: role.delivery, database: describeDatabase(config.databaseUrl) },
    'sailthru-destination started',
  );
  return { app, url: displayUrl(url, config.host), store, registry, metrics, worker, logger, stop };
}

/**
 * The shared counters (ioredis, pg and their rate-limiter backends, about 15 MB resident) are
 * imported only when there is something to share them with: a lone SQLite process without
 * REDIS_URL counts in memory.
 */
async function openLimiter(config: AppConfig, store: EventStore, logger: Logger): Promise<SharedLimiter> {
  if (!config.redisUrl && parseDatabaseUrl(config.databaseUrl).kind === 'sqlite') {
    return { factory: memoryLimiterFactory, kind: 'memory', close: async () => {} };
  }
  const { openSharedLimiter } = await import('../delivery/shared-rate-limit.ts');
  return openSharedLimiter({
    store,
    redisUrl: config.redisUrl,
    onError: (err) => logger.warn({ err }, 'rate-limit store problem (requests go ahead, Sailthru 429s still pace them)'),
  });
}

/**
 * Declared destinations (env, config file) are written to the store at every start, so the
 * declared intent wins over console edits of the same fields (see src/config.ts). Settings that
 * do not validate are still stored: events keep being accepted and queued, and the destination
 * pauses with the validation message until the settings are fixed — nothing is lost to a typo.
 */
export async function applyDeclaredDestinations(store: EventStore, declared: DeclaredDestination[], logger: Logger): Promise<void> {
  for (const d of declared) {
    const existing = await store.getDestination(d.id);
    const merged = { ...(existing?.settings ?? {}), ...d.settings };
    const checked = validateSettings(merged);
    if (!checked.ok) {
      logger.warn({ destination: d.id, problems: checked.errors }, 'destination settings are incomplete; its events are queued until they are fixed');
    }
    // Unvalidated settings are stored as given; the registry re-validates before any delivery.
    const settings = (checked.ok ? checked.settings : merged) as DestinationSettings;
    if (!existing) {
      try {
        await store.createDestination({ id: d.id, name: d.name, settings, ...(d.mappings !== undefined ? { mappings: d.mappings } : {}) });
      } catch (err) {
        // Another process starting at the same moment created it first: update it instead.
        if ((await store.getDestination(d.id)) === null) throw err;
        await store.updateDestination(d.id, { name: d.name, settings });
      }
    } else if (JSON.stringify(existing.settings) !== JSON.stringify(settings) || existing.name !== d.name) {
      await store.updateDestination(d.id, { name: d.name, settings });
    }
    // Declared mappings win at every start, as the settings do; a change bumps the version.
    if (existing && d.mappings !== undefined && JSON.stringify(existing.mappings) !== JSON.stringify(d.mappings)) {
      await store.updateDestination(d.id, { mappings: d.mappings });
    }
    for (const key of d.writeKeys) await store.importWriteKey(d.id, key, 'declared (WRITE_KEYS / config file)');
  }
}

/** 0.0.0.0 is where we listen, not an address a person can open. */
function displayUrl(url: string, host: string): string {
  return host === '0.0.0.0' || host === '::' ? url.replace(/\/\/[^/:]+:/, '//127.0.0.1:') : url;
}

/** The database in logs: its kind and path, never a password. */
function describeDatabase(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'postgres';
  }
}
