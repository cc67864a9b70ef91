import { BoundedCache } from './bounded-cache.ts';

/**
 * A user's cart as this process last read it from Sailthru or wrote it there, in the shape
 * `GET /user`'s `purchase_incomplete` has, with the profile's email.
 */
export interface RememberedCart {
  /** The profile's `keys.email`: the cart was read from, or posted with, this address. */
  email: string;
  /** `purchase_incomplete` as Sailthru holds it after our read or write (null: no cart). */
  stored: { [key: string]: unknown } | null;
}

/**
 * userId → the cart we last read or wrote (decided, beyond SPEC.md §6, which fetches the cart on
 * every cart event). A user's cart events follow each other in one lane, so while nothing else
 * writes that cart, what we posted last is what Sailthru holds and the next change needs no
 * `GET /user`. It is forgotten whenever something may have changed the cart behind it:
 * - a completed purchase (Sailthru clears the cart), for that user and for its email; once
 *   Sailthru accepted it, the user's cart is remembered empty when it lived under that email;
 * - an identify that merges an anonymous profile (it can bring another cart) or sends another
 *   email than the cart's (the address moves); an alias or deletion of the user;
 * - a cart POST that failed or whose answer was lost (it may or may not have landed);
 * - after `ttlMs`, bounding how long a cart written by another system could be overlooked.
 * Only used where one process delivers every event (SQLite): with several workers another worker
 * may have changed the cart since, so PostgreSQL mode always fetches.
 */
export class CartMemory {
  private readonly byUser: BoundedCache<string, RememberedCart>;
  /** email → userId, so a purchase known only by email forgets that user's cart. */
  private readonly userByEmail: BoundedCache<string, string>;

  constructor(maxEntries: number, ttlMs: number, now: () => number) {
    this.byUser = new BoundedCache(maxEntries, ttlMs, now);
    this.userByEmail = new BoundedCache(maxEntries, ttlMs, now);
  }

  get(userId: string): RememberedCart | undefined {
    return this.byUser.get(userId);
  }

  remember(userId: string, cart: RememberedCart): void {
    this.byUser.set(userId, cart);
    this.userByEmail.set(cart.email.toLowerCase(), userId);
  }

  forgetUser(userId: string): void {
    this.byUser.delete(userId);
  }

  /** Carts posted with this email (Sailthru keys purchases by email). */
  forgetEmail(email: string): void {
    const key = email.toLowerCase();
    const userId = this.userByEmail.get(key);
    if (userId !== undefined) this.byUser.delete(userId);
    this.userByEmail.delete(key);
  }

  get size(): number {
    return this.byUser.size;
  }
}
