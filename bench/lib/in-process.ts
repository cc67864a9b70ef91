import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Pool } from 'undici';
import { loadConfig } from '../../src/config.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { createLogger } from '../../src/server/logger.ts';
import { startService, type Service } from '../../src/server/service.ts';
import { basicAuth, scratchDir, serviceEnv, BENCH_WRITE_KEY } from './stack.ts';
import { sleep } from './stats.ts';

/**
 * The service in this process (startService, as `serve` runs it) on a fresh SQLite file, for
 * benchmarks that need to look inside it (the rate gate, the delivery log) and whose figure is
 * not the process's throughput.
 */
export interface InProcessService {
  service: Service;
  /** Log lines at warn and above (a benchmark prints them when something looks wrong). */
  logs: string[];
  stop(): Promise<void>;
}

export async function startInProcessService(options: { emulatorUrl: string; env?: Record<string, string>; delivery?: boolean }): Promise<InProcessService> {
  const scratch = scratchDir('svc');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (logs.length < 1000) logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const env = serviceEnv({ emulatorUrl: options.emulatorUrl, databaseUrl: `sqlite:${join(scratch.path, 'bench.db')}`, extra: options.env });
  const service = await startService(loadConfig(env), { ingest: true, delivery: options.delivery ?? true }, { logger: createLogger('warn', sink) });
  return {
    service,
    logs,
    async stop() {
      await service.stop();
      scratch.dispose();
    },
  };
}

/** Posts events to /v1/batch in batches of `batchSize`, a few requests at a time; throws on any non-200. */
export async function ingestAll(url: string, events: ReadonlyArray<Record<string, unknown>>, batchSize = 100, parallel = 4): Promise<void> {
  const pool = new Pool(url, { connections: parallel });
  const headers = { 'content-type': 'application/json', authorization: basicAuth(BENCH_WRITE_KEY) };
  let next = 0;
  const loop = async () => {
    while (next < events.length) {
      const start = next;
      next += batchSize;
      const res = await pool.request({ path: '/v1/batch', method: 'POST', headers, body: JSON.stringify({ batch: events.slice(start, start + batchSize) }) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}: ${text.slice(0, 300)}`);
      const body = JSON.parse(text) as { rejected?: unknown[] };
      if (body.rejected && body.rejected.length > 0) throw new Error(`ingest rejected events: ${JSON.stringify(body.rejected.slice(0, 3))}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, loop));
  } finally {
    await pool.close();
  }
}

/** Unsettled (pending + retrying) events over every destination. */
export async function unsettled(service: Pick<Service, 'store'>): Promise<number> {
  const backlog = await service.store.backlogByDestination();
  return backlog.reduce((n, b) => n + b.unsettled, 0);
}

/** Resolves when nothing is left to deliver; throws after `timeoutMs`. */
export async function waitForDrain(service: Pick<Service, 'store'>, timeoutMs: number, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await unsettled(service);
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`still ${n} unsettled events after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** Every stored event of a destination, oldest first, with its final outcome (through the delivery log). */
export async function allEvents(service: Pick<Service, 'store'>, destinationId = 'default') {
  const out = [];
  let beforeId: number | undefined;
  for (;;) {
    const page = await service.store.search({ destinationId, limit: 500, ...(beforeId !== undefined ? { beforeId } : {}) });
    out.push(...page.events);
    if (page.nextBeforeId === null) break;
    beforeId = page.nextBeforeId;
  }
  return out.reverse();
}

export type { SegmentEvent };
