import { BoundedLog } from './bounded-log.ts';
import { ObjectIdGenerator } from './ids.ts';
import { normalizeKeyValue, ProfileStore, type Profile } from './profiles.ts';
import type { DeletedUser, EventRecord, JobRecord, PageviewRecord, PurchaseRecord, StoredCart, Vars } from './records.ts';

export interface ProfileView {
  sid: string;
  keys: Record<string, string>;
  vars: Vars;
  lists: Record<string, string>;
  optout_email: string;
  cart: StoredCart | null;
  purchaseCount: number;
  createdAt: string;
  updatedAt: string;
  mergedFrom: string[];
}

export interface EmulatorStateSnapshot {
  profiles: ProfileView[];
  /** completed purchases, in the order they arrived */
  purchases: PurchaseRecord[];
  /** custom events (POST /event), newest `maxActivityLog` */
  events: EventRecord[];
  /** page views, newest `maxActivityLog` */
  pageviews: PageviewRecord[];
  /** deleted profiles, and profiles absorbed by a merge */
  deletedUsers: DeletedUser[];
  jobs: JobRecord[];
  counts: {
    profiles: number;
    carts: number;
    purchases: number;
    /** every event received, also those no longer kept */
    events: number;
    pageviews: number;
    deletedUsers: number;
    jobs: number;
  };
}

/** Restricts a snapshot to one user: `{ key: 'extid', id: 'u1' }` (key defaults to email). */
export interface StateFilter {
  key?: string;
  id?: string;
}

/** Everything the emulated Sailthru account holds. */
export class EmulatorState {
  readonly ids = new ObjectIdGenerator();
  readonly profiles = new ProfileStore(this.ids);
  purchases: PurchaseRecord[] = [];
  readonly events: BoundedLog<EventRecord>;
  readonly pageviews: BoundedLog<PageviewRecord>;
  deletedUsers: DeletedUser[] = [];
  readonly jobs = new Map<string, JobRecord>();
  /** EmulatorOptions.cartVarsReturned; a setting of the emulator, kept across clear(). */
  cartVarsReturned = true;

  constructor(private readonly maxActivityLog: number) {
    this.events = new BoundedLog(maxActivityLog);
    this.pageviews = new BoundedLog(maxActivityLog);
  }

  /** Finds the profile by key, or creates it carrying that key (sid keys are never invented). */
  findOrCreate(key: string, id: string, nowMs: number): Profile | undefined {
    const found = this.profiles.find(key, id);
    if (found || key === 'sid') return found;
    const created = this.profiles.create(nowMs);
    this.profiles.setKey(created, key, id);
    return created;
  }

  clear(): void {
    this.profiles.clear();
    this.purchases = [];
    this.events.clear();
    this.pageviews.clear();
    this.deletedUsers = [];
    this.jobs.clear();
  }

  snapshot(filter: StateFilter = {}): EmulatorStateSnapshot {
    const counts = {
      profiles: this.profiles.size,
      carts: 0,
      purchases: this.purchases.length,
      events: this.events.appended,
      pageviews: this.pageviews.appended,
      deletedUsers: this.deletedUsers.length,
      jobs: this.jobs.size,
    };
    for (const profile of this.profiles.all()) if (profile.cart) counts.carts++;
    if (filter.id !== undefined) {
      const key = filter.key ?? 'email';
      const id = normalizeKeyValue(key, filter.id);
      const profile = this.profiles.find(key, id);
      const sid = profile?.sid;
      return {
        profiles: profile ? [profileView(profile)] : [],
        purchases: profile ? profile.purchases.slice() : [],
        events: this.events.after().filter((e) => e.sid === sid),
        pageviews: this.pageviews.after().filter((p) => p.sid !== null && p.sid === sid),
        deletedUsers: this.deletedUsers.filter((d) => d.keys[key] === id || (sid !== undefined && d.mergedInto === sid)),
        jobs: [...this.jobs.values()],
        counts,
      };
    }
    return {
      profiles: [...this.profiles.all()].map(profileView),
      purchases: this.purchases.slice(),
      events: this.events.after(),
      pageviews: this.pageviews.after(),
      deletedUsers: this.deletedUsers.slice(),
      jobs: [...this.jobs.values()],
      counts,
    };
  }
}

function profileView(p: Profile): ProfileView {
  return {
    sid: p.sid,
    keys: p.keys,
    vars: p.vars,
    lists: p.lists,
    optout_email: p.optout_email,
    cart: p.cart,
    purchaseCount: p.purchases.length,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    mergedFrom: p.mergedFrom,
  };
}
