import type { AddressInfo } from 'node:net';
import { Analytics } from '@segment/analytics-node';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestRoutes, type IngestRoutesOptions } from '../../src/server/ingest.ts';
import { KeyDirectory, MemorySink, WRITE_KEY } from './ingest-fixtures.ts';

/**
 * The real Segment client, `host` pointed at a listening server: what it sends must be stored
 * as it meant it, and our 429/503 answers must make it retry rather than drop.
 */

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function listen(sink: MemorySink, overrides: Partial<IngestRoutesOptions> = {}): Promise<string> {
  app = Fastify({ logger: false });
  await app.register(ingestRoutes, {
    sink,
    writeKeys: new KeyDirectory({ [WRITE_KEY]: 'dest-main' }),
    maxBacklog: 1000,
    isShuttingDown: () => false,
    ...overrides,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function client(host: string): { analytics: Analytics; errors: unknown[] } {
  const analytics = new Analytics({ writeKey: WRITE_KEY, host, flushAt: 1, maxRetries: 3 });
  const errors: unknown[] = [];
  analytics.on('error', (error) => errors.push(error));
  return { analytics, errors };
}

describe('@segment/analytics-node as a client', () => {
  it('stores identify, track and page as the client sent them', async () => {
    const sink = new MemorySink();
    const { analytics, errors } = client(await listen(sink));
    analytics.identify({ userId: 'user-42', traits: { email: 'ann@example.com', plan: 'pro' } });
    analytics.track({ userId: 'user-42', event: 'Order Completed', properties: { order_id: 'o-1', total: 30 } });
    analytics.page({ anonymousId: 'anon-7', name: 'Pricing', properties: { url: 'https://example.com/pricing' } });
    await analytics.closeAndFlush();

    expect(errors).toEqual([]);
    expect(sink.rejected).toEqual([]);
    expect(new Set(sink.batches.map((batch) => batch.destinationId))).toEqual(new Set(['dest-main']));
    const byType = new Map(sink.accepted.map((event) => [event.type, event]));
    expect([...byType.keys()].sort()).toEqual(['identify', 'page', 'track']);
    for (const event of sink.accepted) {
      expect(event.messageId).toMatch(/^node-next-\d+-[0-9a-f-]+$/);
      expect((event.context as { library: { name: string } }).library.name).toBe('@segment/analytics-node');
      expect(Date.parse(event.timestamp as string)).not.toBeNaN();
      expect(event.receivedAt).toBeDefined();
      expect(event).not.toHaveProperty('writeKey');
    }
    expect(byType.get('identify')).toMatchObject({ userId: 'user-42', traits: { email: 'ann@example.com', plan: 'pro' } });
    expect(byType.get('track')).toMatchObject({ userId: 'user-42', event: 'Order Completed', properties: { order_id: 'o-1', total: 30 } });
    expect(byType.get('page')).toMatchObject({ anonymousId: 'anon-7', name: 'Pricing' });
  });

  it('retries after a 429 with Retry-After, and the event is stored once', async () => {
    const sink = new MemorySink();
    // Over the limit on the first read only: the first request is answered 429, the retry 200.
    let backlogReads = 0;
    sink.backlog = async () => (backlogReads++ === 0 ? 5000 : 0);
    const { analytics, errors } = client(await listen(sink, { retryAfterSeconds: 1, backlogMaxAgeMs: 0 }));
    analytics.track({ userId: 'user-1', event: 'Signed Up', messageId: 'retry-429' });
    await analytics.closeAndFlush();
    expect(errors).toEqual([]);
    expect(backlogReads).toBe(2);
    expect(sink.accepted.map((event) => event.messageId)).toEqual(['retry-429']);
  });

  it('retries after a 503 from a failing store, and the event is stored once', async () => {
    const sink = new MemorySink();
    const realAppend = sink.append.bind(sink);
    let failures = 1;
    sink.append = async (batch) => {
      if (failures-- > 0) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      return realAppend(batch);
    };
    const { analytics, errors } = client(await listen(sink));
    analytics.track({ userId: 'user-1', event: 'Signed Up', messageId: 'retry-503' });
    await analytics.closeAndFlush();
    expect(errors).toEqual([]);
    expect(failures).toBe(-1);
    expect(sink.accepted.map((event) => event.messageId)).toEqual(['retry-503']);
  });
});
