import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { openStore } from '../../src/delivery/open-store.ts';
import { CREDENTIALS, basic, stackEnv } from './harness.ts';
import { freePort, startChild } from './child-server.ts';

// Graceful shutdown: on SIGTERM the server refuses new events (503), finishes the deliveries in
// flight, settles them, and exits 0 — so a restart never delivers anything twice.
let emulator: RunningEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({
    apiKey: CREDENTIALS.apiKey,
    secret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    limits: { 'POST /event': 1_000_000 },
    faults: { latencyMs: 300 },
  });
  dir = mkdtempSync(join(tmpdir(), 'st-shutdown-'));
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SIGTERM', () => {
  it('answers 503 to new events, settles what is in flight, and exits 0', async () => {
    const env = stackEnv(emulator.url, dir, { PORT: String(await freePort()), SAILTHRU_RATE_LIMITS: 'POST=100000', LOG_LEVEL: 'info' });
    const server = await startChild(['serve'], env);
    const batch = Array.from({ length: 40 }, (_, i) => ({ type: 'track', userId: `sd-${i % 20}`, messageId: `sd-${i}`, event: 'Slow' }));
    const stored = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic('e2e-write-key') },
      body: JSON.stringify({ batch }),
    });
    expect(stored.status).toBe(200);

    // Wait until deliveries are in flight (the emulator holds each for 300 ms).
    const deadline = Date.now() + 10_000;
    while (emulator.requests({ path: '/event' }).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    server.process.kill('SIGTERM');
    while (!server.output().includes('shutting down') && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 5));
    const during = await fetch(`${server.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic('e2e-write-key') },
      body: JSON.stringify({ batch: [{ type: 'track', userId: 'late', event: 'Late' }] }),
    }).then(
      (r) => r.status,
      () => 'refused' as const,
    );
    // Either the 503 of a closing server or a refused connection of a closed one; never a 200.
    expect([503, 'refused']).toContain(during);
    expect((await server.exited).code).toBe(0);

    // Every call Sailthru answered was settled as delivered before the exit.
    const store = await openStore(env.DATABASE_URL!);
    try {
      const delivered = (await store.search({ status: 'delivered', limit: 500 })).events.length;
      const answered = emulator.requests({ path: '/event' }).filter((r) => r.status === 200).length;
      expect(delivered).toBe(answered);
      expect(delivered).toBeGreaterThan(0);
      const late = await store.search({ laneKey: 'late' });
      expect(late.events).toHaveLength(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});
