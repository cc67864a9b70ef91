import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Console sessions: an opaque random id in a signed, HttpOnly, SameSite=Strict cookie, and the
 * session itself in this process's memory (a restart signs everyone out; several console nodes
 * behind a balancer need sticky sessions). Each session has its own CSRF token for forms.
 */

export interface Flash {
  kind: 'ok' | 'error' | 'info';
  text: string;
}

export interface Session {
  id: string;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** Messages shown once on the next page (post/redirect/get). */
  flash: Flash[];
  /** A new write key, shown once on the next page of its destination, then forgotten. */
  revealedKey: { destinationId: string; key: string; label: string } | null;
}

export interface SessionStoreOptions {
  /** default 12 h without a request */
  idleMs?: number;
  /** default 7 days, whatever the activity */
  absoluteMs?: number;
  /** default 1000; the oldest is dropped beyond it */
  maxSessions?: number;
  now?: () => number;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.idleMs = options.idleMs ?? 12 * 3_600_000;
    this.absoluteMs = options.absoluteMs ?? 7 * 86_400_000;
    this.maxSessions = options.maxSessions ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get idleSeconds(): number {
    return Math.floor(this.idleMs / 1000);
  }

  create(): Session {
    const now = this.now();
    const session: Session = { id: randomToken(), csrf: randomToken(), createdAt: now, lastSeen: now, flash: [], revealedKey: null };
    this.sessions.set(session.id, session);
    this.sweep();
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    return session;
  }

  /** The live session with this id (its idle clock restarts), or null. */
  get(id: string | undefined): Session | null {
    if (!id) return null;
    const session = this.sessions.get(id);
    if (!session) return null;
    const now = this.now();
    if (now - session.lastSeen > this.idleMs || now - session.createdAt > this.absoluteMs) {
      this.sessions.delete(id);
      return null;
    }
    session.lastSeen = now;
    // Map order = least recently seen first, for the bound in create().
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return session;
  }

  destroy(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) {
      if (now - s.lastSeen > this.idleMs || now - s.createdAt > this.absoluteMs) this.sessions.delete(id);
    }
  }
}
