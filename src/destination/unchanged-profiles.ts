import { createHash } from 'node:crypto';
import { UNCHANGED_IDENTIFY_DEFAULT_HOURS, type DestinationSettings } from './settings.ts';

/**
 * How the key of a row naming who last posted an address begins. The stores' partial indexes
 * (`sent_profiles_email_claims`, both schemas) and their deletion by extid spell it as a literal.
 */
export const EMAIL_CLAIM_PREFIX = 'email-sha256:';

/**
 * Unchanged identifies cost nothing (issue 19; docs/decisions.md, "Unchanged identifies").
 * analytics.js sites identify on every page load with the same traits: when the POST /user an
 * identify would make is the one Sailthru last accepted for that user, within the destination's
 * `unchangedIdentifyHours`, it is skipped. What was sent is remembered as a hash of the payload
 * (never the payload: it holds PII), in the service's store so that it survives restarts and is
 * shared by PostgreSQL workers.
 */
export interface SentProfiles {
  /** The hash of the last payload Sailthru accepted for the user and when; null when none is remembered. */
  lastSent(extid: string): Promise<{ hash: string; sentAt: number } | null>;
  /** Only after Sailthru answered success. */
  record(extid: string, hash: string, sentAt: number): Promise<void>;
  /** Deleted or merged users: whatever their next identify holds is sent. */
  forget(extids: string[]): Promise<void>;
  /**
   * A deleted user: their row and every row naming them as who last posted an address (found by
   * the extid, so whether or not the address is known): nothing of theirs is left.
   */
  forgetUser(extid: string): Promise<void>;
}

/** The part of an action's context these read (action.ts's ActionContext fits; it imports this module). */
interface SentContext {
  extid: string;
  settings: Pick<DestinationSettings, 'unchangedIdentifyHours'>;
  memory: { sentProfiles: SentProfiles };
  now(): number;
  warn(...messages: string[]): void;
}

/** Kept in this process only (tests, the CLI, a destination built without a store); bounded. */
export class MemorySentProfiles implements SentProfiles {
  private readonly sent = new Map<string, { hash: string; sentAt: number }>();

  constructor(private readonly maxEntries = 100_000) {}

  async lastSent(extid: string): Promise<{ hash: string; sentAt: number } | null> {
    return this.sent.get(extid) ?? null;
  }

  async record(extid: string, hash: string, sentAt: number): Promise<void> {
    this.sent.delete(extid);
    this.sent.set(extid, { hash, sentAt });
    if (this.sent.size > this.maxEntries) this.sent.delete(this.sent.keys().next().value as string);
  }

  async forget(extids: string[]): Promise<void> {
    for (const extid of extids) this.sent.delete(extid);
  }

  async forgetUser(extid: string): Promise<void> {
    this.sent.delete(extid);
    // A walk of at most maxEntries, once per deletion (rare); the stores use an index.
    for (const [key, value] of this.sent) if (key.startsWith(EMAIL_CLAIM_PREFIX) && value.hash === extid) this.sent.delete(key);
  }
}

/**
 * SHA-256 of the payload's canonical JSON (object keys sorted at every level, arrays in order):
 * the same payload built with its traits in another order hashes the same.
 */
export function profileHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The destination's TTL in ms; 0 when skipping is off. */
export function unchangedTtlMs(ctx: Pick<SentContext, 'settings'>): number {
  return (ctx.settings.unchangedIdentifyHours ?? UNCHANGED_IDENTIFY_DEFAULT_HOURS) * 3_600_000;
}

/** The skip reason, or null with whether anything (or, unreadable, possibly something) is remembered for the user. */
export type UnchangedCheck = { skip: string } | { skip: null; remembered: boolean };

/**
 * Skip when `hash` is what Sailthru last accepted for the user within the TTL. A store that
 * cannot answer costs a call, never a wrong skip (and counts as remembering something, so it is
 * forgotten before the call).
 */
export async function checkUnchanged(ctx: SentContext, hash: string): Promise<UnchangedCheck> {
  const ttlMs = unchangedTtlMs(ctx);
  if (ttlMs <= 0) return { skip: null, remembered: false };
  let last: { hash: string; sentAt: number } | null;
  try {
    last = await ctx.memory.sentProfiles.lastSent(ctx.extid);
  } catch (err) {
    ctx.warn(`could not read what was last sent for ${ctx.extid} (${errorText(err)}); sent without checking`);
    return { skip: null, remembered: true };
  }
  if (last === null) return { skip: null, remembered: false };
  if (last.hash !== hash || ctx.now() - last.sentAt >= ttlMs) return { skip: null, remembered: true };
  return { skip: `unchanged since ${new Date(last.sentAt).toISOString()}` };
}

/**
 * Before a POST /user that is not the remembered identify's own (another payload, a list change,
 * an identify redirected from a linked anonymousId, an alias merge, a cart's email attached): from
 * the moment it may reach Sailthru, what was remembered no longer describes the profile, and a
 * later identify equal to it must be sent. Forgotten *before* the call, so a crash or a timeout
 * after Sailthru applied it leaves no stale memory. Null when done (or nothing to do), else why,
 * to retry: sending without forgetting could let a later identify be skipped over a change.
 */
export async function forgetBeforeProfileWrite(ctx: SentContext, extids: string[]): Promise<string | null> {
  if (unchangedTtlMs(ctx) <= 0) return null;
  return forgetSent(ctx, extids);
}

/** The memory's row naming who last posted an address (its SHA-256: never the address itself). */
function emailClaimKey(email: string): string {
  return `${EMAIL_CLAIM_PREFIX}${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
}

/**
 * Before a POST /user that sets `email` with `keysconflict: merge` for `claimant` (an identify, an
 * alias, a cart's email attached): Sailthru merges the profile that holds that address into the
 * one addressed and deletes it, so what was sent to another user whose profile held it no longer
 * describes any profile of theirs (their next identify, naively sent, would recreate it). The
 * memory keeps, under a row keyed by the address's hash, who last posted it; another claimant
 * forgets that user first. Before the call, like forgetBeforeProfileWrite; null when done, else
 * why (to retry). A user whose address came to their profile some other way (an import, the
 * site's own tag) is not known here: the TTL bounds that.
 */
export async function claimEmailBeforeProfileWrite(ctx: SentContext, email: string | undefined, claimant: string): Promise<string | null> {
  if (email === undefined || unchangedTtlMs(ctx) <= 0) return null;
  const key = emailClaimKey(email);
  try {
    // The row's "hash" is the extid of who posted the address last (an id, already a key here).
    const last = await ctx.memory.sentProfiles.lastSent(key);
    if (last?.hash === claimant) return null;
    if (last !== null) await ctx.memory.sentProfiles.forget([last.hash]);
    await ctx.memory.sentProfiles.record(key, claimant, ctx.now());
    return null;
  } catch (err) {
    return `could not record who posted the address last (${errorText(err)})`;
  }
}

/**
 * A deleted user: what was sent for them, and every row naming them as who last posted an
 * address, whether the deletion carries the address or not (a row tying the address's hash to
 * their extid would outlive the deletion). Null when done, else why (to retry).
 */
export async function forgetDeletedUser(ctx: SentContext, extid: string): Promise<string | null> {
  try {
    await ctx.memory.sentProfiles.forgetUser(extid);
    return null;
  } catch (err) {
    return `could not forget what was sent for ${extid}: ${errorText(err)}`;
  }
}

/** After a successful POST /user: a failure to remember it only costs a call next time. */
export async function recordSent(ctx: SentContext, hash: string): Promise<void> {
  if (unchangedTtlMs(ctx) <= 0) return;
  try {
    await ctx.memory.sentProfiles.record(ctx.extid, hash, ctx.now());
  } catch (err) {
    ctx.warn(`could not remember what was sent for ${ctx.extid} (${errorText(err)}); its next identify is sent whatever it holds`);
  }
}

/** Deleted or merged users; null when done, else why (to retry: a stale memory could skip a real change). */
export async function forgetSent(ctx: SentContext, extids: string[]): Promise<string | null> {
  try {
    await ctx.memory.sentProfiles.forget(extids);
    return null;
  } catch (err) {
    return `could not forget what was sent for ${extids.join(', ')}: ${errorText(err)}`;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
