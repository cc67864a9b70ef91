import type { ObjectIdGenerator } from './ids.ts';
import type { DeletedUser, PurchaseRecord, StoredCart, Vars } from './records.ts';

export interface Profile {
  sid: string;
  /** key type → value; always has sid */
  keys: Record<string, string>;
  vars: Vars;
  /** list name → RFC 2822 time the profile joined it */
  lists: Record<string, string>;
  optout_email: string;
  cart: StoredCart | null;
  purchases: PurchaseRecord[];
  createdAt: string;
  updatedAt: string;
  /** sids of profiles merged into this one */
  mergedFrom: string[];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function isValidEmail(value: string): boolean {
  return EMAIL.test(value);
}

/** Emails are case-insensitive in Sailthru; every other key is exact. */
export function normalizeKeyValue(type: string, value: string): string {
  return type === 'email' ? value.trim().toLowerCase() : value;
}

const OPTOUT_RANK: Record<string, number> = { none: 0, basic: 1, blast: 2, all: 3 };

/**
 * Profiles and their key indexes. Lookups by any key are one Map read; nothing here scans all
 * profiles, so a benchmark's many users cost nothing per request.
 */
export class ProfileStore {
  private readonly bySid = new Map<string, Profile>();
  private readonly byKey = new Map<string, Map<string, Profile>>();

  constructor(private readonly ids: ObjectIdGenerator) {}

  get size(): number {
    return this.bySid.size;
  }

  all(): IterableIterator<Profile> {
    return this.bySid.values();
  }

  find(type: string, value: string): Profile | undefined {
    const normalized = normalizeKeyValue(type, value);
    if (type === 'sid') return this.bySid.get(normalized);
    return this.byKey.get(type)?.get(normalized);
  }

  create(nowMs: number): Profile {
    const sid = this.ids.next(nowMs);
    const time = new Date(nowMs).toISOString();
    const profile: Profile = {
      sid,
      keys: { sid },
      vars: {},
      lists: {},
      optout_email: 'none',
      cart: null,
      purchases: [],
      createdAt: time,
      updatedAt: time,
      mergedFrom: [],
    };
    this.bySid.set(sid, profile);
    return profile;
  }

  /** Gives the profile this key, replacing its previous value of that type. */
  setKey(profile: Profile, type: string, value: string): void {
    if (type === 'sid') return;
    const normalized = normalizeKeyValue(type, value);
    let index = this.byKey.get(type);
    if (!index) {
      index = new Map();
      this.byKey.set(type, index);
    }
    const previous = profile.keys[type];
    if (previous !== undefined && index.get(previous) === profile) index.delete(previous);
    const owner = index.get(normalized);
    if (owner && owner !== profile) delete owner.keys[type];
    index.set(normalized, profile);
    profile.keys[type] = normalized;
  }

  remove(profile: Profile, nowMs: number, reason: DeletedUser['reason'], mergedInto?: string): DeletedUser {
    for (const [type, value] of Object.entries(profile.keys)) {
      if (type === 'sid') continue;
      const index = this.byKey.get(type);
      if (index?.get(value) === profile) index.delete(value);
    }
    this.bySid.delete(profile.sid);
    const deleted: DeletedUser = { sid: profile.sid, keys: { ...profile.keys }, time: new Date(nowMs).toISOString(), reason };
    if (mergedInto) deleted.mergedInto = mergedInto;
    return deleted;
  }

  /**
   * Folds `other` into `target` (keysconflict merge) and removes `other`. The target's own values
   * win; the other fills what the target lacks. Lists are joined, purchases moved, the newer cart
   * kept, and an opt-out on either side survives (the stricter level wins), so a merge never
   * re-subscribes anyone.
   */
  merge(target: Profile, other: Profile, nowMs: number): DeletedUser {
    for (const [name, value] of Object.entries(other.vars)) {
      if (!(name in target.vars)) target.vars[name] = value;
    }
    for (const [list, joined] of Object.entries(other.lists)) {
      if (!(list in target.lists)) target.lists[list] = joined;
    }
    if ((OPTOUT_RANK[other.optout_email] ?? 0) > (OPTOUT_RANK[target.optout_email] ?? 0)) {
      target.optout_email = other.optout_email;
    }
    if (other.cart && (!target.cart || other.cart.timeMs > target.cart.timeMs)) target.cart = other.cart;
    for (const purchase of other.purchases) purchase.sid = target.sid;
    if (other.purchases.length > 0) {
      target.purchases = [...target.purchases, ...other.purchases].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    }
    const otherKeys = Object.entries(other.keys).filter(([type]) => type !== 'sid');
    const deleted = this.remove(other, nowMs, 'merged', target.sid);
    for (const [type, value] of otherKeys) {
      if (target.keys[type] === undefined) this.setKey(target, type, value);
    }
    target.mergedFrom.push(other.sid, ...other.mergedFrom);
    target.updatedAt = new Date(nowMs).toISOString();
    return deleted;
  }

  clear(): void {
    this.bySid.clear();
    this.byKey.clear();
  }
}

