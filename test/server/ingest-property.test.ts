import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { laneKeyOf } from '../../src/segment/event.ts';
import { statusOf, type ErrorCode } from '../../src/server/error-codes.ts';
import { WRITE_KEY, basic, buildIngestApp, type TestServer } from './ingest-fixtures.ts';

/**
 * Whatever body a client sends, the ingest answers 200 or a 4xx with a JSON body in the contract's
 * shape: never a 5xx (which would make clients retry forever) and never an unhandled error. What
 * reaches the sink is always normalised.
 */

let server: TestServer;

beforeAll(async () => {
  server = await buildIngestApp();
});

afterAll(async () => {
  await server.app.close();
});

const ROUTES = ['batch', 'identify', 'track', 'page', 'screen', 'group', 'alias', 'webhook'] as const;

const anything = fc.jsonValue({ maxDepth: 4 });
const eventLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias', 'delete', 'Track', ''), anything),
    userId: fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), anything),
    anonymousId: fc.oneof(fc.string({ maxLength: 12 }), anything),
    messageId: fc.oneof(fc.string({ maxLength: 120 }), fc.integer(), anything),
    event: fc.oneof(fc.string({ maxLength: 12 }), anything),
    previousId: fc.oneof(fc.string({ maxLength: 12 }), anything),
    properties: anything,
    traits: anything,
    context: anything,
    integrations: anything,
    timestamp: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 }), anything),
    sentAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), anything),
    writeKey: fc.oneof(fc.constant(WRITE_KEY), fc.string({ maxLength: 8 })),
    ['__proto__']: anything,
  },
  { requiredKeys: [] },
);
const objectOf = fc.dictionary(fc.string({ maxLength: 8 }), anything, { maxKeys: 4 });
/** Mostly valid events, so that the property also covers what reaches the sink. */
const plausibleEvent = fc.record(
  {
    type: fc.constantFrom('identify', 'track', 'page', 'screen', 'group', 'alias', 'delete'),
    userId: fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.integer()),
    event: fc.string({ minLength: 1, maxLength: 12 }),
    previousId: fc.string({ minLength: 1, maxLength: 12 }),
    messageId: fc.option(fc.string({ maxLength: 120 })),
    properties: objectOf,
    traits: objectOf,
    context: objectOf,
    timestamp: fc.date({ noInvalidDate: true, min: new Date('1970-01-01'), max: new Date('9999-12-31') }).map((d) => d.toISOString()),
  },
  { requiredKeys: ['type', 'userId', 'event', 'previousId'] },
);
const mostlyObject = fc.oneof({ arbitrary: objectOf, weight: 4 }, anything);
const batchLike = fc.record(
  {
    batch: fc.oneof({ arbitrary: fc.array(fc.oneof({ arbitrary: plausibleEvent, weight: 3 }, eventLike, anything), { maxLength: 6 }), weight: 4 }, anything),
    context: mostlyObject,
    integrations: mostlyObject,
    sentAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), anything),
    writeKey: fc.oneof(fc.constant(WRITE_KEY), anything),
  },
  { requiredKeys: ['batch'] },
);
const body = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.oneof(
      { arbitrary: batchLike, weight: 3 },
      { arbitrary: plausibleEvent, weight: 2 },
      { arbitrary: fc.array(fc.oneof(plausibleEvent, eventLike), { maxLength: 4 }), weight: 1 },
      { arbitrary: eventLike, weight: 1 },
      { arbitrary: anything, weight: 1 },
    ).map((value) => JSON.stringify(value) ?? 'null'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.json().map((json) => json.slice(0, Math.max(0, json.length - 1))) },
);
/** Batch bodies on /v1/batch and the webhook are where most events arrive. */
const route = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('batch', 'webhook') }, fc.constantFrom(...ROUTES));

it('answers 200 or 4xx with a JSON body for any body, never 5xx', async () => {
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(
      route,
      body,
      fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8'),
      fc.boolean(),
      async (route, payload, contentType, withBasic) => {
        const headers: Record<string, string> = { 'content-type': contentType };
        if (withBasic) headers.authorization = basic(WRITE_KEY);
        const before = server.sink.batches.length;
        const response = await server.app.inject({ method: 'POST', url: `/v1/${route}`, headers, payload });

        statuses.add(response.statusCode);
        expect(response.statusCode).toBeGreaterThanOrEqual(200);
        expect(response.statusCode).toBeLessThan(500);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        const answer = response.json() as { success: boolean; error?: string; code?: ErrorCode; rejected?: unknown[] };
        if (response.statusCode === 200) {
          expect(answer.success).toBe(true);
        } else {
          expect(answer).toEqual({ success: false, error: expect.any(String), code: expect.stringMatching(/^INGEST_/), message: answer.error });
          expect(statusOf(answer.code!)).toBe(response.statusCode);
          expect(response.body).not.toContain(WRITE_KEY);
          expect(server.sink.batches.length).toBe(before);
        }
        for (const batch of server.sink.batches.slice(before)) {
          for (const event of batch.accepted) {
            expect(typeof event.messageId).toBe('string');
            expect(event.messageId.length).toBeLessThanOrEqual(100);
            expect(laneKeyOf(event)).not.toBeNull();
            expect(Date.parse(event.timestamp as string)).not.toBeNaN();
            expect(JSON.stringify(event)).not.toContain(WRITE_KEY);
          }
        }
      },
    ),
    { numRuns: 400 },
  );
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  // The generators reach every outcome, stored events included.
  expect([...statuses].sort()).toEqual([200, 400, 401]);
  expect(server.sink.accepted.length).toBeGreaterThan(20);
  expect(server.sink.rejected.length).toBeGreaterThan(20);
});
