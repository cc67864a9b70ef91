import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleSessionRecord, ConsoleSessionStore } from '../../delivery/store.ts';

/**
 * Console sessions: an opaque random id in a signed, HttpOnly, SameSite=Strict cookie, and the
 * session in the database (the event store), so every process serving the console knows it and
 * a restart signs nobody out. The database holds only the id's SHA-256, and the session's state
 * (flash messages; a new write key shown once on the next page) sealed with AES-256-GCM under a
 * key derived from ADMIN_TOKEN, which every console process shares. Each session has its own
 * CSRF token for forms.
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
  /** Where sessions live; default: this process's memory (tests, tools). */
  backend?: ConsoleSessionStore;
  /** 32 bytes sealing the session state at rest; see sessionKeys(). Default: random. */
  sealKey?: Buffer;
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

/** The cookie-signing secret and the state-sealing key every console process derives alike. */
export function sessionKeys(adminToken: string | undefined): { cookieSecret: string; sealKey: Buffer } {
  if (!adminToken) return { cookieSecret: randomToken(), sealKey: randomBytes(32) };
  const derive = (purpose: string) => createHmac('sha256', adminToken).update(`sailthru-destination console ${purpose}`).digest();
  return { cookieSecret: derive('cookie signing').toString('base64url'), sealKey: derive('session state') };
}

interface SessionState {
  flash: Flash[];
  revealedKey: Session['revealedKey'];
}

export class SessionStore {
  private readonly backend: ConsoleSessionStore;
  private readonly sealKey: Buffer;
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly maxSessions: number;
  /** lastSeen is written back at most this often when nothing else changed. */
  private readonly touchMs: number;
  private readonly now: () => number;
  /** What the database holds for each session handed out: save() writes only what changed. */
  private readonly stored = new WeakMap<Session, { state: string; lastSeen: number }>();

  constructor(options: SessionStoreOptions = {}) {
    this.backend = options.backend ?? new MemorySessionBackend();
    this.sealKey = options.sealKey ?? randomBytes(32);
    this.idleMs = options.idleMs ?? 12 * 3_600_000;
    this.absoluteMs = options.absoluteMs ?? 7 * 86_400_000;
    this.maxSessions = options.maxSessions ?? 1000;
    this.touchMs = Math.min(60_000, Math.floor(this.idleMs / 10));
    this.now = options.now ?? Date.now;
  }

  get idleSeconds(): number {
    return Math.floor(this.idleMs / 1000);
  }

  async create(): Promise<Session> {
    const now = this.now();
    const session: Session = { id: randomToken(), csrf: randomToken(), createdAt: now, lastSeen: now, flash: [], revealedKey: null };
    const state = this.stateOf(session);
    const record: ConsoleSessionRecord = { idHash: hashId(session.id), csrf: session.csrf, createdAt: now, lastSeen: now, state: this.seal(state) };
    await this.backend.createSession(record, now - this.idleMs, this.maxSessions);
    this.stored.set(session, { state, lastSeen: now });
    return session;
  }

  /** The live session with this id (its idle clock restarts), or null. */
  async get(id: string | undefined): Promise<Session | null> {
    if (!id) return null;
    const idHash = hashId(id);
    const record = await this.backend.getSession(idHash);
    if (!record) return null;
    const now = this.now();
    if (now - record.lastSeen > this.idleMs || now - record.createdAt > this.absoluteMs) {
      await this.backend.deleteSession(idHash);
      return null;
    }
    const state = this.unseal(record.state);
    const session: Session = { id, csrf: record.csrf, createdAt: record.createdAt, lastSeen: now, flash: state.flash, revealedKey: state.revealedKey };
    this.stored.set(session, { state: this.stateOf(session), lastSeen: record.lastSeen });
    return session;
  }

  /** Writes back what a request changed (flash, the one-time key) and, now and then, lastSeen. */
  async save(session: Session): Promise<void> {
    const stored = this.stored.get(session);
    const state = this.stateOf(session);
    if (stored && stored.state === state && session.lastSeen - stored.lastSeen < this.touchMs) return;
    await this.backend.updateSession(hashId(session.id), session.lastSeen, this.seal(state));
    this.stored.set(session, { state, lastSeen: session.lastSeen });
  }

  async destroy(id: string): Promise<void> {
    await this.backend.deleteSession(hashId(id));
  }

  private stateOf(session: Session): string {
    const state: SessionState = { flash: session.flash, revealedKey: session.revealedKey };
    return JSON.stringify(state);
  }

  private seal(state: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const sealed = Buffer.concat([cipher.update(state, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** A state sealed under another key (ADMIN_TOKEN changed) or damaged reads as empty. */
  private unseal(text: string): SessionState {
    try {
      const bytes = Buffer.from(text, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const state = JSON.parse(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')) as SessionState;
      return { flash: Array.isArray(state.flash) ? state.flash : [], revealedKey: state.revealedKey ?? null };
    } catch {
      return { flash: [], revealedKey: null };
    }
  }
}

function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Sessions in this process's memory: for tests and tools without an event store. */
export class MemorySessionBackend implements ConsoleSessionStore {
  private readonly records = new Map<string, ConsoleSessionRecord>();

  async createSession(record: ConsoleSessionRecord, staleBefore: number, keep: number): Promise<void> {
    for (const [idHash, r] of this.records) if (r.lastSeen < staleBefore) this.records.delete(idHash);
    this.records.set(record.idHash, { ...record });
    // Newest first; among equals, the later created (a stable sort of the reversed insertion order).
    const byRecency = [...this.records.values()].reverse().sort((a, b) => b.lastSeen - a.lastSeen);
    for (const r of byRecency.slice(keep)) this.records.delete(r.idHash);
  }

  async getSession(idHash: string): Promise<ConsoleSessionRecord | null> {
    const record = this.records.get(idHash);
    return record ? { ...record } : null;
  }

  async updateSession(idHash: string, lastSeen: number, state: string): Promise<boolean> {
    const record = this.records.get(idHash);
    if (!record) return false;
    record.lastSeen = lastSeen;
    record.state = state;
    return true;
  }

  async deleteSession(idHash: string): Promise<void> {
    this.records.delete(idHash);
  }
}
