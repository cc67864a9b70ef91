import { Command, Option } from 'commander';
import type { AppConfig } from '../config.ts';
import type { ServiceRole } from './service.ts';

// The service (fastify, the stores, the destination) and the configuration (which reads the
// settings' TypeBox schema) are imported when a command runs, not when the CLI starts: `send`,
// `deadletters` and the rest start in a fraction of the time.

const ENV_HELP = `
Configuration comes from the environment (flags override it):
  PORT, HOST                 where to listen (default 8080, 0.0.0.0)
  DATABASE_URL               sqlite:PATH (default sqlite:./data/sailthru-destination.db) or postgres://…
  REDIS_URL                  optional shared rate-limit store for several processes
  WRITE_KEYS                 comma-separated write keys accepted for the default destination
  ADMIN_TOKEN                opens the console and the admin API (as the admin named "admin")
  ADMIN_TOKENS               named tokens: name:token or name:role:token (role admin|viewer), comma-separated
  SECRETS_KEY                seals the Sailthru secret in the database (openssl rand -base64 32; see rotate-secrets-key)
  SAILTHRU_API_KEY, SAILTHRU_SECRET, SAILTHRU_CUSTOMER_ID
  SAILTHRU_API_URL, SAILTHRU_TRACK_URL          (point them at the emulator to try it out)
  SAILTHRU_OPTOUT, SAILTHRU_DEFAULT_LIST, …     one variable per destination setting (the table)
  DESTINATION_ID, DESTINATION_NAME              id and name of the destination these declare (default, Sailthru)
  WEBHOOK_SECRET             shared secret of a Segment Webhooks destination (X-Signature)
  CONFIG_FILE                JSON file defining several destinations
  MAX_BACKLOG, DELIVERY_CONCURRENCY, DELIVERY_WAITING_LANES (lanes waiting for a rate budget on top),
  RETRY_WINDOW_HOURS, RETRY_BASE_MS, RETENTION_DAYS,
  LEASE_MS, DELIVERY_WINDOW, SETTLE_DELAY_MS, SAILTHRU_RATE_LIMITS (e.g. "POST /event=40,POST /user=300"), SAILTHRU_TIMEOUT_MS, LOG_LEVEL,
  HEAP_GROWING_PERCENT (50: lean memory; 0: V8's own heap growth, faster ingest),
  TRUST_PROXY (true, or the proxy addresses whose X-Forwarded-For to believe),
  CORS_ORIGINS (origins browsers may send events from, comma-separated, or * (default); docs/clients.md),
  BACKLOG_WARN_HORIZON_HOURS (warn when a backlog needs longer than this to clear at the rate limits; default 1)
See docs/operating.md for the full table.`;

interface CommonFlags {
  port?: string;
  host?: string;
  database?: string;
  config?: string;
  delivery?: boolean;
}

function common(cmd: Command): Command {
  return cmd
    .addOption(new Option('-p, --port <port>', 'HTTP port (env PORT)'))
    .addOption(new Option('--host <host>', 'address to listen on (env HOST)'))
    .addOption(new Option('--database <url>', 'sqlite:PATH or postgres://… (env DATABASE_URL)'))
    .addOption(new Option('-c, --config <file>', 'JSON file defining destinations (env CONFIG_FILE)'))
    .addHelpText('after', ENV_HELP);
}

async function run(flags: CommonFlags, role: ServiceRole): Promise<void> {
  const { ConfigError, loadConfig } = await import('../config.ts');
  let config: AppConfig;
  try {
    config = loadConfig(process.env, {
      PORT: flags.port,
      HOST: flags.host,
      DATABASE_URL: flags.database,
      CONFIG_FILE: flags.config,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sailthru-destination: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // A long-running process: keep the main thread's young generation small (young-generation.ts).
  const { capYoungGeneration, SERVER_SEMI_SPACE_MB, youngGenerationLeftToV8 } = await import('./young-generation.ts');
  if (!youngGenerationLeftToV8(process.env, process.execArgv)) capYoungGeneration(SERVER_SEMI_SPACE_MB);
  const { startService } = await import('./service.ts');
  const { StoreOpenError } = await import('../delivery/open-store.ts');
  const { SecretsKeyError } = await import('../delivery/settings-seal.ts');
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config, role);
  } catch (err) {
    // A database that cannot be opened, or secrets that cannot be sealed or opened, are the
    // operator's to fix: one line, no stack trace.
    if (!(err instanceof StoreOpenError) && !(err instanceof SecretsKeyError)) throw err;
    process.stderr.write(`sailthru-destination: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`sailthru-destination listening on ${service.url}\n`);

  let firstSignalAt = 0;
  const shutdown = (signal: string) => {
    // A Ctrl-C relayed by npm or tsx arrives twice: only a signal a second or more after the
    // first means "exit without waiting".
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 1000) return;
      service.logger.warn('second signal: exiting without waiting for in-flight deliveries');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    service.logger.info({ signal }, 'shutting down: finishing in-flight deliveries');
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        service.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

export function serveCommand(): Command {
  return common(new Command('serve'))
    .description('Run the server: Segment-compatible ingest, the console and admin API, and delivery to Sailthru.')
    .option('--no-delivery', 'ingest and console only; run `worker` processes to deliver (PostgreSQL)')
    .action((flags: CommonFlags) => run(flags, { ingest: true, delivery: flags.delivery !== false }));
}

export function workerCommand(): Command {
  return common(new Command('worker'))
    .description('Deliver queued events to Sailthru (no ingest). Several workers share one PostgreSQL database.')
    .addHelpText('after', 'A worker serves only /healthz, /readyz and /metrics on PORT: ADMIN_TOKEN(S), CORS_ORIGINS and TRUST_PROXY do not apply to it.')
    .action((flags: CommonFlags) => run(flags, { ingest: false, delivery: true }));
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('Create or upgrade the database schema, then exit (serve and worker also do this at start).')
    .addOption(new Option('--database <url>', 'sqlite:PATH or postgres://… (env DATABASE_URL)'))
    .action(async (flags: { database?: string }) => {
      const { ConfigError, loadConfig } = await import('../config.ts');
      let config: AppConfig;
      try {
        config = loadConfig(process.env, { DATABASE_URL: flags.database });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`sailthru-destination: ${err.message}\n`);
        process.exit(2);
      }
      const { openStore, StoreOpenError } = await import('../delivery/open-store.ts');
      let store: Awaited<ReturnType<typeof openStore>>;
      try {
        store = await openStore(config.databaseUrl);
      } catch (err) {
        if (!(err instanceof StoreOpenError)) throw err;
        process.stderr.write(`sailthru-destination: ${err.message}\n`);
        process.exit(1);
      }
      await store.close();
      process.stdout.write('schema is up to date\n');
    });
}

export function rotateSecretsKeyCommand(): Command {
  return new Command('rotate-secrets-key')
    .description('Re-seal the Sailthru secrets kept in the database: opened with SECRETS_KEY (the old key; unset if they are still plaintext), sealed under NEW_SECRETS_KEY. Stop the servers first, then restart them with SECRETS_KEY set to the new key.')
    .addOption(new Option('--database <url>', 'sqlite:PATH or postgres://… (env DATABASE_URL)'))
    .action(async (flags: { database?: string }) => {
      const { ConfigError, loadConfig } = await import('../config.ts');
      const { parseSecretsKey, SecretsKeyError } = await import('../delivery/settings-seal.ts');
      const { StoreOpenError } = await import('../delivery/open-store.ts');
      const { rotateSecretsKey } = await import('./secrets-rotation.ts');
      const fail = (message: string, code: number): never => {
        process.stderr.write(`sailthru-destination: ${message}\n`);
        process.exit(code);
      };
      try {
        const config = loadConfig(process.env, { DATABASE_URL: flags.database });
        // Keys come from the environment only: a command line is visible to every user (ps).
        const newKey = parseSecretsKey(process.env.NEW_SECRETS_KEY, 'NEW_SECRETS_KEY') ?? fail('set NEW_SECRETS_KEY to the new key (openssl rand -base64 32)', 2);
        const changed = await rotateSecretsKey(config.databaseUrl, config.secretsKey, newKey);
        process.stdout.write(`re-sealed the secrets of ${changed} destination(s) under NEW_SECRETS_KEY; now start the servers with SECRETS_KEY set to it\n`);
      } catch (err) {
        if (err instanceof ConfigError || err instanceof SecretsKeyError) fail(err.message, 2);
        if (err instanceof StoreOpenError) fail(err.message, 1);
        throw err;
      }
    });
}
