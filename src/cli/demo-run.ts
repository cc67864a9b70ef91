import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { startEmulator, DEMO_CREDENTIALS, type RunningEmulator } from '../emulator/index.ts';
import { createLogger } from '../server/logger.ts';
import { startService, type Service } from '../server/service.ts';
import { DemoStatus, STATUS_LEGEND, statusLine } from './demo-status.ts';
import { LiveLine } from './live-line.ts';
import { logLinesAbove } from './log-lines.ts';
import { CliError } from './options.ts';
import { ShutdownSignals } from './shutdown-signals.ts';
import { demoMix } from './traffic.ts';
import { TrafficSender } from './traffic-sender.ts';

/** The `demo` command's options (src/cli/demo.ts declares them). */
export interface DemoFlags {
  port: number;
  host: string;
  emulatorPort: number;
  rate: number;
  duration?: number;
  users: number;
  seed: number;
  traffic: boolean;
  failRate: number;
  database?: string;
  logLevel: string;
}

/**
 * The demo's run: emulator, server on a fresh database, traffic, a live status line; on Ctrl-C
 * everything stops in order (traffic, then the server finishing deliveries in flight, then the
 * emulator) and the temporary folder is removed. Resolves to the exit status.
 */
export async function runDemo(flags: DemoFlags): Promise<number> {
  const out = process.stdout;
  const adminToken = randomBytes(18).toString('base64url');
  const writeKey = `demo-${randomBytes(12).toString('hex')}`;
  const folder = flags.database ? null : await mkdtemp(join(tmpdir(), 'sailthru-destination-demo-'));
  const databaseUrl = flags.database ?? `sqlite:${join(folder as string, 'demo.db')}`;

  // On a terminal the status line is redrawn in place: log lines are printed above it, as text,
  // never into it. Elsewhere (a pipe, CI) the logs stay JSON lines on stderr.
  const live = new LiveLine(out, { redrawMs: 1000, lineEveryMs: 5000 });
  const logger = createLogger(flags.logLevel, live.tty ? logLinesAbove(live) : process.stderr);

  let emulator: RunningEmulator | null = null;
  let service: Service | null = null;
  const cleanUp = async () => {
    await service?.stop();
    await emulator?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  };

  try {
    emulator = await startEmulator({
      port: flags.emulatorPort,
      ...DEMO_CREDENTIALS,
      ...(flags.failRate > 0 ? { faults: { failRate: flags.failRate, seed: flags.seed } } : {}),
    });
    // A clean environment: a demo must never deliver to a real account configured in this shell.
    const config = loadConfig(
      {},
      {
        PORT: String(flags.port),
        HOST: flags.host,
        DATABASE_URL: databaseUrl,
        WRITE_KEYS: writeKey,
        ADMIN_TOKEN: adminToken,
        DESTINATION_NAME: 'Sailthru (emulator)',
        SAILTHRU_API_KEY: DEMO_CREDENTIALS.apiKey,
        SAILTHRU_SECRET: DEMO_CREDENTIALS.secret,
        // A temporary database gets a key of its own; a kept one (--database) the shell's SECRETS_KEY if set.
        SECRETS_KEY: (flags.database ? process.env.SECRETS_KEY : undefined) || randomBytes(32).toString('base64'),
        SAILTHRU_CUSTOMER_ID: DEMO_CREDENTIALS.customerId,
        SAILTHRU_API_URL: emulator.url,
        SAILTHRU_TRACK_URL: emulator.url,
        SAILTHRU_DEFAULT_LIST: 'Newsletter',
        SAILTHRU_REMINDER_TEMPLATE: 'abandoned-cart',
        SAILTHRU_REMINDER_TIME: '60 minutes',
        SAILTHRU_SEND_TEMPLATE: 'order-receipt',
        SAILTHRU_PRODUCT_BASE_URL: 'https://shop.example.com/products',
        LOG_LEVEL: flags.logLevel,
      },
    );
    service = await startService(config, { ingest: true, delivery: true }, { logger });
  } catch (err) {
    await cleanUp();
    if (err instanceof ConfigError) throw new CliError(err.message);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`port ${flags.port} is in use: stop what uses it or pick another with --port (0 picks a free one)`, 1);
    }
    throw err;
  }

  const running = service;
  const sailthru = emulator;
  const traffic = flags.traffic
    ? new TrafficSender({
        url: running.url,
        writeKey,
        generator: demoMix({ seed: flags.seed, users: flags.users, messageIdPrefix: `demo-${Date.now().toString(36)}` }),
        rate: flags.rate,
        ...(flags.duration !== undefined ? { durationMs: flags.duration * 1000 } : {}),
      })
    : null;

  out.write(banner(running.url, sailthru.url, adminToken, writeKey, folder ? `${databaseUrl} (removed on exit)` : databaseUrl, flags));
  traffic?.start();

  const status = new DemoStatus({
    log: running.store,
    worker: running.worker,
    traffic: () => traffic?.stats ?? null,
    sailthruRequests: () => sailthru.lastRequestSeq,
  });
  let drawing = false;
  const ticker = setInterval(() => {
    if (drawing) return;
    drawing = true;
    status
      .read()
      .then((figures) => live.update(statusLine(figures)))
      .catch(() => undefined)
      .finally(() => (drawing = false));
  }, 1000);

  return new Promise<number>((resolve) => {
    const signals = new ShutdownSignals();
    const stop = (signal: string) => {
      const verdict = signals.receive();
      if (verdict === 'same-press' || verdict === 'stopped') return;
      if (verdict === 'force') {
        process.stderr.write('\nsecond signal: exiting without waiting\n');
        process.exit(130);
      }
      clearInterval(ticker);
      live.finish();
      out.write(`\n${signal}: stopping the traffic, the server (finishing deliveries in flight) and the emulator… (Ctrl-C again to exit without waiting)\n`);
      (async () => {
        await traffic?.stop();
        const figures = await status.read().catch(() => null);
        await cleanUp();
        if (figures) out.write(`Final: ${statusLine(figures)}\n`);
        out.write('Demo stopped.\n');
      })().then(
        () => {
          signals.done();
          resolve(0);
        },
        (err: unknown) => {
          signals.done();
          process.stderr.write(`demo: shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

function banner(serverUrl: string, emulatorUrl: string, adminToken: string, writeKey: string, database: string, flags: DemoFlags): string {
  const traffic = flags.traffic
    ? `${flags.rate} events/s from ${flags.users} simulated shoppers (seed ${flags.seed})${flags.duration ? ` for ${flags.duration} s` : ''}`
    : 'none (--no-traffic): send your own';
  return `
sailthru-destination demo

  Console       ${serverUrl}/
  Admin token   ${adminToken}
  Write key     ${writeKey}
  Ingest        ${serverUrl}/v1/batch  (Segment HTTP API; write key as Basic-auth user)
  Emulator      ${emulatorUrl}  (Sailthru stand-in; see ${emulatorUrl}/_emulator/state)
  Database      ${database}
  Traffic       ${traffic}

Try:
  curl -u ${writeKey}: ${serverUrl}/v1/track -H 'content-type: application/json' \\
    -d '{"userId":"me","event":"Tried The Demo","properties":{"plan":"pro"}}'
  ADMIN_TOKEN=${adminToken} npx sailthru-destination deadletters list --url ${serverUrl}

The status line:
${STATUS_LEGEND.map((l) => `  ${l}`).join('\n')}

Press Ctrl-C to stop.

`;
}
