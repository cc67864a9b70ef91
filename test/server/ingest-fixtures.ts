import Fastify, { type FastifyInstance } from 'fastify';
import type { AppendResult, IngestBatch, IngestSink, WriteKeyDirectory } from '../../src/delivery/ingest.ts';
import { ingestRoutes, type IngestRoutesOptions } from '../../src/server/ingest.ts';

/** An IngestSink that keeps batches in memory, dedupes on messageId, and can be told to fail. */
export class MemorySink implements IngestSink {
  readonly batches: IngestBatch[] = [];
  readonly seen = new Set<string>();
  backlogValue = 0;
  backlogReads = 0;
  failWith: Error | null = null;
  /** Throw before returning a promise, as a sink whose store is already closed may. */
  throwSynchronously = false;

  append(batch: IngestBatch): Promise<AppendResult> {
    if (this.failWith !== null && this.throwSynchronously) throw this.failWith;
    return this.store(batch);
  }

  private async store(batch: IngestBatch): Promise<AppendResult> {
    if (this.failWith !== null) throw this.failWith;
    this.batches.push(batch);
    let stored = 0;
    let duplicates = 0;
    for (const event of batch.accepted) {
      const key = `${batch.destinationId}/${event.messageId}`;
      if (this.seen.has(key)) duplicates++;
      else {
        this.seen.add(key);
        stored++;
      }
    }
    return { stored, duplicates };
  }

  async backlog(): Promise<number> {
    this.backlogReads++;
    return this.backlogValue;
  }

  get accepted() {
    return this.batches.flatMap((batch) => batch.accepted);
  }

  get rejected() {
    return this.batches.flatMap((batch) => batch.rejected);
  }
}

export class KeyDirectory implements WriteKeyDirectory {
  readonly asked: string[] = [];
  constructor(private readonly keys: Record<string, string>) {}
  async destinationFor(writeKey: string): Promise<string | null> {
    this.asked.push(writeKey);
    return this.keys[writeKey] ?? null;
  }
}

export const WRITE_KEY = 'wk_live_7f3a9c1d2e';
export const OTHER_KEY = 'wk_live_other_5b6c';
export const WEBHOOK_SECRET = 'whsec-shared-2b7e151628aed2a6';

export interface TestServer {
  app: FastifyInstance;
  sink: MemorySink;
  keys: KeyDirectory;
  shuttingDown: { value: boolean };
  clock: { now: number };
}

export async function buildIngestApp(overrides: Partial<IngestRoutesOptions> = {}): Promise<TestServer> {
  const sink = new MemorySink();
  const keys = new KeyDirectory({ [WRITE_KEY]: 'dest-main', [OTHER_KEY]: 'dest-other' });
  const shuttingDown = { value: false };
  const clock = { now: Date.parse('2026-03-01T12:00:00.000Z') };
  const app = Fastify({ logger: false });
  await app.register(ingestRoutes, {
    sink,
    writeKeys: keys,
    webhookSecrets: [{ destinationId: 'dest-webhook', secret: WEBHOOK_SECRET }],
    maxBacklog: 1000,
    isShuttingDown: () => shuttingDown.value,
    now: () => clock.now,
    ...overrides,
  });
  await app.ready();
  return { app, sink, keys, shuttingDown, clock };
}

export function basic(writeKey: string, password = ''): string {
  return `Basic ${Buffer.from(`${writeKey}:${password}`).toString('base64')}`;
}
