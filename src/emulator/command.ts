import { Command, InvalidArgumentError, Option } from 'commander';
import { startEmulator } from './index.ts';
import { DEFAULT_JOB_DELAY_MS, DEFAULT_MAX_REQUEST_LOG, DEFAULT_WINDOW_MS, DEMO_CREDENTIALS, type FaultOptions } from './options.ts';
import type { RequestLogEntry } from './request-log.ts';

export const DEFAULT_EMULATOR_PORT = 4010;

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer of at least ${min}`);
    return n;
  };
}

function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a share from 0 to 1, e.g. 0.05');
  return n;
}

const ROUTE_SPEC = /^(GET|POST|DELETE)[\s:]+(\/\S*?)\s*=\s*(\d+)$/i;

/** "POST /event=40" → ["POST /event", 40] */
export function parseRouteCount(value: string): [route: string, count: number] {
  const match = ROUTE_SPEC.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected "METHOD /endpoint=N", e.g. "POST /event=40"');
  return [`${match[1]!.toUpperCase()} ${match[2]}`, Number(match[3])];
}

function collectRouteCounts(value: string, previous: Record<string, number>): Record<string, number> {
  const [route, count] = parseRouteCount(value);
  return { ...previous, [route]: count };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface EmulatorFlags {
  port: number;
  host: string;
  apiKey: string;
  secret: string;
  customerId: string;
  windowMs: number;
  limit: Record<string, number>;
  failRate?: number;
  failStatus?: number;
  error9Rate?: number;
  latencyMs?: number;
  hangRate?: number;
  dropRate?: number;
  faultEndpoint: string[];
  applyThenFail: Record<string, number>;
  seed?: number;
  jobDelayMs: number;
  maxRequests: number;
  log?: boolean;
  /** commander's negated flag: false with --no-cart-vars */
  cartVars: boolean;
}

function faultsFrom(flags: EmulatorFlags): FaultOptions {
  const faults: FaultOptions = {};
  if (flags.failRate !== undefined) faults.failRate = flags.failRate;
  if (flags.failStatus !== undefined) faults.failStatus = flags.failStatus;
  if (flags.error9Rate !== undefined) faults.error9Rate = flags.error9Rate;
  if (flags.latencyMs !== undefined) faults.latencyMs = flags.latencyMs;
  if (flags.hangRate !== undefined) faults.hangRate = flags.hangRate;
  if (flags.dropRate !== undefined) faults.dropRate = flags.dropRate;
  if (flags.faultEndpoint.length > 0) faults.endpoints = flags.faultEndpoint;
  if (Object.keys(flags.applyThenFail).length > 0) faults.applyThenFail = flags.applyThenFail;
  if (flags.seed !== undefined) faults.seed = flags.seed;
  return faults;
}

function logLine(entry: RequestLogEntry): void {
  const error = entry.errorCode !== null ? ` error ${entry.errorCode}` : '';
  const fault = entry.fault ? ` [${entry.fault}]` : '';
  process.stdout.write(`${entry.time} ${entry.method} ${entry.path} ${entry.status}${error}${fault} ${entry.durationMs}ms\n`);
}

export function emulatorCommand(): Command {
  return new Command('emulator')
    .description(
      'Run a Sailthru API emulator: /user, /event, /purchase, /job and /v1/track/event/pageview with ' +
        "Sailthru's signatures, error envelope, rate limits and injectable faults, plus an inspection API " +
        'under /_emulator/. For development, tests, the demo and benchmarks; nothing leaves the machine.',
    )
    .addOption(new Option('-p, --port <port>', 'port to listen on (0 picks a free one)').env('EMULATOR_PORT').default(DEFAULT_EMULATOR_PORT).argParser(integer(0)))
    .addOption(new Option('--host <host>', 'address to listen on').env('EMULATOR_HOST').default('127.0.0.1'))
    .addOption(new Option('--api-key <key>', 'the API key it accepts').env('SAILTHRU_API_KEY').default(DEMO_CREDENTIALS.apiKey))
    .addOption(new Option('--secret <secret>', 'the shared secret requests must be signed with').env('SAILTHRU_SECRET').default(DEMO_CREDENTIALS.secret))
    .addOption(
      new Option('--customer-id <id>', 'the customer id page views must carry as "Authorization: Bearer <id>"')
        .env('SAILTHRU_CUSTOMER_ID')
        .default(DEMO_CREDENTIALS.customerId),
    )
    .addOption(new Option('--window-ms <ms>', 'rate-limit window length (Sailthru: one minute)').default(DEFAULT_WINDOW_MS).argParser(integer(1)))
    .addOption(
      new Option(
        '--limit <route=n>',
        'requests per window for a route, e.g. --limit "POST /event=40" (repeatable). Unlisted routes get ' +
          "Sailthru's defaults scaled to the window: POST /user and GET 18000/min, other POST and DELETE 2400/min",
      )
        .default({}, 'none')
        .argParser(collectRouteCounts),
    )
    .addOption(new Option('--fail-rate <share>', 'share of requests answered HTTP 500 {"error":9} (not applied)').argParser(share))
    .addOption(new Option('--fail-status <status>', 'HTTP status of --fail-rate answers (500-599)').argParser(integer(500)))
    .addOption(new Option('--error9-rate <share>', 'share of requests answered HTTP 200 {"error":9} (not applied)').argParser(share))
    .addOption(new Option('--latency-ms <ms>', 'delay added to every request').argParser(integer(0)))
    .addOption(new Option('--hang-rate <share>', 'share of requests held open with no answer until the client gives up (not applied)').argParser(share))
    .addOption(new Option('--drop-rate <share>', 'share of requests whose connection is closed without an answer (not applied)').argParser(share))
    .addOption(
      new Option('--fault-endpoint <route>', 'limit the faults above to a route, "POST /purchase" or "/user" (repeatable)')
        .default([], 'all')
        .argParser(collect),
    )
    .addOption(
      new Option('--apply-then-fail <route=n>', 'apply the next n successful requests of a route, then answer 500 (repeatable)')
        .default({}, 'none')
        .argParser(collectRouteCounts),
    )
    .addOption(new Option('--seed <n>', 'seed for the fault draws, for reproducible runs').argParser(integer(0)))
    .addOption(new Option('--job-delay-ms <ms>', 'time until a POST /job is applied and completed').default(DEFAULT_JOB_DELAY_MS).argParser(integer(0)))
    .addOption(new Option('--max-requests <n>', 'requests kept for GET /_emulator/requests').default(DEFAULT_MAX_REQUEST_LOG).argParser(integer(1)))
    .addOption(new Option('--log', 'print one line per request'))
    .addOption(new Option('--no-cart-vars', "leave a cart's purchase-level vars out of GET /user (Sailthru does not document them as returned)"))
    .addHelpText(
      'after',
      `
Point the destination at it with SAILTHRU_API_URL=<url> and SAILTHRU_TRACK_URL=<url>.

Inspection API (not rate limited, faulted or logged):
  GET  /_emulator/state[?key=extid&id=u1]         profiles, carts, purchases, events, page views, deleted users, jobs
  GET  /_emulator/requests[?since=N&path=/user]   every request decoded, with signatureValid (never sig)
  POST /_emulator/faults  {"failRate":0.1,...}     replace the faults;  GET to read them
  POST /_emulator/limits  {"windowMs":1000,...}    change the rate limits; GET to read them
  POST /_emulator/reset                            clear state, requests, faults and counters
  POST /_emulator/jobs/run                         finish pending jobs now

Examples:
  $ sailthru-destination emulator
  $ sailthru-destination emulator --port 0 --window-ms 1000 --limit "POST /event=40"
  $ sailthru-destination emulator --fail-rate 0.05 --latency-ms 50 --seed 7 --fault-endpoint "POST /purchase"

See docs/emulator.md.`,
    )
    .action(async (flags: EmulatorFlags) => {
      const emulator = await startEmulator({
        port: flags.port,
        host: flags.host,
        apiKey: flags.apiKey,
        secret: flags.secret,
        customerId: flags.customerId,
        windowMs: flags.windowMs,
        limits: flags.limit,
        faults: faultsFrom(flags),
        jobDelayMs: flags.jobDelayMs,
        maxRequestLog: flags.maxRequests,
        cartVarsReturned: flags.cartVars,
        ...(flags.log ? { onRequest: logLine } : {}),
      });
      process.stdout.write(`Sailthru emulator listening on ${emulator.url}\n`);
      // Credentials are shown only when they are the public demo ones.
      if (flags.apiKey === DEMO_CREDENTIALS.apiKey && flags.secret === DEMO_CREDENTIALS.secret) {
        process.stdout.write(
          `  demo account: api key ${DEMO_CREDENTIALS.apiKey}, secret ${DEMO_CREDENTIALS.secret}, customer id ${flags.customerId}\n`,
        );
      }
      process.stdout.write(`  inspect: ${emulator.url}/_emulator/state   stop: Ctrl-C\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await emulator.close();
      process.stdout.write('Sailthru emulator stopped\n');
    });
}
