import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { CREDENTIALS, basic, stackEnv } from './harness.ts';
import { freePort, metric, startChild, type ChildServer } from './child-server.ts';

// Issue 4's crash test: a real `serve` process is killed with SIGKILL while it ingests and
// delivers, then restarted on the same database. Every event that got a 200 must be delivered;
// an event may be delivered twice only if it was in flight at the kill, so duplicates are bounded
// by the lanes a process holds (DELIVERY_CONCURRENCY + DELIVERY_WAITING_LANES) per kill.
const USERS = 50;
const ROUNDS = 40; // batches; batch r holds event r of every user
const KILL_AFTER = [8, 22]; // batch numbers after which the server is killed
const CONCURRENCY = 8;
/** Lanes that may wait in the rate gate on top of CONCURRENCY: a process holds (and can have in flight) at most the sum. */
const WAITING_LANES = CONCURRENCY;
const LANES_HELD = CONCURRENCY + WAITING_LANES;

let emulator: RunningEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({
    apiKey: CREDENTIALS.apiKey,
    secret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    limits: { 'POST /event': 1_000_000 },
    // Slow enough that the kills land while deliveries are in flight.
    faults: { latencyMs: 5 },
  });
  dir = mkdtempSync(join(tmpdir(), 'st-crash-'));
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function postUntilStored(server: () => ChildServer, body: unknown, key: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const res = await fetch(`${server().url}/v1/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...basic(key) },
        body: JSON.stringify(body),
      });
      if (res.status === 200) return;
    } catch {
      // The server is down (killed); the loop retries as a Segment client would.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('batch never stored');
}

describe('SIGKILL during ingest and delivery', () => {
  it('delivers every acknowledged event after a restart, with duplicates only from in-flight events', async () => {
    const port = String(await freePort());
    const env = stackEnv(emulator.url, dir, {
      PORT: port,
      DELIVERY_CONCURRENCY: String(CONCURRENCY),
      DELIVERY_WAITING_LANES: String(WAITING_LANES),
      SAILTHRU_RATE_LIMITS: 'POST=100000',
      LEASE_MS: '2000',
      RETRY_BASE_MS: '20',
      LOG_LEVEL: 'warn',
    });
    let server = await startChild(['serve'], env);
    let kills = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const batch = Array.from({ length: USERS }, (_, u) => ({
        type: 'track',
        userId: `crash-user-${u}`,
        messageId: `crash-${u}-${round}`,
        event: 'Tick',
        properties: { seq: round },
      }));
      await postUntilStored(() => server, { batch }, 'e2e-write-key');
      if (KILL_AFTER.includes(round)) {
        server.process.kill('SIGKILL');
        expect((await server.exited).signal).toBe('SIGKILL');
        kills++;
        server = await startChild(['serve'], env);
      }
    }

    const deadline = Date.now() + 90_000;
    while ((await metric(server.url, 'sailthru_destination_backlog_events')) > 0) {
      if (Date.now() > deadline) throw new Error('backlog did not drain');
      await new Promise((r) => setTimeout(r, 200));
    }
    server.process.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);

    const applied = new Map<string, number[]>();
    for (const r of emulator.requests({ path: '/event' })) {
      if (r.status !== 200) continue;
      const p = r.payload as { id: string; vars: { seq: number } };
      applied.set(p.id, [...(applied.get(p.id) ?? []), p.vars.seq]);
    }
    let duplicates = 0;
    const all = Array.from({ length: ROUNDS }, (_, i) => i);
    for (let u = 0; u < USERS; u++) {
      const seqs = applied.get(`crash-user-${u}`) ?? [];
      // Order kept: a re-delivery can only repeat the event that was in flight, right after it.
      const collapsed = seqs.filter((s, i) => i === 0 || s !== seqs[i - 1]);
      expect({ user: u, seqs: collapsed }).toEqual({ user: u, seqs: all });
      duplicates += seqs.length - collapsed.length;
    }
    // At most one in-flight event per lane in flight, per kill.
    expect(kills).toBe(KILL_AFTER.length);
    expect(duplicates).toBeLessThanOrEqual(LANES_HELD * KILL_AFTER.length);
    console.log(`crash test: ${USERS * ROUNDS} events, ${KILL_AFTER.length} SIGKILLs, ${duplicates} duplicate deliveries`);
  }, 180_000);
});
