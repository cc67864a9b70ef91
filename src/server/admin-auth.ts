import { createHash, timingSafeEqual } from 'node:crypto';
import type { SignInFailureStore } from '../delivery/store.ts';

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

export interface FailedAttemptsOptions {
  /** Where the tries are counted: the event store, so every process counts the same (default: memory). */
  store?: SignInFailureStore;
  /** default 20 */
  limit?: number;
  /** default 15 minutes */
  windowMs?: number;
  now?: () => number;
}

/**
 * Wrong admin tokens per client address in a sliding window: past the limit, further tries are
 * refused until the window has passed, so the admin token cannot be guessed at speed. Counted in
 * the store, so a guesser spreading its tries over several processes meets the same limit.
 */
export class FailedAttempts {
  private readonly store: SignInFailureStore;
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: FailedAttemptsOptions = {}) {
    this.store = options.store ?? new MemorySignInFailures();
    this.limit = options.limit ?? 20;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  async blocked(client: string): Promise<boolean> {
    return (await this.store.countSignInFailures(client, this.now() - this.windowMs + 1)) >= this.limit;
  }

  async record(client: string): Promise<void> {
    const now = this.now();
    await this.store.recordSignInFailure(client, now, now - this.windowMs + 1);
  }

  async clear(client: string): Promise<void> {
    await this.store.clearSignInFailures(client);
  }
}

/** Tries in this process's memory (tests and tools without an event store), for at most 10,000 addresses. */
export class MemorySignInFailures implements SignInFailureStore {
  private readonly byClient = new Map<string, number[]>();

  constructor(private readonly maxClients = 10_000) {}

  async recordSignInFailure(client: string, at: number, forgetBefore: number): Promise<void> {
    const times = (this.byClient.get(client) ?? []).filter((t) => t >= forgetBefore);
    times.push(at);
    this.byClient.delete(client);
    this.byClient.set(client, times);
    if (this.byClient.size > this.maxClients) {
      const oldest = this.byClient.keys().next().value;
      if (oldest !== undefined) this.byClient.delete(oldest);
    }
  }

  async countSignInFailures(client: string, since: number): Promise<number> {
    return (this.byClient.get(client) ?? []).filter((t) => t >= since).length;
  }

  async clearSignInFailures(client: string): Promise<void> {
    this.byClient.delete(client);
  }
}
