import type { QueuedEvent } from './store.ts';

/**
 * Yields a worker may make per event it settles for good (and at most `concurrency` saved up).
 * A yield costs a release and a place in a later claim; when every due lane needs a crowded
 * endpoint, yielding finds nothing, and this bounds what the search costs the store: at most one
 * extra write per event delivered.
 */
const YIELDS_PER_SETTLED_EVENT = 1;

export interface LaneSlotsOptions {
  /** Lanes delivering at once, not counting those waiting in the rate gate. */
  concurrency: number;
  /** Lanes that may wait in the rate gate on top of `concurrency`. */
  waitingLanes: number;
  /** Whether an event's endpoint has at least `atLeast` requests and a second of budget waiting; null: never yield. */
  crowded: ((event: QueuedEvent, atLeast: number) => boolean) | null;
}

/**
 * How many lanes one worker may hold, and when a held lane should give its place up
 * (docs/decisions.md, "A lane waiting for its endpoint's budget gives up its slot, and a crowded
 * one yields"). A lane waiting in the rate gate does not count against `concurrency`, only
 * against concurrency + waitingLanes; a lane whose head's endpoint is crowded yields when the
 * worker holds all it may. The worker owns the lanes; this keeps the counts and the rules.
 */
export class LaneSlots<Lane> {
  readonly concurrency: number;
  readonly waitingLanes: number;
  private readonly crowded: LaneSlotsOptions['crowded'];
  /**
   * Lanes in one endpoint's line before it counts as crowded: half the lanes the worker may
   * hold. Two endpoints that bind together then fill what it holds between them, and it stops
   * claiming (and yielding) until one of them runs short; a lower mark would leave room that
   * the claim loop fills with lanes only to give them back.
   */
  private readonly crowdAt: number;
  /** Yields allowed now (YIELDS_PER_SETTLED_EVENT). */
  private yieldCredit: number;
  /** The last claim found as many lanes as it asked for: others may be waiting. */
  private moreDue = true;
  private yieldCount = 0;
  /** Held lanes whose delivery is waiting in the rate gate for its endpoint's budget. */
  private readonly waitingInGate = new Set<Lane>();

  constructor(options: LaneSlotsOptions) {
    this.concurrency = options.concurrency;
    this.waitingLanes = Math.max(0, options.waitingLanes);
    this.crowded = options.crowded;
    this.crowdAt = Math.max(1, Math.ceil((this.concurrency + this.waitingLanes) / 2));
    this.yieldCredit = this.concurrency;
  }

  /** Lanes given back so far because their head's endpoint was crowded. */
  get yields(): number {
    return this.yieldCount;
  }

  /** Held lanes waiting in the rate gate. */
  get waiting(): number {
    return this.waitingInGate.size;
  }

  /** Lanes to claim now, holding `held`: slots left free by delivering lanes, within the bound on all held. */
  free(held: number): number {
    const delivering = held - this.waitingInGate.size;
    return Math.min(this.concurrency - delivering, this.concurrency + this.waitingLanes - held);
  }

  /** A claim asked for `asked` lanes and got `got`: fewer means none is left due, so a yield would find no other. */
  claimed(asked: number, got: number): void {
    this.moreDue = got >= asked;
  }

  /** The lane started waiting in the gate; false when it already was. */
  startWaiting(lane: Lane): boolean {
    if (this.waitingInGate.has(lane)) return false;
    this.waitingInGate.add(lane);
    return true;
  }

  /** The lane is let through the gate, or no longer held. */
  stopWaiting(lane: Lane): void {
    this.waitingInGate.delete(lane);
  }

  /**
   * Whether a lane should yield before `head`: its endpoint is crowded, the worker holds all the
   * lanes it may (`held`), other lanes are due and the credit allows. A yield is counted.
   */
  shouldYield(head: QueuedEvent, held: number): boolean {
    if (this.crowded === null || !this.moreDue || this.yieldCredit < 1) return false;
    // With room to claim, a lane waiting in the gate keeps no other lane out: no need to yield.
    if (held < this.concurrency + this.waitingLanes) return false;
    if (!this.crowded(head, this.crowdAt)) return false;
    this.yieldCredit--;
    this.yieldCount++;
    return true;
  }

  /** `count` events were settled for good: each earns a yield, up to `concurrency` saved. */
  settled(count: number): void {
    this.yieldCredit = Math.min(this.concurrency, this.yieldCredit + YIELDS_PER_SETTLED_EVENT * count);
  }
}
