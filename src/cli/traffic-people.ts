import { FIRST_NAMES, LAST_NAMES } from './traffic-catalog.ts';

/** Logged-in share the shop settles at (people log out or come back on a new device). */
const LOGGED_IN_TARGET = 0.7;

/** A set of user indexes with O(1) add, delete and random pick. */
class IndexSet {
  private readonly items: number[] = [];
  private readonly positions = new Map<number, number>();

  get size(): number {
    return this.items.length;
  }
  add(i: number): void {
    if (this.positions.has(i)) return;
    this.positions.set(i, this.items.length);
    this.items.push(i);
  }
  delete(i: number): void {
    const at = this.positions.get(i);
    if (at === undefined) return;
    const last = this.items.pop() as number;
    this.positions.delete(i);
    if (last !== i) {
      this.items[at] = last;
      this.positions.set(last, at);
    }
  }
  pick(random: () => number): number | undefined {
    return this.items.length === 0 ? undefined : this.items[Math.floor(random() * this.items.length)];
  }
}

export interface Person {
  index: number;
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
  /** The device session; a new one brings a new anonymousId. */
  session: number;
  loggedIn: boolean;
  /** Sailthru knows the email (an identify with it was sent). */
  identified: boolean;
  cart: Map<string, number>;
}

/** The simulated shop's people: who is logged in on which device, and whom Sailthru knows. */
export class People {
  readonly loggedIn = new IndexSet();
  readonly loggedOut = new IndexSet();
  /** Sailthru knows their email. */
  readonly identified = new IndexSet();
  private readonly all: Person[];

  constructor(
    count: number,
    private readonly seed: number,
    private readonly random: () => number,
  ) {
    this.all = Array.from({ length: count }, (_, index) => {
      const first = FIRST_NAMES[index % FIRST_NAMES.length] as string;
      const last = LAST_NAMES[Math.floor(index / FIRST_NAMES.length) % LAST_NAMES.length] as string;
      this.loggedOut.add(index);
      return {
        index,
        userId: `user-${index + 1}`,
        email: `${first.toLowerCase()}.${last.toLowerCase()}.${index + 1}@example.com`,
        firstName: first,
        lastName: last,
        session: 1,
        loggedIn: false,
        identified: false,
        cart: new Map(),
      };
    });
  }

  get size(): number {
    return this.all.length;
  }

  person(i: number): Person {
    return this.all[i] as Person;
  }

  anyone(): Person {
    return this.person(Math.floor(this.random() * this.all.length));
  }

  anonymousIdOf(p: Person): string {
    return `anon-${this.seed}-${p.index + 1}-${p.session}`;
  }

  /** userId when logged in (with the device's anonymousId, as analytics.js sends), else anonymous. */
  ids(p: Person): { userId?: string; anonymousId: string } {
    return p.loggedIn ? { userId: p.userId, anonymousId: this.anonymousIdOf(p) } : { anonymousId: this.anonymousIdOf(p) };
  }

  setLoggedIn(p: Person, loggedIn: boolean): void {
    p.loggedIn = loggedIn;
    if (loggedIn) {
      this.loggedOut.delete(p.index);
      this.loggedIn.add(p.index);
    } else {
      this.loggedIn.delete(p.index);
      this.loggedOut.add(p.index);
    }
  }

  /** Someone else logs out (or comes back later on a new device), so the shop keeps visitors. */
  someoneLeaves(except: Person): void {
    if (this.random() >= this.loggedIn.size / this.all.length / LOGGED_IN_TARGET) return;
    const i = this.loggedIn.pick(this.random);
    if (i === undefined || i === except.index) return;
    const p = this.person(i);
    p.session++;
    this.setLoggedIn(p, false);
  }
}
