import { readFileSync } from 'node:fs';
import { AdminTokensError, parseAdminTokens, type AdminCredential } from './admin-tokens.ts';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from './delivery/open-store.ts';
import { parseSecretsKey } from './delivery/settings-seal.ts';
import { fromEnvText } from './destination/setting-kinds.ts';
import { LOG_LEVELS } from './log-levels.ts';
import type { Mapping } from './destination/mappings/schema.ts';
import { validateMappings } from './destination/mappings/validate.ts';
import { SETTINGS } from './destination/settings.ts';

/**
 * Process configuration: environment first, flags mirror it (DESIGN.md "Contracts"), and an
 * optional JSON file (CONFIG_FILE / --config) that may define several destinations.
 *
 * Decided: destinations given here are applied to the store at every start (they are the
 * operator's declared intent); the console can edit any destination, and for a destination that
 * is declared here, a restart re-applies the declared fields. Write keys given here are added,
 * never removed (revoke them in the console or admin API).
 */
export interface DeclaredDestination {
  id: string;
  name: string;
  /** Raw settings as declared; validated by the destination layer before use. */
  settings: Record<string, unknown>;
  writeKeys: string[];
  /** Shared secret of Segment's Webhooks destination (X-Signature), optional. */
  webhookSecret?: string;
  /**
   * Its mappings (docs/mappings.md), validated; applied at every start like the settings. Absent:
   * the stored ones are left as they are (the defaults for a new destination).
   */
  mappings?: Mapping[];
}

export interface AppConfig {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl?: string;
  /** ADMIN_TOKEN (one admin named `admin`) and ADMIN_TOKENS; none: the console is closed. */
  admins: readonly AdminCredential[];
  destinations: DeclaredDestination[];
  /** Back-pressure: answer 429 above this many unsettled events. */
  maxBacklog: number;
  /** Lanes delivered at once per process. */
  concurrency: number;
  /** Lanes that may wait in the rate gate for their endpoint's budget on top of `concurrency`. */
  waitingLanes: number;
  retryWindowHours: number;
  /** First retry delay; later ones double up to 5 minutes, with jitter. */
  retryBaseMs: number;
  /**
   * How long one Sailthru call may take (connect, headers, body each) before it counts as a
   * retryable failure. A hung call holds its user's lane that long.
   */
  sailthruTimeoutMs: number;
  /** How long a claimed lane stays a worker's without renewal (a dead worker's lanes return after it). */
  leaseMs: number;
  /** A user's events read per claim or settle, and so settled together at most (one transaction). */
  deliveryWindow: number;
  /**
   * Longest a delivered event waits to be settled with the next ones of its user (0: never, so a
   * crash sends again only what was in flight); more saves transactions at that price.
   */
  settleDelayMs: number;
  /**
   * Our own pacing per Sailthru account, requests per second by "METHOD /endpoint" or "METHOD"
   * (over the defaults POST /user 300, GET 300, POST 40, DELETE 40). Raise it only when Sailthru
   * has raised your account's limits; the X-Rate-Limit-* headers lower it on their own.
   */
  rateLimits: Record<string, number>;
  /** A destination whose backlog needs longer than this to clear at the rate limits is warned about (console, /api, /metrics). */
  backlogWarnHorizonHours: number;
  /** Delivered/skipped events and their log entries are pruned after this many days. */
  retentionDays: number;
  logLevel: string;
  /**
   * Whom to believe about the client address (X-Forwarded-For), for the console's sign-in
   * throttle: false (default: the socket's address), true, or a comma list of proxy addresses.
   */
  trustProxy: boolean | string;
  /**
   * Origins whose pages may send events from browsers (CORS on the ingest routes only): `*` for
   * any (write keys are public in browsers, as with Segment), or a list of exact origins.
   */
  corsOrigins: '*' | readonly string[];
  /**
   * SECRETS_KEY: seals the Sailthru shared secret in the database (AES-256-GCM); required once a
   * secret is kept there. Null when unset.
   */
  secretsKey: Buffer | null;
}

export { DEFAULT_DATABASE_URL };

/** Backlogs that need longer than this to clear at the rate limits are warned about. */
export const DEFAULT_BACKLOG_WARN_HORIZON_HOURS = 1;

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

export function loadConfig(env: Env = process.env, overrides: Partial<Record<string, string>> = {}): AppConfig {
  const e: Env = { ...env, ...stripUndefined(overrides) };
  const destinations: DeclaredDestination[] = [];

  const fromEnv = destinationFromEnv(e);
  if (fromEnv) destinations.push(fromEnv);

  const file = e.CONFIG_FILE;
  if (file) {
    for (const d of destinationsFromFile(file)) {
      if (destinations.some((x) => x.id === d.id)) {
        throw new ConfigError(`${file}: destination id "${d.id}" is also defined by the SAILTHRU_* environment`);
      }
      destinations.push(d);
    }
  }

  return {
    port: int(e, 'PORT', 8080, 0, 65535),
    host: e.HOST || '0.0.0.0',
    databaseUrl: databaseUrl(e.DATABASE_URL || DEFAULT_DATABASE_URL),
    redisUrl: e.REDIS_URL || undefined,
    admins: admins(e),
    destinations,
    maxBacklog: int(e, 'MAX_BACKLOG', 2_000_000, 1, Number.MAX_SAFE_INTEGER),
    concurrency: int(e, 'DELIVERY_CONCURRENCY', 64, 1, 10_000),
    waitingLanes: int(e, 'DELIVERY_WAITING_LANES', int(e, 'DELIVERY_CONCURRENCY', 64, 1, 10_000), 0, 100_000),
    retryWindowHours: num(e, 'RETRY_WINDOW_HOURS', 4),
    retryBaseMs: int(e, 'RETRY_BASE_MS', 1000, 1, 3_600_000),
    sailthruTimeoutMs: int(e, 'SAILTHRU_TIMEOUT_MS', 10_000, 100, 300_000),
    leaseMs: int(e, 'LEASE_MS', 30_000, 100, 3_600_000),
    deliveryWindow: int(e, 'DELIVERY_WINDOW', 16, 1, 1000),
    settleDelayMs: int(e, 'SETTLE_DELAY_MS', 0, 0, 600_000),
    rateLimits: rateLimits(e.SAILTHRU_RATE_LIMITS),
    backlogWarnHorizonHours: num(e, 'BACKLOG_WARN_HORIZON_HOURS', DEFAULT_BACKLOG_WARN_HORIZON_HOURS),
    retentionDays: num(e, 'RETENTION_DAYS', 7),
    logLevel: logLevel(e.LOG_LEVEL),
    trustProxy: trustProxy(e.TRUST_PROXY),
    corsOrigins: corsOrigins(e.CORS_ORIGINS),
    secretsKey: secretsKey(e.SECRETS_KEY),
  };
}

function destinationFromEnv(e: Env): DeclaredDestination | null {
  const settings: Record<string, unknown> = {};
  for (const [key, schema] of SETTINGS) {
    const v = schema.env === undefined ? undefined : e[schema.env];
    if (v !== undefined && v !== '') settings[key] = fromEnvText(schema, v);
  }
  const writeKeys = list(e.WRITE_KEYS);
  if (Object.keys(settings).length === 0 && writeKeys.length === 0) return null;
  return {
    id: e.DESTINATION_ID || 'default',
    name: e.DESTINATION_NAME || 'Sailthru',
    settings,
    writeKeys,
    ...(e.WEBHOOK_SECRET ? { webhookSecret: e.WEBHOOK_SECRET } : {}),
  };
}

/**
 * Every problem of every destination is reported at once (one line each, naming the file and the
 * field), so a config file is mended in one pass rather than one start per mistake.
 */
function destinationsFromFile(path: string): DeclaredDestination[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list = (parsed as { destinations?: unknown })?.destinations;
  if (!Array.isArray(list)) throw new ConfigError(`${path}: expected {"destinations": [...]}`);
  const problems: string[] = [];
  const declared = list.map((raw, i) => declaredDestination(raw, `${path}: destinations[${i}]`, problems));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return declared.filter((d): d is DeclaredDestination => d !== null);
}

/** One entry of CONFIG_FILE's list, or null with its problems added to `problems`. */
function declaredDestination(raw: unknown, where: string, problems: string[]): DeclaredDestination | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${where} must be an object`);
    return null;
  }
  const d = raw as Record<string, unknown>;
  const found = problems.length;
  if (typeof d.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(d.id)) {
    problems.push(`${where}.id must be 1-64 letters, digits, "-" or "_"`);
  }
  if (d.settings !== undefined && (typeof d.settings !== 'object' || d.settings === null || Array.isArray(d.settings))) {
    problems.push(`${where}.settings must be an object`);
  }
  if (d.writeKeys !== undefined && (!Array.isArray(d.writeKeys) || d.writeKeys.some((k) => typeof k !== 'string' || k === ''))) {
    problems.push(`${where}.writeKeys must be an array of non-empty strings`);
  }
  let mappings: Mapping[] | undefined;
  if (d.mappings !== undefined) {
    const checked = validateMappings(d.mappings, `${where}.mappings`);
    if (checked.ok) mappings = checked.mappings;
    else problems.push(...checked.errors);
  }
  if (problems.length > found) return null;
  const id = d.id as string;
  return {
    id,
    name: typeof d.name === 'string' ? d.name : id,
    settings: (d.settings as Record<string, unknown>) ?? {},
    writeKeys: (d.writeKeys as string[]) ?? [],
    ...(typeof d.webhookSecret === 'string' ? { webhookSecret: d.webhookSecret } : {}),
    ...(mappings !== undefined ? { mappings } : {}),
  };
}

function admins(e: Env): AdminCredential[] {
  try {
    return parseAdminTokens(e.ADMIN_TOKEN, e.ADMIN_TOKENS);
  } catch (err) {
    if (err instanceof AdminTokensError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Checked as openStore will read it, so a wrong URL stops the start with a ConfigError. */
function databaseUrl(url: string): string {
  try {
    parseDatabaseUrl(url);
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  return url;
}

/** Checked here so that a typo stops the start with one line, as other variables do, not pino's stack trace. */
function logLevel(v: string | undefined): string {
  if (v === undefined || v === '') return 'info';
  if (!LOG_LEVELS.includes(v)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${v}")`);
  return v;
}

function trustProxy(v: string | undefined): boolean | string {
  if (v === undefined || v === '' || /^(false|0|no)$/i.test(v)) return false;
  if (/^(true|1|yes)$/i.test(v)) return true;
  return v;
}

/** "*" (the default), or "https://shop.example.com,https://www.example.com" exactly as browsers send Origin. */
function corsOrigins(v: string | undefined): '*' | string[] {
  const origins = list(v);
  if (origins.length === 0 || (origins.length === 1 && origins[0] === '*')) return '*';
  return origins.map((origin) => {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      url = null;
    }
    const isOrigin = url !== null && url.origin !== 'null' && url.pathname === '/' && url.search === '' && url.hash === '' && !origin.includes('@');
    if (!isOrigin) {
      throw new ConfigError(`CORS_ORIGINS: "${origin}" is not an origin such as https://shop.example.com (scheme, host and port only), nor "*"`);
    }
    // Browsers send the serialised origin: lower-case host, no default port, no slash.
    return url!.origin;
  });
}

/** "POST /event=100,GET=500" → { 'POST /event': 100, GET: 500 } */
function rateLimits(v: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of list(v)) {
    const m = /^(GET|POST|DELETE)(\s+\/[\w/.-]*)?\s*=\s*(\d+(?:\.\d+)?)$/i.exec(part);
    if (!m) throw new ConfigError(`SAILTHRU_RATE_LIMITS: "${part}" should look like "POST /event=40" or "GET=300"`);
    const key = `${m[1]!.toUpperCase()}${m[2] ? ` ${m[2].trim()}` : ''}`;
    if (!(Number(m[3]) > 0)) throw new ConfigError(`SAILTHRU_RATE_LIMITS: "${part}": a limit must be more than 0 (to stop delivery, pause the destination)`);
    out[key] = Number(m[3]);
  }
  return out;
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function int(e: Env, name: string, dflt: number, min: number, max: number): number {
  const v = e[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${v}")`);
  return n;
}

function num(e: Env, name: string, dflt: number): number {
  const v = e[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a positive number (got "${v}")`);
  return n;
}

function stripUndefined(o: Partial<Record<string, string>>): Env {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function secretsKey(text: string | undefined): Buffer | null {
  try {
    return parseSecretsKey(text);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}
