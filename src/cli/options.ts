import { InvalidArgumentError, Option } from 'commander';

/** Options and exit codes the client commands (send, deadletters, delete-user, backfill) share. */

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

/** A problem the user can fix (a missing flag, an unreadable file): said in one line, exit 2. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Runs a command's body: its result is the exit status; a CliError is printed without a stack.
 * The status is set rather than forced so output still in flight reaches a pipe.
 */
export async function runAction(body: () => Promise<number>): Promise<void> {
  // `deadletters list | head` closes standard output early: the reader's choice, not a failure
  // (no EPIPE stack trace; the pipeline's status is the reader's).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  try {
    process.exitCode = await body();
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`sailthru-destination: ${err.message}\n`);
    process.exitCode = err.exitCode;
  }
}

export function integerOption(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

export function positiveNumberOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function serverUrlOption(): Option {
  return new Option('-u, --url <url>', 'base URL of the sailthru-destination server')
    .env('SAILTHRU_DESTINATION_URL')
    .default(DEFAULT_SERVER_URL)
    .argParser(httpUrl);
}

export function adminTokenOption(): Option {
  return new Option('-t, --admin-token <token>', 'the server\'s ADMIN_TOKEN').env('ADMIN_TOKEN');
}

export function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL, e.g. http://127.0.0.1:8080');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http(s) URL');
  return value.replace(/\/+$/, '');
}

const RELATIVE = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `2h`, `30m`, `7d` (that long ago), or an ISO-8601 date/time. */
export function parseSince(value: string, now = Date.now()): Date {
  const relative = RELATIVE.exec(value.trim());
  if (relative) return new Date(now - Number(relative[1]) * (UNIT_MS[(relative[2] as string).toLowerCase()] as number));
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new InvalidArgumentError('expected a duration ago (30m, 2h, 7d) or an ISO-8601 date such as 2024-05-01T12:00:00Z');
  return new Date(time);
}
