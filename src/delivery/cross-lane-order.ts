import type { CrossLaneQueue, LaneRef, QueuedEvent } from './store.ts';

/**
 * Orders one person's two lanes during the transition from anonymous to known (decisions.md,
 * "Lanes are per id"). A lane is the event's userId (else anonymousId), so an identify of userId
 * U carrying anonymousId A, or a "Product Removed" sent after login, travels in U's lane while
 * what A did before is still in A's lane. Before a lane delivers such an event, this checks A's
 * lane: while it holds unsettled events (pending, retrying, or in flight under a lease) received
 * before this one, the event waits: the lane is given back, due again a little later, holding no
 * slot, and delivers once those have settled (dead letters count as settled).
 *
 * No deadlock: an event waits only for events received strictly before it (lower ids), so the
 * oldest unsettled event never waits, and a chain of waits ends there. Events received later never
 * hold anything back.
 */

/** The ids of an event that name a lane other than its own. */
export type LinkedIdField = 'anonymousId' | 'userId' | 'previousId';

export interface LaneWait {
  lane: LaneRef;
  /** The event held back (the lane's head). */
  eventId: number;
  /** Which of its ids names the lane it waits for (never the id's value: that is a user). */
  field: LinkedIdField;
  /** Unsettled events of that lane received before it. */
  earlier: number;
  /** When its lane is due again, epoch ms (the worker's clock). */
  dueAt: number;
  /** Times this event has been held back so far, this one included (in this process). */
  waits: number;
  /** For logs: "waiting for 2 earlier events of its anonymousId's lane". */
  note: string;
}

export interface OrderCheck {
  /** How many of the window's events, from its head, may be delivered now. */
  deliverable: number;
  /** Set when the head itself must wait (deliverable is then 0). */
  wait: LaneWait | null;
}

export interface CrossLaneOrderOptions {
  store: CrossLaneQueue;
  workerId: string;
  now: () => number;
  /** Look for due lanes (called when a lane held back is due again). */
  wake: () => void;
  /** A head was held back (the worker's `waiting` event). */
  onWait: (wait: LaneWait) => void;
  /** The store failed (the worker's `problem` event). */
  onProblem: (error: unknown) => void;
  /** First delay of a lane held back, ms; doubles with each wait of the same event up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

const FIELDS: readonly LinkedIdField[] = ['anonymousId', 'userId', 'previousId'];
/** Events whose waits are remembered (for the growing delay); the oldest are forgotten beyond it. */
const MAX_REMEMBERED = 10_000;

export class CrossLaneOrder {
  private readonly options: CrossLaneOrderOptions;
  private readonly store: CrossLaneQueue;
  private readonly now: () => number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** Event id → times held back; forgotten once the event is let through. */
  private readonly waits = new Map<number, number>();

  constructor(options: CrossLaneOrderOptions) {
    this.options = options;
    this.store = options.store;
    this.now = options.now;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = Math.max(this.baseDelayMs, options.maxDelayMs ?? 4000);
  }

  /**
   * The part of a leased lane's window that may be delivered now, from its head. Empty when the
   * head waits: the lane has then been given back, due again a little later (`givenBack`; false
   * when the store failed, and the worker releases it as usual). A store failure while checking
   * lets the window through: the lanes go on as unordered as before, rather than stall.
   */
  async admit(events: QueuedEvent[]): Promise<{ events: QueuedEvent[]; givenBack: boolean }> {
    let order: OrderCheck;
    try {
      order = await this.check(events);
    } catch (error) {
      this.options.onProblem(error);
      return { events, givenBack: false };
    }
    if (order.wait === null) return { events: events.slice(0, order.deliverable), givenBack: false };
    const wait = order.wait;
    try {
      await this.store.deferLane(this.options.workerId, wait.lane, wait.dueAt);
    } catch (error) {
      this.options.onProblem(error);
      return { events: [], givenBack: false };
    }
    this.options.onWait(wait);
    this.wakeAt(wait.dueAt);
    return { events: [], givenBack: true };
  }

  /**
   * Wakes the worker once its clock (the one claims compare next_run_at with) says `dueAt` has
   * come. A timer counts another clock: it may fire a millisecond before Date.now() gets there,
   * or long before after the wall clock is stepped back; a claim then finds the lane not due,
   * and nothing but the poll would look again.
   */
  private wakeAt(dueAt: number): void {
    const left = dueAt - this.now();
    if (left <= 0) this.options.wake();
    else setTimeout(() => this.wakeAt(dueAt), left).unref();
  }

  /**
   * How much of a lane's window (its head events, oldest first, one destination) may go now. One
   * query per window that carries other ids (none otherwise); a second only when the head waits,
   * for the exact count.
   */
  async check(events: QueuedEvent[]): Promise<OrderCheck> {
    const head = events[0];
    if (head === undefined) return { deliverable: 0, wait: null };
    const linked = events.map(linkedLanes);
    const keys = [...new Set(linked.flatMap((l) => l.map((x) => x.laneKey)))];
    if (keys.length === 0) return this.letThrough(events, events.length);
    const lastLinked = Math.max(...events.filter((_, i) => linked[i]!.length > 0).map((e) => e.id));
    const earlier = await this.store.earlierUnsettled(head.destinationId, keys, lastLinked);
    const oldest = new Map(earlier.map((e) => [e.laneKey, e.oldestId]));
    const blocked = events.findIndex((e, i) => linked[i]!.some((l) => (oldest.get(l.laneKey) ?? Infinity) < e.id));
    if (blocked === -1) return this.letThrough(events, events.length);
    // Deliver those before it first; the next window starts at the one held back and checks again.
    if (blocked > 0) return this.letThrough(events, blocked);
    const by = linked[0]!.find((l) => (oldest.get(l.laneKey) ?? Infinity) < head.id)!;
    const count =
      lastLinked === head.id
        ? earlier.find((e) => e.laneKey === by.laneKey)!.count
        : ((await this.store.earlierUnsettled(head.destinationId, [by.laneKey], head.id))[0]?.count ?? 0);
    // Settled meanwhile (between the two reads): nothing to wait for.
    if (count === 0) return this.letThrough(events, 1);
    const waits = (this.waits.get(head.id) ?? 0) + 1;
    this.remember(head.id, waits);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (waits - 1));
    const lane = { destinationId: head.destinationId, laneKey: head.laneKey };
    const note = `waiting for ${count} earlier event${count === 1 ? '' : 's'} of its ${by.field}'s lane`;
    return { deliverable: 0, wait: { lane, eventId: head.id, field: by.field, earlier: count, dueAt: this.now() + delay, waits, note } };
  }

  private letThrough(events: QueuedEvent[], deliverable: number): OrderCheck {
    if (this.waits.size > 0) for (const e of events.slice(0, deliverable)) this.waits.delete(e.id);
    return { deliverable, wait: null };
  }

  private remember(eventId: number, waits: number): void {
    this.waits.delete(eventId);
    this.waits.set(eventId, waits);
    if (this.waits.size > MAX_REMEMBERED) this.waits.delete(this.waits.keys().next().value!);
  }
}

/**
 * Whether a wait is one to tell an operator of: the 16th of an event (with the default delays,
 * about a minute held back), then every 75th (about five minutes more). The others are routine.
 */
export function longWait(waits: number): boolean {
  return waits >= 16 && (waits - 16) % 75 === 0;
}

/** The lanes an event's other ids name: its anonymousId (or userId, or an alias's previousId) when not its own lane. */
export function linkedLanes(event: QueuedEvent): Array<{ field: LinkedIdField; laneKey: string }> {
  const out: Array<{ field: LinkedIdField; laneKey: string }> = [];
  const payload = event.payload as Record<string, unknown>;
  for (const field of FIELDS) {
    const value = payload[field];
    if (typeof value === 'string' && value !== '' && value !== event.laneKey && !out.some((o) => o.laneKey === value)) out.push({ field, laneKey: value });
  }
  return out;
}
