import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleSessionRecord, ConsoleSessionStore } from '../../delivery/store.ts';
import { PreSessionTokens } from './pre-session.ts';

/**
 * Console sessions: a random id in the cookie, the session in the event store keyed by
 * HMAC(ADMIN_TOKEN, id), its state sealed under a key derived from the id, written back by
 * compare-and-set (why: docs/decisions.md, "Console sessions").
 */

export interface Flash {
  kind: 'ok' | 'error' | 'info';
  text: string;
  /** Set when the session is saved, so requests running at once can merge their messages. */
  id?: string;
}

/** A new write key waiting to be shown once, on the next page of its destination. */
export interface RevealedKey {
  destinationId: string;
  key: string;
  label: string;
}

export interface Session {
  id: string;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** Messages shown once on the next page (post/redirect/get). */
  flash: Flash[];
  /** New write keys, each shown once (takeRevealedKeys) on the next page of its destination. */
  revealedKeys: RevealedKey[];
}

export interface SessionStoreOptions {
  /** Where sessions live; default: this process's memory (tests, tools). */
  backend?: ConsoleSessionStore;
  /**
   * ADMIN_TOKEN. The database keys a session by HMAC(ADMIN_TOKEN, id), so changing the token
   * signs everyone out, and neither the database nor a cookie alone can test guesses of it.
   */
  secret?: string;
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

interface SessionState {
  flash: Flash[];
  revealedKeys: RevealedKey[];
}

/** What the database held for a session when a request read it. */
interface Loaded {
  sealed: string;
  state: string;
  lastSeen: number;
}

const MAX_MERGES = 5;

export class SessionStore {
  private readonly backend: ConsoleSessionStore;
  private readonly idleMs: number;
  private readonly absoluteMs: number;
  private readonly maxSessions: number;
  /** lastSeen is written back at most this often when nothing else changed. */
  private readonly touchMs: number;
  private readonly now: () => number;
  private readonly loaded = new WeakMap<Session, Loaded>();
  private readonly secret: string;
  /** The sign-in form's tokens, signed with the same secret. */
  readonly preSession: PreSessionTokens;

  constructor(options: SessionStoreOptions = {}) {
    this.backend = options.backend ?? new MemorySessionBackend();
    this.secret = options.secret ?? '';
    this.preSession = new PreSessionTokens(this.secret, 3_600_000, options.now ?? Date.now);
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
    const session: Session = { id: randomToken(), csrf: randomToken(), createdAt: now, lastSeen: now, flash: [], revealedKeys: [] };
    const state = stateOf(session);
    const idHash = this.hashOf(session.id);
    const sealed = seal(session.id, idHash, state);
    const record: ConsoleSessionRecord = { idHash, csrf: session.csrf, createdAt: now, lastSeen: now, state: sealed };
    await this.backend.createSession(record, now - this.idleMs, this.maxSessions);
    this.loaded.set(session, { sealed, state, lastSeen: now });
    return session;
  }

  /** The live session with this id, or null. save() restarts its idle clock. */
  async get(id: string | undefined): Promise<Session | null> {
    if (!id) return null;
    const idHash = this.hashOf(id);
    const record = await this.backend.getSession(idHash);
    if (!record) return null;
    const now = this.now();
    if (now - record.lastSeen > this.idleMs || now - record.createdAt > this.absoluteMs) {
      await this.backend.deleteSession(idHash);
      return null;
    }
    const state = unseal(id, idHash, record.state);
    const session: Session = { id, csrf: record.csrf, createdAt: record.createdAt, lastSeen: now, ...state };
    this.loaded.set(session, { sealed: record.state, state: stateOf(session), lastSeen: record.lastSeen });
    return session;
  }

  /**
   * Writes back what a request changed (flash, pending keys), merged over anything another request
   * wrote meanwhile, and restarts the idle clock (at most every `touchMs` when nothing changed).
   * False when the session is gone (signed out meanwhile); throws when it could not be written.
   */
  async save(session: Session): Promise<boolean> {
    return (await this.commit(session)) !== null;
  }

  /**
   * Takes the session's new keys for one destination, to show them on this page: each is taken
   * by one request only (the one whose compare-and-set removed it), so two pages loading at once
   * never both show a key, and keys another request adds meanwhile stay for their own page.
   */
  async takeRevealedKeys(session: Session, destinationId: string): Promise<RevealedKey[]> {
    const wanted = session.revealedKeys.filter((k) => k.destinationId === destinationId);
    if (wanted.length === 0) return [];
    session.revealedKeys = session.revealedKeys.filter((k) => k.destinationId !== destinationId);
    const removedFrom = await this.commit(session);
    if (removedFrom === null) return [];
    const stored = new Set(removedFrom.revealedKeys.map((k) => k.key));
    return wanted.filter((k) => stored.has(k.key));
  }

  /** Saves; returns the stored state this request's changes were applied to, or null when gone. */
  private async commit(session: Session): Promise<SessionState | null> {
    const loaded = this.loaded.get(session);
    if (!loaded) return null;
    for (const f of session.flash) f.id ??= randomToken(9);
    const idHash = this.hashOf(session.id);
    let base = loaded;
    let mine = stateOf(session);
    if (mine === base.state) {
      if (session.lastSeen - base.lastSeen >= this.touchMs) {
        await this.backend.touchSession(idHash, session.lastSeen);
        this.loaded.set(session, { ...base, lastSeen: session.lastSeen });
      }
      return JSON.parse(base.state) as SessionState;
    }
    for (let round = 0; round < MAX_MERGES; round++) {
      const sealed = seal(session.id, idHash, mine);
      if (await this.backend.updateSessionState(idHash, base.sealed, sealed, session.lastSeen)) {
        this.loaded.set(session, { sealed, state: mine, lastSeen: session.lastSeen });
        return JSON.parse(base.state) as SessionState;
      }
      const current = await this.backend.getSession(idHash);
      if (!current) return null;
      const theirs = unseal(session.id, idHash, current.state);
      const merged = merge(JSON.parse(base.state) as SessionState, JSON.parse(mine) as SessionState, theirs);
      session.flash = merged.flash;
      session.revealedKeys = merged.revealedKeys;
      base = { sealed: current.state, state: stateOf(theirs), lastSeen: current.lastSeen };
      mine = stateOf(session);
    }
    throw new Error('the console session kept changing under this request');
  }

  private hashOf(id: string): string {
    return createHmac('sha256', this.secret).update(id).digest('hex');
  }

  async destroy(id: string): Promise<void> {
    await this.backend.deleteSession(this.hashOf(id));
  }
}

function stateOf(session: SessionState): string {
  const state: SessionState = { flash: session.flash, revealedKeys: session.revealedKeys };
  return JSON.stringify(state);
}

/**
 * This request's changes (from `base` to `mine`) applied to what another request left (`theirs`),
 * item by item: messages shown and keys taken are removed, those added are appended. A change
 * this request already stored (a write retried after it committed) is not applied twice.
 */
function merge(base: SessionState, mine: SessionState, theirs: SessionState): SessionState {
  return {
    flash: mergeItems(base.flash, mine.flash, theirs.flash, (f) => f.id ?? `${f.kind}:${f.text}`),
    revealedKeys: mergeItems(base.revealedKeys, mine.revealedKeys, theirs.revealedKeys, (k) => k.key),
  };
}

function mergeItems<T>(base: T[], mine: T[], theirs: T[], idOf: (item: T) => string): T[] {
  const baseIds = new Set(base.map(idOf));
  const mineIds = new Set(mine.map(idOf));
  const theirIds = new Set(theirs.map(idOf));
  const removed = new Set([...baseIds].filter((id) => !mineIds.has(id)));
  const added = mine.filter((item) => !baseIds.has(idOf(item)) && !theirIds.has(idOf(item)));
  return [...theirs.filter((item) => !removed.has(idOf(item))), ...added];
}

/** The state's key comes from the session id, which only the cookie holds (the database has its hash). */
function sealKeyOf(id: string): Buffer {
  return createHmac('sha256', id).update('sailthru-destination console session state').digest();
}

/** The record's key is the associated data: a sealed state moved to another session does not open. */
function seal(id: string, idHash: string, state: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKeyOf(id), iv);
  cipher.setAAD(Buffer.from(idHash));
  const sealed = Buffer.concat([cipher.update(state, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/** A damaged state reads as empty. */
function unseal(id: string, idHash: string, text: string): SessionState {
  try {
    const bytes = Buffer.from(text, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', sealKeyOf(id), bytes.subarray(0, 12), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(idHash));
    decipher.setAuthTag(bytes.subarray(12, 28));
    const state = JSON.parse(Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')) as SessionState;
    return { flash: Array.isArray(state.flash) ? state.flash : [], revealedKeys: Array.isArray(state.revealedKeys) ? state.revealedKeys : [] };
  } catch {
    return { flash: [], revealedKeys: [] };
  }
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

  async touchSession(idHash: string, lastSeen: number): Promise<void> {
    const record = this.records.get(idHash);
    if (record) record.lastSeen = Math.max(record.lastSeen, lastSeen);
  }

  async updateSessionState(idHash: string, expected: string, state: string, lastSeen: number): Promise<boolean> {
    const record = this.records.get(idHash);
    if (!record || record.state !== expected) return false;
    record.state = state;
    record.lastSeen = Math.max(record.lastSeen, lastSeen);
    return true;
  }

  async deleteSession(idHash: string): Promise<void> {
    this.records.delete(idHash);
  }
}
