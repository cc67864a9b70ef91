import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RequestLogEntry, type RunningEmulator } from '../../src/emulator/index.ts';
import { startChild, type ChildServer } from '../e2e/child-server.ts';
import { CREDENTIALS, basic, postJson, stackEnv } from '../e2e/harness.ts';
import { TestSchema } from '../delivery/postgres-helpers.ts';
import { APPLIED_SQL as APPLIED } from '../reliability/support/delivered-sequences.ts';

/**
 * Issue "Distributed mode", done-when: 2 ingest processes (`serve --no-delivery`) and 3 workers
 * (`worker`) as real child processes on one PostgreSQL schema, sharing one Sailthru budget in
 * Redis; 10,000 events over 500 users posted to both ingest nodes while the emulator fails 5% of
 * calls; two workers are killed with SIGKILL mid-run (a replacement starts after the first).
 *
 * Checked: every event delivered, more than once only if it was in flight at a kill (bounded);
 * every user's calls in event order; the emulator never over its limit, and its per-second
 * arrivals within the shared per-second budget; the killed workers' lanes finished by others.
 */
const USERS = 500;
const PER_USER = 20;
const EVENTS = USERS * PER_USER;
/** Per-second budgets given to the destination (SAILTHRU_RATE_LIMITS), shared by all workers. */
const EVENT_PER_SECOND = 200;
const USER_PER_SECOND = 100;
/**
 * Headroom for the emulator's per-second count: a request granted in the last milliseconds of
 * one second can arrive in the next. Unshared budgets would show up to 3× (three workers).
 */
const IN_TRANSIT_SLACK = 1.25;
const CONCURRENCY = 16;
/** Lanes that may wait in the rate gate on top of CONCURRENCY: a process holds (and can have in flight) at most the sum. */
const WAITING_LANES = CONCURRENCY;
const LANES_HELD = CONCURRENCY + WAITING_LANES;
const WRITE_KEY = 'e2e-write-key';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let schema: TestSchema;
let emulator: RunningEmulator;
const children: ChildServer[] = [];

function env(): Record<string, string> {
  return {
    ...stackEnv(emulator.url, '/nonexistent'),
    DATABASE_URL: schema.url('&pool_max=6'),
    REDIS_URL,
    LEASE_MS: '3000',
    RETRY_BASE_MS: '50',
    DELIVERY_CONCURRENCY: String(CONCURRENCY),
    DELIVERY_WAITING_LANES: String(WAITING_LANES),
    SAILTHRU_RATE_LIMITS: `POST /event=${EVENT_PER_SECOND},POST /user=${USER_PER_SECOND}`,
    LOG_LEVEL: 'warn',
  };
}

async function start(role: 'ingest' | 'worker'): Promise<ChildServer> {
  const child = await startChild(role === 'ingest' ? ['serve', '--no-delivery'] : ['worker'], env(), 60_000);
  children.push(child);
  return child;
}

beforeAll(async () => {
  schema = new TestSchema();
  emulator = await startEmulator({
    apiKey: CREDENTIALS.apiKey,
    secret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    // Sailthru's own windows (a minute), so the X-Rate-Limit-* headers mean what the gate
    // expects; the budget in them equals the per-second one the destination was given.
    windowMs: 60_000,
    limits: { 'POST /event': EVENT_PER_SECOND * 60, 'POST /user': USER_PER_SECOND * 60 },
    faults: { failRate: 0.05, seed: 20261127 },
    maxRequestLog: 200_000,
  });
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
  await Promise.all(children.map((c) => c.exited));
  await emulator?.close();
  await schema?.dispose();
}, 60_000);

function eventFor(user: number, seq: number): Record<string, unknown> {
  const userId = `mp-user-${user}`;
  const messageId = `mp-${user}-${seq}`;
  return seq % 5 === 0
    ? { type: 'identify', userId, messageId, traits: { seq } }
    : { type: 'track', userId, messageId, event: 'Step', properties: { seq } };
}

async function count(sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await schema.admin.query<{ n: number }>(sql.replaceAll('$schema', schema.name), values);
  return rows[0]!.n;
}

const delivered = () => count(`SELECT count(*)::int AS n FROM $schema.events WHERE ${APPLIED}`);

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 100));
}

interface Kill {
  workerIds: string[];
  /** Lanes the victim held, with events still queued, when it was killed. */
  lanes: string[];
}

/**
 * SIGKILL a worker while it holds lanes with at least two queued events (so one is still queued
 * even if it settles another between our look and the kill); returns what it held.
 */
async function killHolding(victim: ChildServer): Promise<Kill> {
  const pid = victim.process.pid!;
  for (;;) {
    const { rows } = await schema.admin.query<{ leased_by: string; lane_key: string }>(
      `SELECT leased_by, lane_key FROM ${schema.name}.lanes WHERE leased_by LIKE $1 AND pending >= 2`,
      [`%:${pid}:%`],
    );
    if (rows.length > 0) {
      victim.process.kill('SIGKILL');
      await victim.exited;
      return { workerIds: [...new Set(rows.map((r) => r.leased_by))], lanes: rows.map((r) => r.lane_key) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ok(r: RequestLogEntry): boolean {
  return r.status === 200 && r.errorCode === null;
}

describe('distributed mode: 2 ingest nodes, 3 workers, PostgreSQL and Redis', () => {
  it('delivers 10,000 events over 500 users once each, in order, within the shared rate, through SIGKILLs', async () => {
    // The first process creates the declared destination; the others then find it.
    const ingest = [await start('ingest')];
    const started = await Promise.all([start('ingest'), start('worker'), start('worker'), start('worker')]);
    ingest.push(started[0]!);
    const workers = started.slice(1);

    // Round r carries every user's r-th event, split over both ingest nodes; a round is sent
    // only after the previous one was acknowledged, so each user's order is defined.
    for (let seq = 0; seq < PER_USER; seq++) {
      const round = Array.from({ length: USERS }, (_, u) => eventFor(u, seq));
      const answers = await Promise.all(
        [0, 1, 2, 3].map((part) =>
          postJson(`${ingest[part % 2]!.url}/v1/batch`, { batch: round.slice(part * 125, (part + 1) * 125) }, basic(WRITE_KEY)),
        ),
      );
      for (const answer of answers) expect(answer.status, answer.text).toBe(200);
    }
    expect(await count(`SELECT count(*)::int AS n FROM $schema.events`)).toBe(EVENTS);

    await waitFor(async () => (await delivered()) >= EVENTS * 0.2);
    const kills = [await killHolding(workers[0]!)];
    workers.push(await start('worker'));
    await waitFor(async () => (await delivered()) >= EVENTS * 0.55);
    kills.push(await killHolding(workers[1]!));
    await waitFor(async () => (await delivered()) >= EVENTS);

    // Nothing left queued, nothing dead-lettered.
    expect(await count(`SELECT count(*)::int AS n FROM $schema.events WHERE NOT ${APPLIED}`)).toBe(0);
    expect(await count(`SELECT coalesce(sum(pending), 0)::int AS n FROM $schema.lanes`)).toBe(0);

    // The killed workers' lanes were finished by the others.
    for (const kill of kills) {
      expect(kill.lanes.length).toBeGreaterThan(0);
      const finishedElsewhere = await count(
        `SELECT count(DISTINCT e.lane_key)::int AS n FROM $schema.events e
         JOIN $schema.attempts a ON a.event_id = e.id AND a.state = 'delivered'
         WHERE e.lane_key = ANY($1) AND a.worker_id <> ALL($2)`,
        [kill.lanes, kill.workerIds],
      );
      expect(finishedElsewhere).toBe(kill.lanes.length);
    }

    const requests = emulator.requests();
    const faulted = requests.filter((r) => !ok(r));
    // The faults happened (retries were exercised) and none of them was a 429.
    expect(faulted.length).toBeGreaterThan(requests.length * 0.02);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);

    // Every event applied at least once; more than once only for events in flight at a kill.
    const applied = new Map<string, number[]>();
    for (const r of requests) {
      if (!ok(r)) continue;
      const p = r.payload as { id: string; vars: { seq: number } };
      applied.set(p.id, [...(applied.get(p.id) ?? []), p.vars.seq]);
    }
    expect(applied.size).toBe(USERS);
    let duplicates = 0;
    const expected = Array.from({ length: PER_USER }, (_, i) => i);
    for (const [user, seqs] of applied) {
      // In order: a repeat can only be the event in flight at a kill, sent again at once.
      const distinct = seqs.filter((s, i) => i === 0 || s !== seqs[i - 1]);
      duplicates += seqs.length - distinct.length;
      expect({ user, seqs: distinct }).toEqual({ user, seqs: expected });
    }
    expect(duplicates).toBeLessThanOrEqual(kills.length * LANES_HELD);

    // The shared budget per second, as the emulator saw it arrive (all workers together).
    for (const [route, perSecond] of [
      ['POST /event', EVENT_PER_SECOND],
      ['POST /user', USER_PER_SECOND],
    ] as const) {
      const seconds = new Map<number, number>();
      for (const r of requests) {
        if (`${r.method} ${r.path}` !== route) continue;
        const second = Math.floor(Date.parse(r.time) / 1000);
        seconds.set(second, (seconds.get(second) ?? 0) + 1);
      }
      const busiest = Math.max(...seconds.values());
      console.info(`${route}: at most ${busiest} requests in one second (budget ${perSecond}/s); ${duplicates} repeated after kills`);
      // Without one shared counter (openSharedLimiter in the service) each worker spends the whole budget.
      expect(busiest, `${route}: ${busiest} requests in one second, over the shared budget`).toBeLessThanOrEqual(Math.floor(perSecond * IN_TRANSIT_SLACK));
    }
  }, 600_000);
});
