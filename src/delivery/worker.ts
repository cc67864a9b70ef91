import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Outcome } from '../destination/outcome.ts';
import { withGateWaitListener, type GateWaitListener } from './gate-wait.ts';
import { availabilityOf, OutageRecovery } from './outage-recovery.ts';
import { RetryPolicy } from './retry-policy.ts';
import { deliverHeadGroup, type DeliverGroup } from './coalesce.ts';
import { isFinal, settledHead, type Delivered, type DeliveryResult } from './lane-run.ts';
import { systemClock, type Clock, type LaneLease, type LaneQueue, type LaneRef, type QueuedEvent, type Settlement } from './store.ts';

export type { DeliveryResult } from './lane-run.ts';

/** Delivers one event to its destination; the destination module decides the outcome. */
export type Deliver = (destinationId: string, event: QueuedEvent) => Promise<DeliveryResult>;

export interface DeliveryWorkerOptions {
  store: LaneQueue;
  deliver: Deliver;
  /**
   * Delivers a lane's head with the queued events after it that go in the same call (coalesce.ts);
   * absent: one event at a time with `deliver`.
   */
  deliverGroup?: DeliverGroup;
  /** Lanes delivering at once, not counting those waiting in the rate gate (waitingLanes). */
  concurrency?: number;
  /**
   * Lanes that may wait in the rate gate for their endpoint's budget on top of `concurrency`,
   * so that a lane waiting for one saturated endpoint does not hold a slot that a lane needing
   * another could use. Lanes held at once: at most concurrency + waitingLanes. Default:
   * `concurrency`.
   */
  waitingLanes?: number;
  /**
   * Whether an event's endpoint is crowded (at least `atLeast` requests and a second of its
   * budget already waiting in the rate gate): its lane then yields, released to the back of the
   * due lanes, so that the worker can reach lanes that need other endpoints (decisions.md). The
   * registry's `crowded`; without it no lane yields.
   */
  crowded?: (event: QueuedEvent, atLeast: number) => boolean;
  /** How long a claimed lane stays ours without renewal; a dead worker's lanes return after it. */
  leaseMs?: number;
  /** Backstop for wake-ups that cannot reach us (other processes, retry times coming due). */
  pollMs?: number;
  retryPolicy?: RetryPolicy;
  clock?: Clock;
  workerId?: string;
  /** Least time between two wakes of one destination's waiting lanes after an outage. Default 10 s. */
  outageWakeIntervalMs?: number;
  /** Head events read per lane with each claim or settle (one round trip for all). Default 16. */
  window?: number;
  /**
   * Longest a delivered event waits for the next ones of its lane to be settled with it, ms: a
   * run ends at the end of the window, at a retry or pause, or once this long has passed since
   * it began. Default 0: each event is settled before its lane's next is delivered, so a crash
   * sends again only what was in flight. More settles a lane's consecutive events together (one
   * transaction), at the price of sending up to a run again after a crash.
   */
  settleDelayMs?: number;
}

/** What happened to one attempt, for metrics and logs. */
export interface SettledEvent {
  destinationId: string;
  event: QueuedEvent;
  outcome: Outcome;
  /** What the queue recorded: `failed` also when retries ran out. */
  settlement: Settlement;
  /** False when the event had already been settled elsewhere (our lease had run out). */
  applied: boolean;
  durationMs: number;
  /** From receipt to this final settlement; null while the event is still queued. */
  latencyMs: number | null;
}

export interface DeliveryWorkerEvents {
  settled: [SettledEvent];
  /** The store failed under us; the worker carries on and the lease brings the lane back. */
  problem: [unknown];
  /** Sailthru answered again after an outage: lanes that were waiting out a retry were made due. */
  recovered: [{ destinationId: string; lanes: number }];
}

interface ActiveLane {
  lane: LaneRef;
  lost: boolean;
  /**
   * Until when we can vouch for our lease (the claim's, then each successful renewal's). Past
   * it, another worker may have the lane: finish the event in hand and stop.
   */
  validUntil: number;
  /** This worker claimed the lane again while its loop was still running (see startLane). */
  claimedAgain: boolean;
  /** The head events that claim read, for the loop to go on with. */
  reclaimed: QueuedEvent[];
  done: Promise<void>;
  /** Requests of this lane now waiting in the rate gate (see waitingInGate). */
  gateWaits: number;
  /** The lane stopped before a head whose endpoint is crowded: it is given back (shouldYield). */
  yielded: boolean;
  /** The loop has ended (it may be giving the lane back): a claim now cannot join it. */
  ending: boolean;
}

/**
 * Yields a worker may make per event it settles for good (and at most `concurrency` saved up).
 * A yield costs a release and a place in a later claim; when every due lane needs a crowded
 * endpoint, yielding finds nothing, and this bounds what the search costs the store: at most one
 * extra write per event delivered.
 */
const YIELDS_PER_SETTLED_EVENT = 1;

/**
 * Claims due lanes and delivers each lane's events one at a time, strictly in id order. A
 * failing event holds its own lane until it succeeds or is dead-lettered; other lanes go on.
 * A claim brings a window of each lane's head events; the events delivered from it are settled
 * together (a run), and that same round trip brings the next window or gives the lane back.
 */
export class DeliveryWorker extends EventEmitter<DeliveryWorkerEvents> {
  readonly workerId: string;
  private readonly store: LaneQueue;
  private readonly deliver: Deliver;
  private readonly deliverGroup: DeliverGroup | undefined;
  private readonly concurrency: number;
  private readonly waitingLanes: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly recovery: OutageRecovery;
  private readonly window: number;
  private readonly settleDelayMs: number;
  private readonly crowded: ((event: QueuedEvent, atLeast: number) => boolean) | null;
  /**
   * Lanes in one endpoint's line before it counts as crowded: half the lanes this worker may
   * hold. Two endpoints that bind together then fill what it holds between them, and it stops
   * claiming (and yielding) until one of them runs short; a lower mark would leave room that
   * the claim loop fills with lanes only to give them back.
   */
  private readonly crowdAt: number;
  /** Yields allowed now (YIELDS_PER_SETTLED_EVENT). */
  private yieldCredit: number;
  /** The last claim found as many lanes as it asked for: others may be waiting. */
  private moreDue = true;
  private yields = 0;
  /** Outage wakes still running (see wakeRetrying), and give-backs of lanes claimed as their loop ended (startLane). */
  private readonly waking = new Set<Promise<void>>();
  private readonly active = new Map<string, ActiveLane>();
  /**
   * Lanes of `active` whose delivery is waiting in the rate gate for its endpoint's budget:
   * they do not count against `concurrency` (decisions.md, "A lane waiting for its endpoint's
   * budget gives up its slot"), only against concurrency + waitingLanes.
   */
  private readonly waitingInGate = new Set<ActiveLane>();
  /** Destinations found paused while lanes of theirs were in flight: those lanes stop early. */
  private readonly pausedHere = new Set<string>();
  private running = false;
  private stopping = false;
  /** The running claim loop, if any; wake() only asks it for one more round. */
  private claimLoop: Promise<void> | null = null;
  private claimRequested = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(options: DeliveryWorkerOptions) {
    super();
    this.store = options.store;
    this.deliver = options.deliver;
    this.deliverGroup = options.deliverGroup;
    this.concurrency = options.concurrency ?? 32;
    this.waitingLanes = Math.max(0, options.waitingLanes ?? this.concurrency);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1000;
    this.policy = options.retryPolicy ?? new RetryPolicy();
    this.clock = options.clock ?? systemClock;
    const interval = options.outageWakeIntervalMs;
    this.recovery = new OutageRecovery({ now: () => this.clock.now(), ...(interval === undefined ? {} : { minIntervalMs: interval }) });
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.window = Math.max(1, options.window ?? 16);
    this.settleDelayMs = options.settleDelayMs ?? 0;
    this.crowded = options.crowded ?? null;
    this.crowdAt = Math.max(1, Math.ceil((this.concurrency + this.waitingLanes) / 2));
    this.yieldCredit = this.concurrency;
  }

  /** Lanes given back so far because their head's endpoint was crowded. */
  get yielded(): number {
    return this.yields;
  }

  /** Lanes held: delivering or waiting in the rate gate. */
  get inFlight(): number {
    return this.active.size;
  }

  /** Lanes of inFlight waiting in the rate gate for their endpoint's budget. */
  get waitingForBudget(): number {
    return this.waitingInGate.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.unsubscribe = this.store.onWorkAvailable(() => this.wake());
    this.pollTimer = setInterval(() => this.wake(), this.pollMs);
    this.pollTimer.unref();
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
    this.wake();
  }

  /** Look for due lanes now (appends in this process call it through onWorkAvailable). */
  wake(): void {
    if (!this.running || this.stopping) return;
    this.claimRequested = true;
    if (this.claimLoop) return;
    this.claimLoop = this.claimWhileAsked();
  }

  /** Stop claiming, finish the events in flight, give the lanes back, then resolve. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    await this.claimLoop;
    // Leases keep being renewed while the last events finish.
    await Promise.all([...this.active.values()].map((a) => a.done));
    await Promise.all(this.waking);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.leaseTimer = null;
    this.running = false;
  }

  private async claimWhileAsked(): Promise<void> {
    // Let wake() store this promise before the loop can end (and clear it) synchronously.
    await Promise.resolve();
    try {
      // No await between the last check of claimRequested and clearing claimLoop: no wake is lost.
      while (this.claimRequested && !this.stopping) {
        this.claimRequested = false;
        await this.claimOnce();
      }
    } finally {
      this.claimLoop = null;
    }
  }

  private async claimOnce(): Promise<void> {
    // With every slot busy, a finishing lane (or one starting to wait in the rate gate) wakes us
    // again. Lanes waiting in the gate leave their slot to another lane; they are bounded apart.
    const delivering = this.active.size - this.waitingInGate.size;
    const free = Math.min(this.concurrency - delivering, this.concurrency + this.waitingLanes - this.active.size);
    if (free <= 0) return;
    let lanes: LaneLease[];
    try {
      lanes = await this.store.claimLanes(this.workerId, free, this.leaseMs, this.window);
    } catch (error) {
      this.emit('problem', error);
      return;
    }
    // Fewer lanes than asked for: none is left due, so a lane yielding would find no other.
    this.moreDue = lanes.length >= free;
    const giveBack: Promise<void>[] = [];
    for (const lane of lanes) {
      // Claims only return lanes of unpaused destinations: a resume has happened.
      this.pausedHere.delete(lane.destinationId);
      if (this.stopping) giveBack.push(this.release(lane));
      else this.startLane(lane);
    }
    // stop() waits for this claim, so lanes claimed while stopping are back before it resolves.
    await Promise.all(giveBack);
  }

  private startLane(lease: LaneLease): void {
    const key = laneId(lease);
    const running = this.active.get(key);
    if (running?.ending) {
      // Claimed again (it was due at once) while its loop is giving it back: that release may
      // come before or after this claim, so this lease is not one to deliver under. Once the
      // loop is gone, give back what we may still hold, unless a loop of ours holds it again.
      const giveBack = running.done.then(() => {
        if (!this.active.has(key)) return this.release({ destinationId: lease.destinationId, laneKey: lease.laneKey });
      });
      // stop() waits for it, so it never reaches a store that has been closed.
      this.waking.add(giveBack);
      void giveBack.finally(() => this.waking.delete(giveBack));
      return;
    }
    if (running) {
      // We claimed again a lane whose loop is still running here (its lease ran out, or it just
      // handed the lane back for a retry that is already due): the claim is a fresh lease for
      // that loop, which carries on with it. Never a second loop for the same user.
      running.lost = false;
      running.validUntil = Math.max(running.validUntil, lease.leaseUntil.getTime());
      running.claimedAgain = true;
      running.reclaimed = lease.events;
      return;
    }
    const lane: LaneRef = { destinationId: lease.destinationId, laneKey: lease.laneKey };
    const entry: ActiveLane = {
      lane,
      lost: false,
      validUntil: lease.leaseUntil.getTime(),
      claimedAgain: false,
      reclaimed: [],
      done: Promise.resolve(),
      gateWaits: 0,
      yielded: false,
      ending: false,
    };
    this.active.set(key, entry);
    entry.done = this.runLane(entry, lease.events)
      .catch((error: unknown) => {
        this.emit('problem', error);
      })
      .finally(() => {
        if (this.active.get(key) === entry) this.active.delete(key);
        this.waitingInGate.delete(entry);
        this.wake();
      });
  }

  private async runLane(entry: ActiveLane, claimed: QueuedEvent[]): Promise<void> {
    const { lane } = entry;
    let events = claimed;
    let givenBack = false;
    try {
      while (events.length > 0) {
        entry.yielded = false;
        const run = await this.deliverRun(events, entry);
        // Nothing delivered (a yield, a stop, a pause): the lane is released below.
        if (run.length === 0) break;
        const last = run[run.length - 1]!.settlement;
        const goOn = isFinal(last) && !this.stopping && !this.pausedHere.has(lane.destinationId) && !entry.yielded;
        // Only a claim made after this settle hands the lane back counts as claimed again.
        entry.claimedAgain = false;
        // Events of the window still to deliver: go on with them, no need to read more yet.
        const rest = events.slice(run.length);
        // A lane whose lease may have run out is left as it is: another worker may hold it.
        const then = entry.lost ? 'keep' : !goOn ? 'release' : rest.length > 0 ? 'keep' : 'continue';
        const result = await this.store.settleLane({ lane, workerId: this.workerId, heads: run.map(settledHead), then, window: this.window });
        this.reportRun(run, result.applied);
        if (entry.lost) return;
        if (result.released && entry.claimedAgain) {
          // Handed back and already claimed again by us (due at once): go on with that claim,
          // whose window starts at the head that handed it back (a retry). Only events settled
          // for good are left out (a claim made once our lease had run out may still show them).
          const settled = new Set(run.filter((d) => isFinal(d.settlement)).map((d) => d.head.id));
          events = entry.reclaimed.filter((e) => !settled.has(e.id));
          entry.claimedAgain = false;
          continue;
        }
        givenBack = result.released;
        if (givenBack || !goOn) return;
        events = then === 'continue' ? result.next : rest;
      }
    } finally {
      entry.ending = true;
      // A claim that found no event (its window empty), a stop, a pause or a yield before any delivery.
      if (!givenBack && !entry.lost) await this.release(lane);
    }
  }

  /** Delivers a run of the lane's head events in order: up to a retry or pause, the window's end, or settleDelayMs. */
  private async deliverRun(events: QueuedEvent[], entry: ActiveLane): Promise<Delivered[]> {
    const run: Delivered[] = [];
    const t0 = performance.now();
    while (run.length < events.length) {
      const head = events[run.length]!;
      if (this.stopping || entry.lost || this.pausedHere.has(head.destinationId)) break;
      if (this.clock.now() >= entry.validUntil) {
        entry.lost = true;
        break;
      }
      if (run.length > 0 && performance.now() - t0 >= this.settleDelayMs) break;
      if (this.shouldYield(head)) {
        entry.yielded = true;
        break;
      }
      const delivered = await this.deliverNext(events.slice(run.length), entry);
      run.push(...delivered);
      if (!isFinal(delivered[delivered.length - 1]!.settlement)) break;
    }
    return run;
  }

  /**
   * The head alone, or with the queued events after it that coalesce with it (issue 19), under
   * the lane's gate-wait listener (waiting in the rate gate frees its slot: gateWaitListenerOf).
   */
  private async deliverNext(heads: QueuedEvent[], entry: ActiveLane): Promise<Delivered[]> {
    const deliverGroup = this.deliverGroup;
    if (deliverGroup === undefined || heads.length < 2) return [await this.deliverOne(heads[0]!, entry)];
    return withGateWaitListener(this.gateWaitListenerOf(entry), () =>
      deliverHeadGroup(heads, deliverGroup, () => this.clock.now(), (head, outcome, startedAt, durationMs) => this.delivered(head, outcome, startedAt, durationMs)),
    );
  }

  private async deliverOne(head: QueuedEvent, entry: ActiveLane): Promise<Delivered> {
    const startedAt = this.clock.now();
    const t0 = performance.now();
    let outcome: DeliveryResult;
    try {
      outcome = await withGateWaitListener(this.gateWaitListenerOf(entry), () => this.deliver(head.destinationId, head));
    } catch (error) {
      // A bug or an unexpected throw must not lose the event or wedge the lane: retry it.
      outcome = { state: 'retry', reason: `delivery threw: ${errorMessage(error)}`, calls: [], warnings: [] };
    }
    return this.delivered(head, outcome, startedAt, performance.now() - t0);
  }

  private delivered(head: QueuedEvent, outcome: DeliveryResult, startedAt: number, durationMs: number): Delivered {
    const settlement = this.settlementFor(head, outcome, startedAt);
    if (settlement.state === 'paused') this.pausedHere.add(head.destinationId);
    return { head, outcome, settlement, startedAt, durationMs };
  }

  /**
   * Keeps waitingInGate: a lane is in it while any request of its delivery waits in the rate
   * gate. Starting to wait frees its slot, so another lane is claimed; when let through, it
   * delivers at once (its point is taken) even if that puts more than `concurrency` lanes
   * delivering for a moment: the rate limit, not the slot, bounds what reaches Sailthru.
   */
  private gateWaitListenerOf(entry: ActiveLane): GateWaitListener {
    return {
      waiting: () => {
        entry.gateWaits++;
        // A request left behind by a delivery that has already returned counts for nothing.
        if (this.active.get(laneId(entry.lane)) !== entry || this.waitingInGate.has(entry)) return;
        this.waitingInGate.add(entry);
        this.wake();
      },
      granted: () => {
        entry.gateWaits = Math.max(0, entry.gateWaits - 1);
        if (entry.gateWaits === 0) this.waitingInGate.delete(entry);
      },
    };
  }

  /**
   * A lane yields before a head whose endpoint is crowded when this worker holds all the lanes it
   * may, other lanes are due and the credit allows: it is released (not settled: the head is not attempted), and its place goes
   * to a lane that may need another endpoint. Released lanes are due again at once but behind
   * every lane already due (claims take the oldest due time first), so lanes take turns. The
   * crowded endpoint loses nothing: a second of its budget is already waiting in line.
   */
  private shouldYield(head: QueuedEvent): boolean {
    if (this.crowded === null || !this.moreDue || this.yieldCredit < 1) return false;
    // With room to claim, a lane waiting in the gate keeps no other lane out: no need to yield.
    if (this.active.size < this.concurrency + this.waitingLanes) return false;
    if (!this.crowded(head, this.crowdAt)) return false;
    this.yieldCredit--;
    this.yields++;
    return true;
  }

  /** After a run's settle: outage recovery, and one `settled` event per head. */
  private reportRun(run: Delivered[], applied: boolean[]): void {
    const settled = run.filter((d) => isFinal(d.settlement)).length;
    this.yieldCredit = Math.min(this.concurrency, this.yieldCredit + YIELDS_PER_SETTLED_EVENT * settled);
    run.forEach(({ head, outcome, settlement, durationMs }, i) => {
      if (this.recovery.record(head.destinationId, head.laneKey, availabilityOf(outcome))) this.wakeRetrying(head.destinationId);
      this.emit('settled', {
        destinationId: head.destinationId,
        event: head,
        outcome,
        settlement,
        applied: applied[i] ?? false,
        durationMs,
        latencyMs: isFinal(settlement) ? Math.max(0, this.clock.now() - head.receivedAt.getTime()) : null,
      });
    });
  }

  private settlementFor(head: QueuedEvent, outcome: DeliveryResult, startedAt: number): Settlement {
    switch (outcome.state) {
      case 'delivered':
        return { state: 'delivered' };
      case 'skipped':
        return { state: 'skipped', reason: outcome.reason };
      case 'failed':
        return { state: 'failed', reason: outcome.reason };
      case 'paused':
        return outcome.settingsVersion === undefined
          ? { state: 'paused', reason: outcome.reason }
          : { state: 'paused', reason: outcome.reason, settingsVersion: outcome.settingsVersion };
      case 'retry': {
        const decision = this.policy.decide({
          attempts: head.attempts + 1,
          firstAttemptAt: head.firstAttemptAt ?? new Date(startedAt),
          now: new Date(this.clock.now()),
          retryAfterMs: outcome.retryAfterMs,
          reason: outcome.reason,
        });
        return decision.retry
          ? { state: 'retrying', reason: outcome.reason, nextAttemptAt: decision.at }
          : { state: 'failed', reason: decision.reason };
      }
    }
  }

  private async renewLeases(): Promise<void> {
    const entries = [...this.active.values()].filter((a) => !a.lost);
    if (entries.length === 0) return;
    const asked = this.clock.now();
    try {
      const held = new Set((await this.store.renewLeases(this.workerId, entries.map((e) => e.lane), this.leaseMs)).map(laneId));
      for (const entry of entries) {
        if (held.has(laneId(entry.lane))) entry.validUntil = Math.max(entry.validUntil, asked + this.leaseMs);
        // Another worker may own it now: finish the event in hand, then leave the lane alone.
        if (!held.has(laneId(entry.lane)) && this.active.get(laneId(entry.lane)) === entry) entry.lost = true;
      }
    } catch (error) {
      this.emit('problem', error);
    }
  }

  /** stop() waits for it, so it never reaches a store that has been closed. */
  private wakeRetrying(destinationId: string): void {
    const waking = this.store.wakeRetryingLanes(destinationId).then(
      (lanes) => {
        if (lanes > 0) this.emit('recovered', { destinationId, lanes });
      },
      (error: unknown) => {
        // The lanes still come back at their own retry times.
        this.emit('problem', error);
      },
    );
    this.waking.add(waking);
    void waking.finally(() => this.waking.delete(waking));
  }

  private async release(lane: LaneRef): Promise<void> {
    try {
      await this.store.releaseLane(this.workerId, lane);
    } catch (error) {
      this.emit('problem', error);
    }
  }
}

function laneId(lane: LaneRef): string {
  return JSON.stringify([lane.destinationId, lane.laneKey]);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
