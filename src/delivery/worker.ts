import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { withGateWaitListener, type GateWaitListener } from './gate-wait.ts';
import { availabilityOf, OutageRecovery } from './outage-recovery.ts';
import { RetryPolicy } from './retry-policy.ts';
import { deliverHeadGroup, type DeliverGroup } from './coalesce.ts';
import { LaneSlots } from './lane-slots.ts';
import { gateWaitListenerOf, laneId, type ActiveLane } from './active-lane.ts';
import { CrossLaneOrder, type LaneWait } from './cross-lane-order.ts';
import { isFinal, settledHead, settlementOf, type Delivered, type DeliveryResult } from './lane-run.ts';
import { systemClock, type Clock, type LaneLease, type LaneQueue, type LaneRef, type QueuedEvent } from './store.ts';

import type { Deliver, DeliveryWorkerEvents, DeliveryWorkerOptions } from './worker-options.ts';

export type { DeliveryResult } from './lane-run.ts';
export type { Deliver, DeliveryWorkerEvents, DeliveryWorkerOptions, SettledEvent } from './worker-options.ts';

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
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly policy: RetryPolicy;
  private readonly clock: Clock;
  private readonly recovery: OutageRecovery;
  private readonly window: number;
  private readonly settleDelayMs: number;
  /** Holds back a head whose other id's lane has earlier events unsettled (cross-lane-order.ts). */
  private readonly order: CrossLaneOrder;
  /** How many lanes this worker may hold, and when one yields (lane-slots.ts). */
  private readonly slots: LaneSlots<ActiveLane>;
  /** Outage wakes still running (see wakeRetrying), and give-backs of lanes claimed as their loop ended (startLane). */
  private readonly waking = new Set<Promise<void>>();
  private readonly active = new Map<string, ActiveLane>();
  /** Destinations found paused while lanes of theirs were in flight: those lanes stop early. */
  private readonly pausedHere = new Set<string>();
  private running = false;
  private stopping = false;
  /** The running claim loop, if any; wake() only asks it for one more round. */
  private claimLoop: Promise<void> | null = null;
  private claimRequested = false;
  /** The last claim found fewer due lanes than it had room for: a lane emptied then claims no more (decisions.md, issue 22). */
  private dry = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private leaseTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(options: DeliveryWorkerOptions) {
    super();
    this.store = options.store;
    this.deliver = options.deliver;
    this.deliverGroup = options.deliverGroup;
    const concurrency = options.concurrency ?? 32;
    this.slots = new LaneSlots({ concurrency, waitingLanes: options.waitingLanes ?? concurrency, crowded: options.crowded ?? null });
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1000;
    this.policy = options.retryPolicy ?? new RetryPolicy();
    this.clock = options.clock ?? systemClock;
    const interval = options.outageWakeIntervalMs;
    this.recovery = new OutageRecovery({ now: () => this.clock.now(), ...(interval === undefined ? {} : { minIntervalMs: interval }) });
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.window = Math.max(1, options.window ?? 16);
    this.settleDelayMs = options.settleDelayMs ?? 0;
    const report = { onWait: (wait: LaneWait) => this.emit('waiting', wait), onProblem: (error: unknown) => this.emit('problem', error) };
    this.order = new CrossLaneOrder({ store: this.store, workerId: this.workerId, now: () => this.clock.now(), wake: () => this.wake(), ...report });
  }

  /** Lanes given back so far because their head's endpoint was crowded. */
  get yielded(): number {
    return this.slots.yields;
  }

  /** Lanes held: delivering or waiting in the rate gate. */
  get inFlight(): number {
    return this.active.size;
  }

  /** Lanes of inFlight waiting in the rate gate for their endpoint's budget. */
  get waitingForBudget(): number {
    return this.slots.waiting;
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
    const free = this.slots.free(this.active.size);
    if (free <= 0) return;
    let lanes: LaneLease[];
    try {
      lanes = await this.store.claimLanes(this.workerId, free, this.leaseMs, this.window);
    } catch (error) {
      this.emit('problem', error);
      return;
    }
    this.slots.claimed(free, lanes.length);
    this.dry = lanes.length < free;
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
    let emptied = false;
    entry.done = this.runLane(entry, lease.events)
      .then((result) => void (emptied = result === 'emptied'), (error: unknown) => void this.emit('problem', error))
      .finally(() => {
        if (this.active.get(key) === entry) this.active.delete(key);
        this.slots.stopWaiting(entry);
        // Its slot is free: look again, unless nothing was due at the last look and it leaves nothing.
        if (!(emptied && this.dry)) this.wake();
      });
  }

  /** 'emptied': a continue found no next head, so the settle handed the lane back with nothing left (parked). */
  private async runLane(entry: ActiveLane, claimed: QueuedEvent[]): Promise<'emptied' | 'other'> {
    const { lane } = entry;
    let events = claimed;
    let givenBack = false;
    // Whether `events` passed the cross-lane check (a window's rest did, a fresh window has not).
    let checked = false;
    try {
      while (events.length > 0) {
        if (!checked) {
          // Those before a head held back go first; the next window starts at it (cross-lane-order.ts).
          ({ events, givenBack } = await this.order.admit(events));
          if (events.length === 0) return 'other';
          checked = true;
        }
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
        if (entry.lost) return 'other';
        if (result.released && entry.claimedAgain) {
          // Handed back and already claimed again by us (due at once): go on with that claim,
          // whose window starts at the head that handed it back (a retry). Only events settled
          // for good are left out (a claim made once our lease had run out may still show them).
          const settled = new Set(run.filter((d) => isFinal(d.settlement)).map((d) => d.head.id));
          events = entry.reclaimed.filter((e) => !settled.has(e.id));
          entry.claimedAgain = false;
          checked = false;
          continue;
        }
        givenBack = result.released;
        if (givenBack || !goOn) return givenBack && then === 'continue' ? 'emptied' : 'other';
        events = then === 'continue' ? result.next : rest;
        checked = then !== 'continue';
      }
      return 'other';
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
    const settlement = settlementOf(head, outcome, startedAt, this.policy, this.clock.now());
    if (settlement.state === 'paused') this.pausedHere.add(head.destinationId);
    return { head, outcome, settlement, startedAt, durationMs };
  }

  /** The lane's gate-wait listener (active-lane.ts): waiting in the rate gate frees its slot. */
  private gateWaitListenerOf(entry: ActiveLane): GateWaitListener {
    return gateWaitListenerOf(entry, this.slots, () => this.active.get(laneId(entry.lane)) === entry, () => this.wake());
  }

  /**
   * A lane yields before a head whose endpoint is crowded (LaneSlots.shouldYield): it is released
   * (not settled: the head is not attempted), and its place goes to a lane that may need another
   * endpoint. Released lanes are due again at once but behind every lane already due (claims take
   * the oldest due time first), so lanes take turns. The crowded endpoint loses nothing: a second
   * of its budget is already waiting in line.
   */
  private shouldYield(head: QueuedEvent): boolean {
    return this.slots.shouldYield(head, this.active.size);
  }

  /** After a run's settle: outage recovery, and one `settled` event per head. */
  private reportRun(run: Delivered[], applied: boolean[]): void {
    this.slots.settled(run.filter((d) => isFinal(d.settlement)).length);
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

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
