import type { Logger } from 'pino';
import { ConfigError, loadConfig, type AppConfig, type DeclaredDestination } from '../config.ts';
import type { EventStore } from '../delivery/store.ts';
import { startService, type Service } from './service.ts';

/** The service inside another Node process: createServer(options), then start() and stop(). */
export interface ServerOptions {
  /** The default destination's settings (the keys of docs/sailthru-setup.md: apiKey, sharedSecret…). */
  settings?: Record<string, unknown>;
  /** Write keys of the default destination. */
  writeKeys?: string[];
  /** More destinations, as CONFIG_FILE declares them. */
  destinations?: DeclaredDestination[];
  /** `sqlite:PATH` or `postgres://…`; default `sqlite:./data/sailthru-destination.db`. */
  databaseUrl?: string;
  /** Default 0: a free port (read `url` after start). */
  port?: number;
  /** Default 127.0.0.1: only this machine. */
  host?: string;
  /** Opens the console and the admin API. */
  adminToken?: string;
  /**
   * SECRETS_KEY: 32 random bytes (base64 or 64 hex digits) sealing the Sailthru shared secret in
   * the database; required once a destination with a secret is kept (docs/operating.md).
   */
  secretsKey?: string;
  /** Ingest routes, console and admin API (default true). */
  ingest?: boolean;
  /** Lane workers delivering to Sailthru (default true). */
  delivery?: boolean;
  /**
   * Any other variable of the README's configuration table (MAX_BACKLOG, RETRY_WINDOW_HOURS…).
   * process.env is not read: the embedding application says what it wants.
   */
  env?: Record<string, string | undefined>;
  /** A pino logger; default one at LOG_LEVEL (info) on stdout. */
  logger?: Logger;
}

export interface EmbeddedServer {
  /** Listens, opens (and migrates) the store, starts delivering. Resolves with the URL. */
  start(): Promise<string>;
  /** Graceful: refuses new requests (503), finishes in-flight deliveries, closes the store. */
  stop(): Promise<void>;
  /** http://host:port, once started. */
  readonly url: string;
  /** The event store, once started (backlog, delivery log, dead letters). */
  readonly store: EventStore;
}

/**
 * The service as `serve` runs it, inside the caller's process. The options are checked here, so
 * a mistake throws (a ConfigError naming the variable) before anything listens.
 */
export function createServer(options: ServerOptions = {}): EmbeddedServer {
  const config = configOf(options);
  let service: Service | null = null;
  let starting: Promise<string> | null = null;
  const running = (what: string): Service => {
    if (service === null) throw new Error(`${what} is available once start() has resolved`);
    return service;
  };
  return {
    start() {
      starting ??= startService(config, { ingest: options.ingest ?? true, delivery: options.delivery ?? true }, options.logger ? { logger: options.logger } : {}).then(
        (started) => {
          service = started;
          return started.url;
        },
      );
      return starting;
    },
    async stop() {
      if (starting === null) return;
      await starting.catch(() => undefined);
      await service?.stop();
    },
    get url() {
      return running('url').url;
    },
    get store() {
      return running('store').store;
    },
  };
}

function configOf(options: ServerOptions): AppConfig {
  const given = (value: string | number | undefined) => (value === undefined ? undefined : String(value));
  const config = loadConfig(
    {},
    {
      ...options.env,
      PORT: given(options.port ?? 0),
      HOST: options.host ?? '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      ADMIN_TOKEN: options.adminToken,
      ...(options.secretsKey !== undefined ? { SECRETS_KEY: options.secretsKey } : {}),
    },
  );
  const destinations = [...config.destinations];
  if (options.settings !== undefined || options.writeKeys !== undefined) {
    if (destinations.some((d) => d.id === 'default')) {
      throw new ConfigError('settings/writeKeys define the default destination, which env already defines (SAILTHRU_* or WRITE_KEYS)');
    }
    destinations.push({ id: 'default', name: 'Sailthru', settings: { ...options.settings }, writeKeys: [...(options.writeKeys ?? [])] });
  }
  for (const declared of options.destinations ?? []) {
    if (destinations.some((d) => d.id === declared.id)) throw new ConfigError(`destination id "${declared.id}" is declared twice`);
    destinations.push(declared);
  }
  return { ...config, destinations };
}
