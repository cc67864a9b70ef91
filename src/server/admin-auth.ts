import { createHash, timingSafeEqual } from 'node:crypto';
import type { AdminCredential } from '../admin-tokens.ts';

/**
 * The admin token check. Both sides are hashed first so the comparison takes the same time
 * whatever the lengths, and timingSafeEqual compares the digests.
 */
export function tokenMatches(candidate: string | undefined, adminToken: string): boolean {
  if (candidate === undefined || candidate === '') return false;
  const a = createHash('sha256').update(candidate, 'utf8').digest();
  const b = createHash('sha256').update(adminToken, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of `Authorization: Bearer <token>`, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export const NO_ADMIN_TOKEN_MESSAGE = 'set ADMIN_TOKEN to open the console';

/** Who may act (ADMIN_TOKEN / ADMIN_TOKENS), looked up by token or by name. */
export class AdminDirectory {
  readonly sessionSecret: string;

  constructor(private readonly admins: readonly AdminCredential[]) {
    // Sessions are keyed by HMAC(this, id): changing any token or role signs everyone out.
    this.sessionSecret = admins.length === 0 ? '' : createHash('sha256').update(JSON.stringify(admins.map((a) => [a.name, a.role, a.token]))).digest('hex');
  }

  /** No token configured: the console and the API are closed. */
  get closed(): boolean {
    return this.admins.length === 0;
  }

  /** The credential whose token this is; every token is compared, so the time says nothing. */
  identify(candidate: string | undefined): AdminCredential | null {
    let found: AdminCredential | null = null;
    for (const admin of this.admins) if (tokenMatches(candidate, admin.token) && found === null) found = admin;
    return found;
  }

  byName(name: string): AdminCredential | null {
    return this.admins.find((a) => a.name === name) ?? null;
  }

  /** Every token, for the response filter. */
  tokens(): string[] {
    return this.admins.map((a) => a.token);
  }
}

/**
 * Failed sign-ins per client address in a sliding window: past the limit, further tries are
 * refused until the window has passed, so the admin token cannot be guessed at speed.
 */
export class FailedAttempts {
  private readonly byClient = new Map<string, number[]>();

  constructor(
    private readonly limit = 20,
    private readonly windowMs = 15 * 60_000,
    private readonly now: () => number = Date.now,
    /** Clients remembered at once, so a flood of addresses cannot grow memory without bound. */
    private readonly maxClients = 10_000,
  ) {}

  blocked(client: string): boolean {
    return this.recent(client).length >= this.limit;
  }

  record(client: string): void {
    const times = this.recent(client);
    times.push(this.now());
    this.byClient.delete(client);
    this.byClient.set(client, times);
    if (this.byClient.size > this.maxClients) {
      const oldest = this.byClient.keys().next().value;
      if (oldest !== undefined) this.byClient.delete(oldest);
    }
  }

  clear(client: string): void {
    this.byClient.delete(client);
  }

  private recent(client: string): number[] {
    const since = this.now() - this.windowMs;
    const times = (this.byClient.get(client) ?? []).filter((t) => t > since);
    if (times.length === 0) this.byClient.delete(client);
    return times;
  }
}
