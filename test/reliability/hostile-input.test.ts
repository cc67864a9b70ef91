import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import type { EventStatus, StoredEvent } from '../../src/delivery/store.ts';
import { CREDENTIALS, basic, stackEnv } from '../e2e/harness.ts';
import { freePort, metric, startChild, type ChildServer } from '../e2e/child-server.ts';
import { reportFigures } from './support/figures.ts';
import { HostileRequests } from './support/hostile-requests.ts';
import { residentMb } from './support/process-memory.ts';
import { Random, seedFromEnv } from './support/random.ts';
import { STARTUP_MS, budgetMs, size } from './support/scale.ts';
import { slowClient, type SlowClientResult } from './support/slow-clients.ts';

// Issue 9, hostile input: a seeded fuzzer floods a real `serve` process (the CLI in a child) with
// hostile requests over many connections while slow-loris clients trickle bytes and idle
// connections pile up. The server must stay up, keep its memory bounded, answer every request
// 2xx or 4xx with a JSON body (never 5xx: the store is healthy), never echo a write key, and
// deliver every event it stored. (How soon the slow clients are cut is slow-clients.test.ts's.)
const REQUESTS = Number(process.env.RELIABILITY_FUZZ_REQUESTS ?? 0) || size(10_000, 100_000);
const PARALLEL = 32;
const SLOW_CLIENTS = size(20, 100);
const IDLE_CONNECTIONS = size(200, 1_000);
const SEED = seedFromEnv(424242);
const WRITE_KEY = 'e2e-write-key';

let emulator: RunningEmulator;
let dir: string;
let server: ChildServer;

beforeAll(async () => {
  emulator = await startEmulator({
    apiKey: CREDENTIALS.apiKey,
    secret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    limits: { 'POST /event': 100_000_000, 'POST /user': 100_000_000, 'POST /purchase': 100_000_000, 'POST /v1/track/event/pageview': 100_000_000 },
    maxRequestLog: 1_000,
  });
  dir = mkdtempSync(join(tmpdir(), 'st-rel-fuzz-'));
  server = await startChild(
    ['serve'],
    stackEnv(emulator.url, dir, {
      PORT: String(await freePort()),
      DELIVERY_CONCURRENCY: '32',
      RETRY_BASE_MS: '50',
      SAILTHRU_RATE_LIMITS: 'POST=100000,POST /user=100000,GET=100000',
      LOG_LEVEL: 'warn',
    }),
    STARTUP_MS,
  );
}, STARTUP_MS + 30_000);
afterAll(async () => {
  if (server && server.process.exitCode === null) {
    server.process.kill('SIGKILL');
    await server.exited;
  }
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Tally {
  requests: number;
  byStatus: Map<number, number>;
  byCategory: Map<string, number>;
  serverErrors: string[];
  notJson: string[];
  echoedKey: number;
  connectionErrors: Map<string, number>;
}

async function allEvents(path: string): Promise<StoredEvent[]> {
  const store = await openSqliteStore({ path });
  try {
    const events: StoredEvent[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await store.search({ limit: 500, ...(beforeId !== undefined ? { beforeId } : {}) });
      events.push(...page.events);
      if (page.nextBeforeId === null) return events;
      beforeId = page.nextBeforeId;
    }
  } finally {
    await store.close();
  }
}

describe('hostile input', () => {
  it(
    'stays up with bounded memory among slow and idle clients, answers 2xx/4xx JSON, and delivers what it stored',
    async () => {
      const pid = server.process.pid!;
      const origin = new URL(server.url).origin;
      const pool = new Pool(origin, { connections: PARALLEL, pipelining: 1 });
      const generator = new HostileRequests(new Random(SEED), WRITE_KEY);
      const tally: Tally = { requests: 0, byStatus: new Map(), byCategory: new Map(), serverErrors: [], notJson: [], echoedKey: 0, connectionErrors: new Map() };
      const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

      const send = async () => {
        const req = generator.next();
        bump(tally.byCategory, req.category);
        try {
          const res = await pool.request({ method: req.method as 'POST', path: req.path, headers: req.headers, body: req.body ?? null });
          const text = await res.body.text();
          tally.requests++;
          bump(tally.byStatus, res.statusCode);
          if (res.statusCode >= 500 || res.statusCode < 200 || (res.statusCode >= 300 && res.statusCode < 400)) {
            tally.serverErrors.push(`${req.category} ${req.method} ${req.path} → ${res.statusCode} ${text.slice(0, 200)}`);
          }
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const isErrorJson = typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'string';
          const isSuccessJson = typeof json === 'object' && json !== null && (json as { success?: unknown }).success === true;
          if (res.statusCode >= 400 ? !isErrorJson : !isSuccessJson) tally.notJson.push(`${req.category} → ${res.statusCode} ${text.slice(0, 120)}`);
          if (text.includes(WRITE_KEY)) tally.echoedKey++;
        } catch (error) {
          bump(tally.connectionErrors, `${req.category}: ${(error as { code?: string }).code ?? (error as Error).message}`);
        }
      };

      // Warm up, then take the baseline.
      for (let i = 0; i < 300; i++) await send();
      await new Promise((r) => setTimeout(r, 500));
      const baseline = residentMb(pid);
      let peakRss = baseline.rssMb;
      const sampler = setInterval(() => {
        try {
          peakRss = Math.max(peakRss, residentMb(pid).rssMb);
        } catch {
          // the process is gone: the health checks below fail the test
        }
      }, 200);
      let healthFailures = 0;
      let healthChecks = 0;
      const health = setInterval(() => {
        healthChecks++;
        fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
          (r) => r.status !== 200 && healthFailures++,
          () => healthFailures++,
        );
      }, 1_000);

      const auth = basic(WRITE_KEY).authorization!;
      let floodOver!: () => void;
      const until = new Promise<void>((resolve) => (floodOver = resolve));
      const slow: Array<Promise<SlowClientResult>> = [];
      for (let i = 0; i < SLOW_CLIENTS; i++) {
        slow.push(slowClient(server.url, 'slow-headers', { byteEveryMs: 1_000, giveUpMs: 600_000, authorization: auth, until }));
        slow.push(slowClient(server.url, 'slow-body', { byteEveryMs: 1_000, giveUpMs: 600_000, authorization: auth, until }));
      }
      const idle: Array<Promise<SlowClientResult>> = [];
      for (let i = 0; i < IDLE_CONNECTIONS; i++) idle.push(slowClient(server.url, 'idle', { byteEveryMs: 0, giveUpMs: 600_000, authorization: auth, until }));

      const started = Date.now();
      let remaining = REQUESTS - 300;
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (remaining > 0) {
            remaining--;
            await send();
          }
        }),
      );
      const floodSeconds = (Date.now() - started) / 1000;
      // The server is still healthy with the slow and idle clients connected; then they leave.
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      floodOver();
      const slowResults = await Promise.all(slow);
      const idleResults = await Promise.all(idle);
      clearInterval(health);
      clearInterval(sampler);
      await pool.close();

      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1_000));
      const after = residentMb(pid);

      // Everything stored is delivered (or refused by Sailthru for a reason of its own).
      const deadline = Date.now() + budgetMs(180_000, 1_200_000);
      while ((await metric(server.url, 'sailthru_destination_backlog_events')) > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
      }
      server.process.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);

      const events = await allEvents(join(dir, 'e2e.db'));
      const byStatus = new Map<EventStatus, number>();
      for (const e of events) bump(byStatus, e.status);
      const internal = events.filter((e) => /delivery threw|TypeError|RangeError|is not a function|Cannot read|Maximum call stack/i.test(e.lastError ?? ''));
      // A dead letter is either Sailthru's refusal (a call answered with an error) or the mapping's
      // own rule (SPEC.md: a page without a URL, an order without products…), never an exception.
      const failed = events.filter((e) => e.status === 'failed');
      const refusedBySailthru = failed.filter((e) => (e.outcome?.calls ?? []).some((c) => c.status >= 400 || (c.errorCode ?? null) !== null));

      const cut = slowResults.filter((r) => r.cutAfterMs !== null);
      const figures = {
        seed: SEED,
        requests: tally.requests,
        parallel: PARALLEL,
        floodSeconds: floodSeconds.toFixed(1),
        answers2xx: [...tally.byStatus].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0),
        answers4xx: [...tally.byStatus].filter(([s]) => s >= 400 && s < 500).reduce((n, [, c]) => n + c, 0),
        answers5xx: tally.serverErrors.length,
        notJson: tally.notJson.length,
        connectionErrors: [...tally.connectionErrors.values()].reduce((n, c) => n + c, 0),
        slowClients: slowResults.length,
        slowClientsCutDuringFlood: cut.length,
        idleConnections: idleResults.length,
        healthChecks,
        healthFailures,
        rssBaselineMb: baseline.rssMb,
        rssPeakMb: peakRss,
        rssAfterMb: after.rssMb,
        storedEvents: events.length,
        delivered: byStatus.get('delivered') ?? 0,
        skipped: byStatus.get('skipped') ?? 0,
        rejected: byStatus.get('rejected') ?? 0,
        failedRefusedBySailthru: refusedBySailthru.length,
        failedByMappingRules: failed.length - refusedBySailthru.length,
        internalErrors: internal.length,
      };
      reportFigures('hostile-input', figures);
      console.log(`[reliability] hostile-input statuses ${JSON.stringify(Object.fromEntries(tally.byStatus))} categories ${JSON.stringify(Object.fromEntries(tally.byCategory))}`);
      if (tally.connectionErrors.size > 0) console.log(`[reliability] hostile-input connection errors ${JSON.stringify(Object.fromEntries(tally.connectionErrors))}`);

      expect(tally.serverErrors.slice(0, 10)).toEqual([]);
      expect(tally.notJson.slice(0, 10)).toEqual([]);
      expect(tally.echoedKey).toBe(0);
      expect(healthFailures).toBe(0);
      // Memory stays bounded: no growth with the number of requests.
      expect(peakRss).toBeLessThan(768);
      expect(after.rssMb).toBeLessThan(baseline.rssMb + 256);
      const unsettled = events.filter((e) => e.status === 'pending' || e.status === 'retrying');
      expect(unsettled.map((e) => `${e.status} ${e.type} ${e.laneKey} attempts=${e.attempts}: ${e.lastError}`).slice(0, 10)).toEqual([]);
      expect(internal.map((e) => `${e.messageId}: ${e.lastError}`).slice(0, 10)).toEqual([]);
      expect(byStatus.get('delivered') ?? 0).toBeGreaterThan(0);
    },
    budgetMs(300_000, 2_400_000),
  );
});
