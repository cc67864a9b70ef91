import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeOneLevel } from '../../src/segment/batch-context.ts';
import { ingestWarningsOf } from '../../src/segment/event-rules.ts';
import { boundMessageId, generateMessageId } from '../../src/segment/message-id.ts';
import {
  normalizeTrackingBody,
  normalizeWebhookBody,
  writeKeyInBody,
  type NormalizeResult,
  type NormalizedRequest,
} from '../../src/segment/normalize.ts';
import { parseJsonBody } from '../../src/segment/safe-json.ts';
import { isoTime, parseIsoTime, resolveTimes, type IsoTime } from '../../src/segment/timestamps.ts';

const RECEIVED = new Date('2026-03-01T12:00:00.000Z');
const at = (text: string): IsoTime => isoTime(text) as IsoTime;

function ok(result: NormalizeResult): NormalizedRequest {
  if (!result.ok) throw new Error(`expected ok, got: ${result.error}`);
  return result;
}

function batch(...items: unknown[]) {
  return ok(normalizeTrackingBody({ batch: items }, 'batch', RECEIVED));
}

function reasonsOf(result: NormalizedRequest) {
  return result.rejected.map(({ index, reason }) => ({ index, reason }));
}

describe('batch bodies', () => {
  it('merges top-level context and integrations into each event, one level deep, the event winning', () => {
    const result = ok(
      normalizeTrackingBody(
        {
          batch: [
            { type: 'track', userId: 'u1', event: 'A', context: { ip: '10.0.0.2', library: { name: 'mine' } }, integrations: { Sailthru: false } },
            { type: 'identify', userId: 'u2' },
          ],
          context: { ip: '10.0.0.1', library: { name: 'batch', version: '1' }, locale: 'fr-FR' },
          integrations: { All: true, Sailthru: true },
          writeKey: 'secret-key',
        },
        'batch',
        RECEIVED,
      ),
    );
    expect(result.rejected).toEqual([]);
    const [first, second] = result.accepted;
    // library comes whole from the event: nested objects are not merged further.
    expect(first?.context).toEqual({ ip: '10.0.0.2', library: { name: 'mine' }, locale: 'fr-FR' });
    expect(first?.integrations).toEqual({ All: true, Sailthru: false });
    expect(second?.context).toEqual({ ip: '10.0.0.1', library: { name: 'batch', version: '1' }, locale: 'fr-FR' });
    expect(second?.integrations).toEqual({ All: true, Sailthru: true });
  });

  it('refuses bad events one by one and keeps the others, in order', () => {
    const result = batch(
      { type: 'track', userId: 'u1', event: 'First', messageId: 'm-1' },
      { type: 'track', event: 'No user', messageId: 'm-2' },
      { type: 'track', userId: 'u1', messageId: 'm-3' },
      { type: 'track', userId: 'u1', event: 42, messageId: 'm-4' },
      { type: 'launch', userId: 'u1', messageId: 'm-5' },
      { userId: 'u1', messageId: 'm-6' },
      { type: 'identify', userId: 'u1', traits: 'email=a@b.c', messageId: 'm-7' },
      { type: 'track', userId: 'u1', event: 'E', properties: [1, 2], messageId: 'm-8' },
      { type: 'page', anonymousId: 'a1', context: 'web', messageId: 'm-9' },
      { type: 'track', userId: 'u1', event: 'E', integrations: true, messageId: 'm-10' },
      { type: 'track', userId: true, event: 'E', messageId: 'm-11' },
      { type: 'track', userId: 'u1', event: 'E', timestamp: 'yesterday', messageId: 'm-12' },
      { type: 'track', userId: 'u1', event: 'E', timestamp: 1767225600000, messageId: 'm-13' },
      { type: 'alias', userId: 'u1', messageId: 'm-14' },
      { type: 'delete', userId: 'u1', messageId: 'm-15' },
      'not an event',
      { type: 'track', userId: 'u1', event: 'E', messageId: { id: 1 } },
      { type: 'identify', userId: 'u1', messageId: 'm-18', name: 7 },
      { type: 'track', userId: 'u1', event: 'Last', messageId: 'm-19' },
    );
    // An invalid timestamp costs no event: it is replaced and a warning says so (below).
    expect(result.accepted.map((event) => event.messageId)).toEqual(['m-1', 'm-12', 'm-13', 'm-19']);
    expect(reasonsOf(result)).toEqual([
      { index: 1, reason: 'the event has neither userId nor anonymousId' },
      { index: 2, reason: 'a track event needs an event name (the "event" field)' },
      { index: 3, reason: 'event must be a string, not a number' },
      { index: 4, reason: 'unknown type "launch"' },
      { index: 5, reason: 'missing type' },
      { index: 6, reason: 'traits must be a JSON object, not a string' },
      { index: 7, reason: 'properties must be a JSON object, not an array' },
      { index: 8, reason: 'context must be a JSON object, not a string' },
      { index: 9, reason: 'integrations must be a JSON object, not a boolean' },
      { index: 10, reason: 'userId must be a string or a number, not a boolean' },
      { index: 13, reason: 'an alias event needs a previousId' },
      { index: 14, reason: 'type "delete" is only accepted on /v1/webhook' },
      { index: 15, reason: 'the event must be a JSON object, not a string' },
      { index: 16, reason: 'messageId must be a string or a number, not an object' },
      { index: 17, reason: 'name must be a string, not a number' },
    ]);
    expect(result.rejected[0]).toMatchObject({ messageId: 'm-2', payload: { type: 'track', event: 'No user', messageId: 'm-2' } });
    expect(result.rejected[12]).toMatchObject({ index: 15, messageId: null, payload: 'not an event' });
  });

  it('counts empty strings as missing ids and turns numeric ids into strings', () => {
    const result = batch(
      { type: 'track', userId: '', anonymousId: '', event: 'E' },
      { type: 'track', userId: 12345, event: 'E' },
      { type: 'track', userId: '', anonymousId: 987.5, event: 'E' },
      { type: 'alias', userId: 7, previousId: 6 },
      { type: 'group', userId: 'u', groupId: 99 },
    );
    expect(reasonsOf(result)).toEqual([{ index: 0, reason: 'the event has neither userId nor anonymousId' }]);
    const [numeric, anonymous, alias, group] = result.accepted;
    expect(numeric?.userId).toBe('12345');
    expect(anonymous?.anonymousId).toBe('987.5');
    expect(anonymous).not.toHaveProperty('userId');
    expect(alias).toMatchObject({ userId: '7', previousId: '6' });
    expect(group).toMatchObject({ groupId: '99' });
  });

  it('refuses a batch that is not an array, over 2,500 events, or with a context that is not an object', () => {
    expect(normalizeTrackingBody({ batch: { type: 'track' } }, 'batch', RECEIVED)).toEqual({
      ok: false,
      problem: 'invalid-body',
      error: '"batch" must be an array of events, not an object',
    });
    expect(normalizeTrackingBody([{ type: 'track' }], 'batch', RECEIVED)).toEqual({
      ok: false,
      problem: 'invalid-body',
      error: 'The body must be a JSON object with a "batch" array, not an array',
    });
    const event = { type: 'track', userId: 'u', event: 'E' };
    expect(ok(normalizeTrackingBody({ batch: Array(2500).fill(event) }, 'batch', RECEIVED)).accepted).toHaveLength(2500);
    expect(normalizeTrackingBody({ batch: Array(2501).fill(event) }, 'batch', RECEIVED)).toEqual({
      ok: false,
      problem: 'too-many-events',
      error: 'The batch has 2501 events, over the limit of 2500',
    });
    expect(normalizeTrackingBody({ batch: [event], context: ['x'] }, 'batch', RECEIVED)).toEqual({
      ok: false,
      problem: 'invalid-body',
      error: `The batch's "context" must be a JSON object, not an array`,
    });
  });

  it('refuses an event over 32 KB on its own, keeping only a summary of it', () => {
    const filler = 'x'.repeat(32 * 1024);
    const result = batch(
      { type: 'track', userId: 'u', event: 'Big', messageId: 'big-1', properties: { filler } },
      { type: 'track', userId: 'u', event: 'Small', messageId: 'small-1' },
    );
    expect(result.accepted.map((event) => event.messageId)).toEqual(['small-1']);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.reason).toMatch(/^the event is \d+ bytes as JSON, over the limit of 32 KB \(32768 bytes\)$/);
    expect(result.rejected[0]).toMatchObject({
      index: 0,
      messageId: 'big-1',
      payload: { omitted: 'payload too large to keep', type: 'track', userId: 'u', event: 'Big', messageId: 'big-1' },
    });
  });

  it('measures 32 KB on the serialised event: exactly 32768 bytes pass, one more does not', () => {
    const skeleton = { type: 'track', userId: 'u', event: 'E', messageId: 'm', properties: { p: '' } };
    const room = 32 * 1024 - Buffer.byteLength(JSON.stringify(skeleton));
    // Two-byte characters, so the limit is measured in UTF-8 bytes and not in characters.
    const fill = 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2);
    const exact = { ...skeleton, properties: { p: fill } };
    expect(Buffer.byteLength(JSON.stringify(exact))).toBe(32768);
    expect(batch(exact).accepted).toHaveLength(1);
    const over = { ...skeleton, properties: { p: `${fill}x` } };
    expect(batch(over).rejected).toHaveLength(1);
  });

  it('refuses an event nested deeper than 64 levels', () => {
    let nested: unknown = 'leaf';
    for (let i = 0; i < 70; i++) nested = { n: nested };
    const result = batch({ type: 'track', userId: 'u', event: 'Deep', properties: nested }, { type: 'track', userId: 'u', event: 'Flat' });
    expect(reasonsOf(result)).toEqual([{ index: 0, reason: 'the event nests objects or arrays deeper than 64 levels' }]);
    expect(result.accepted).toHaveLength(1);
  });

  it('counts depth exactly: 64 nested levels pass, 65 do not, objects and arrays alike; a huge depth stays off the stack', () => {
    // The event itself is level 1, so `properties` nested (62 + 1) deep makes 64 levels in all.
    const nest = (levels: number, wrap: (inner: unknown) => unknown): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i++) value = wrap(value);
      return value;
    };
    for (const wrap of [(inner: unknown) => ({ n: inner }), (inner: unknown) => [inner]]) {
      const atLimit = { type: 'track', userId: 'u', event: 'E', properties: { p: nest(62, wrap) } };
      const over = { type: 'track', userId: 'u', event: 'E', properties: { p: nest(63, wrap) } };
      expect(batch(atLimit).accepted).toHaveLength(1);
      expect(reasonsOf(batch(over))).toEqual([{ index: 0, reason: 'the event nests objects or arrays deeper than 64 levels' }]);
    }
    const veryDeep = { type: 'track', userId: 'u', event: 'E', properties: { p: nest(200_000, (inner) => ({ n: inner })) } };
    expect(reasonsOf(batch(veryDeep))).toEqual([{ index: 0, reason: 'the event nests objects or arrays deeper than 64 levels' }]);
  });

  it('never stores the write key, in the batch or in an event', () => {
    const result = batch({ type: 'track', userId: 'u', event: 'E', writeKey: 'wk-in-event' }, { type: 'track', event: 'E', writeKey: 'wk-in-bad-event' });
    expect(JSON.stringify(result)).not.toContain('wk-in');
  });

  it('keeps fields it does not know (analytics-node _metadata, version)', () => {
    const [event] = batch({ type: 'track', userId: 'u', event: 'E', _metadata: { nodeVersion: '20' }, version: 2 }).accepted;
    expect(event).toMatchObject({ _metadata: { nodeVersion: '20' }, version: 2 });
  });
});

describe('prototype keys', () => {
  it('are harmless through parsing, merging and normalising', () => {
    const body = parseJsonBody(
      '{"batch":[{"type":"track","userId":"u","event":"E","properties":{"__proto__":{"polluted":1},"ok":1},' +
        '"context":{"constructor":{"prototype":{"polluted":1}},"ip":"1.2.3.4"},"__proto__":{"type":"alias"}}],' +
        '"context":{"__proto__":{"isAdmin":true},"locale":"en"},"integrations":{"prototype":{"x":1}}}',
    );
    expect(body.ok).toBe(true);
    const result = ok(normalizeTrackingBody((body as { value: unknown }).value, 'batch', RECEIVED));
    const [event] = result.accepted;
    expect(event?.type).toBe('track');
    expect(event?.properties).toEqual({ ok: 1 });
    expect(event?.context).toEqual({ ip: '1.2.3.4', locale: 'en' });
    expect(event?.integrations).toEqual({});
    for (const value of [event, event?.properties, event?.context, event?.integrations]) {
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.hasOwn(value as object, '__proto__')).toBe(false);
    }
    expect((event?.context as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('cannot reach a prototype through mergeOneLevel even from an unsanitised JSON.parse', () => {
    const batchContext = JSON.parse('{"__proto__":{"isAdmin":true},"a":1}') as Record<string, unknown>;
    const eventContext = JSON.parse('{"constructor":{"x":1},"b":2}') as Record<string, unknown>;
    const merged = mergeOneLevel(batchContext, eventContext) as Record<string, unknown>;
    expect(merged).toEqual({ a: 1, b: 2 });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(merged.isAdmin).toBeUndefined();
    expect(merged.constructor).toBe(Object);
  });
});

describe('single-event routes', () => {
  it('take the type from the route when the body has none', () => {
    const result = ok(normalizeTrackingBody({ userId: 'u', traits: { email: 'a@b.c' }, writeKey: 'k' }, 'identify', RECEIVED));
    expect(result.accepted[0]).toMatchObject({ type: 'identify', userId: 'u', traits: { email: 'a@b.c' } });
    expect(result.accepted[0]).not.toHaveProperty('writeKey');
  });

  it('refuse a type that disagrees with the route', () => {
    const result = ok(normalizeTrackingBody({ type: 'screen', userId: 'u', name: 'Home' }, 'page', RECEIVED));
    expect(reasonsOf(result)).toEqual([{ index: 0, reason: 'type "screen" does not match the /v1/page route' }]);
  });

  it('refuse a body that is not one object, or one over 32 KB', () => {
    expect(normalizeTrackingBody([{ userId: 'u' }], 'track', RECEIVED)).toEqual({
      ok: false,
      problem: 'invalid-body',
      error: 'The body must be one event as a JSON object, not an array',
    });
    const big = { userId: 'u', event: 'E', properties: { filler: 'x'.repeat(33_000) } };
    expect(normalizeTrackingBody(big, 'track', RECEIVED)).toEqual({
      ok: false,
      problem: 'event-too-large',
      error: 'The event is over the limit of 32 KB (32768 bytes) as JSON',
    });
  });

  it('read writeKey from the body only when it is a non-empty string', () => {
    expect(writeKeyInBody({ writeKey: 'k1' })).toBe('k1');
    expect(writeKeyInBody({ writeKey: '' })).toBeUndefined();
    expect(writeKeyInBody({ writeKey: 5 })).toBeUndefined();
    expect(writeKeyInBody([{ writeKey: 'k1' }])).toBeUndefined();
  });
});

describe('webhook bodies', () => {
  const identify = { type: 'identify', userId: 'u1', messageId: 'w-1', timestamp: '2026-03-01T11:00:00.000Z' };
  const track = { type: 'track', userId: 'u1', event: 'Order Completed', messageId: 'w-2' };

  it('take one event', () => {
    expect(ok(normalizeWebhookBody(identify, RECEIVED)).accepted.map((e) => e.messageId)).toEqual(['w-1']);
  });

  it('take an array of events (Webhooks Actions batching)', () => {
    const result = ok(normalizeWebhookBody([identify, track, { type: 'track', userId: 'u1' }], RECEIVED));
    expect(result.accepted.map((e) => e.messageId)).toEqual(['w-1', 'w-2']);
    expect(reasonsOf(result)).toEqual([{ index: 2, reason: 'a track event needs an event name (the "event" field)' }]);
  });

  it('take a {batch: [...]} body', () => {
    const result = ok(normalizeWebhookBody({ batch: [identify, track], context: { ip: '1.1.1.1' } }, RECEIVED));
    expect(result.accepted.map((e) => e.context)).toEqual([{ ip: '1.1.1.1' }, { ip: '1.1.1.1' }]);
  });

  it('take a delete notification, which needs a userId', () => {
    const result = ok(normalizeWebhookBody({ type: 'delete', userId: 'gone-1', timestamp: '2026-02-28T09:00:00Z' }, RECEIVED));
    expect(result.accepted[0]).toMatchObject({ type: 'delete', userId: 'gone-1', timestamp: '2026-02-28T09:00:00.000Z' });
    expect(result.accepted[0]?.messageId).toMatch(/^ingest-[0-9a-f-]{36}$/);
    const anonymous = ok(normalizeWebhookBody({ type: 'delete', anonymousId: 'a' }, RECEIVED));
    expect(reasonsOf(anonymous)).toEqual([{ index: 0, reason: 'a delete notification needs a userId' }]);
  });

  it('keep the timestamp Segment computed instead of correcting it again', () => {
    const [event] = ok(
      normalizeWebhookBody({ ...track, timestamp: '2026-03-01T11:59:00.000Z', originalTimestamp: '2026-03-01T11:00:00.000Z', sentAt: '2026-03-01T11:00:05.000Z' }, RECEIVED),
    ).accepted;
    expect(event?.timestamp).toBe('2026-03-01T11:59:00.000Z');
    expect(event?.receivedAt).toBe(RECEIVED.toISOString());
  });

  it('refuse anything else', () => {
    expect(normalizeWebhookBody('track', RECEIVED)).toEqual({
      ok: false,
      problem: 'invalid-body',
      error: 'The body must be a Segment event, an array of events or {"batch": [...]}, not a string',
    });
    expect(normalizeWebhookBody(Array(2501).fill(track), RECEIVED)).toMatchObject({ ok: false });
  });
});

describe('messageId', () => {
  it('is generated when missing, null or empty, and kept (as a string) when sent', () => {
    const result = batch(
      { type: 'track', userId: 'u', event: 'E' },
      { type: 'track', userId: 'u', event: 'E', messageId: null },
      { type: 'track', userId: 'u', event: 'E', messageId: '' },
      { type: 'track', userId: 'u', event: 'E', messageId: 'client-1' },
      { type: 'track', userId: 'u', event: 'E', messageId: 1234 },
    );
    const ids = result.accepted.map((event) => event.messageId);
    for (const id of ids.slice(0, 3)) expect(id).toMatch(/^ingest-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids.slice(0, 3)).size).toBe(3);
    expect(ids.slice(3)).toEqual(['client-1', '1234']);
    expect(generateMessageId()).not.toBe(generateMessageId());
  });

  it('is bounded to 100 characters, stays distinct and is the same on every retry', () => {
    const long = `order-${'9'.repeat(150)}`;
    const alsoLong = `order-${'9'.repeat(149)}8`;
    expect(boundMessageId(long)).toHaveLength(100);
    expect(boundMessageId(long)).toBe(boundMessageId(long));
    expect(boundMessageId(long).startsWith('order-999')).toBe(true);
    expect(boundMessageId(long)).not.toBe(boundMessageId(alsoLong));
    const exactly100 = 'm'.repeat(100);
    expect(boundMessageId(exactly100)).toBe(exactly100);
    const [event] = batch({ type: 'track', userId: 'u', event: 'E', messageId: long }).accepted;
    expect(event?.messageId).toBe(boundMessageId(long));
  });
});

describe('timestamps', () => {
  it('read every toISOString() output as Date does', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true, min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') }), (date) => {
        expect(parseIsoTime(date.toISOString())).toBe(date.getTime());
      }),
      { numRuns: 1000 },
    );
  });

  it('correct the client clock: timestamp = receivedAt − (sentAt − originalTimestamp)', () => {
    // The client clock is 1 h fast; the event happened 30 s before the batch was sent.
    const result = ok(
      normalizeTrackingBody(
        { batch: [{ type: 'track', userId: 'u', event: 'E', timestamp: '2026-03-01T12:59:30.000Z' }], sentAt: '2026-03-01T13:00:00.000Z' },
        'batch',
        RECEIVED,
      ),
    );
    expect(result.accepted[0]).toMatchObject({
      timestamp: '2026-03-01T11:59:30.000Z',
      originalTimestamp: '2026-03-01T12:59:30.000Z',
      sentAt: '2026-03-01T13:00:00.000Z',
      receivedAt: '2026-03-01T12:00:00.000Z',
    });
  });

  it('prefer originalTimestamp and an event-level sentAt when sent', () => {
    const times = resolveTimes(
      { timestamp: at('2020-01-01T00:00:00Z'), originalTimestamp: at('2026-03-01T10:00:00Z'), sentAt: at('2026-03-01T10:00:10Z') },
      RECEIVED,
      true,
    );
    expect(times).toEqual({ timestamp: '2026-03-01T11:59:50.000Z', originalTimestamp: '2026-03-01T10:00:00Z' });
  });

  it('keep a given timestamp without sentAt, and default to receivedAt', () => {
    const result = batch({ type: 'track', userId: 'u', event: 'E', timestamp: '2025-12-24T18:00:00+01:00' }, { type: 'track', userId: 'u', event: 'E' });
    expect(result.accepted.map((event) => event.timestamp)).toEqual(['2025-12-24T17:00:00.000Z', '2026-03-01T12:00:00.000Z']);
  });

  it('ignore a batch-level sentAt that is not a date', () => {
    const result = ok(
      normalizeTrackingBody({ batch: [{ type: 'track', userId: 'u', event: 'E', timestamp: '2026-01-01T00:00:00Z' }], sentAt: 'soon' }, 'batch', RECEIVED),
    );
    expect(result.accepted[0]?.timestamp).toBe('2026-01-01T00:00:00.000Z');
    expect(result.accepted[0]).not.toHaveProperty('sentAt');
  });

  it('read ISO-8601 strictly, a missing zone as UTC', () => {
    expect(parseIsoTime('2026-03-01T10:00:00Z')).toBe(Date.UTC(2026, 2, 1, 10));
    expect(parseIsoTime('2026-03-01 10:00:00')).toBe(Date.UTC(2026, 2, 1, 10));
    expect(parseIsoTime('2026-03-01T10:00:00.123456+0100')).toBe(Date.UTC(2026, 2, 1, 9, 0, 0, 123));
    expect(parseIsoTime('2026-03-01')).toBe(Date.UTC(2026, 2, 1));
    expect(parseIsoTime('0050-06-01T00:00:00Z')).toBe(Date.parse('0050-06-01T00:00:00Z'));
    expect(parseIsoTime('2026-03-01T10:00:00-05:30')).toBe(Date.UTC(2026, 2, 1, 15, 30));
    for (const bad of ['1', 'yesterday', '2026-13-01T00:00:00Z', '2026-03-01T25:00:00Z', '']) expect(parseIsoTime(bad)).toBeNull();
  });

  it('refuse a day past the end of its month, leap years included', () => {
    for (const bad of ['2024-02-31', '2023-02-29', '2026-04-31T10:00:00Z', '2026-06-31', '1900-02-29']) expect(parseIsoTime(bad), bad).toBeNull();
    expect(parseIsoTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoTime('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseIsoTime('2026-12-31T23:59:59Z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59));
  });
});

describe('what ingest corrects, with a warning on the event', () => {
  it('replaces a timestamp that is not a date by the receive time and says so on the event', () => {
    const result = batch(
      { type: 'track', userId: 'u', event: 'E', messageId: 'year', timestamp: '2017' },
      { type: 'track', userId: 'u', event: 'E', messageId: 'feb-31', timestamp: '2024-02-31' },
      { type: 'track', userId: 'u', event: 'E', messageId: 'number', timestamp: 1767225600000 },
      { type: 'track', userId: 'u', event: 'E', messageId: 'good', timestamp: '2024-02-29T10:00:00Z' },
    );
    expect(result.rejected).toEqual([]);
    const [year, feb31, number, good] = result.accepted;
    expect(year?.timestamp).toBe(RECEIVED.toISOString());
    expect(year?.ingestWarnings).toEqual([`timestamp "2017" is not a valid ISO-8601 date: the event's time is ${RECEIVED.toISOString()}, the time it was received`]);
    expect(feb31?.timestamp).toBe(RECEIVED.toISOString());
    expect(feb31?.ingestWarnings).toEqual([expect.stringContaining('timestamp "2024-02-31" is not a valid ISO-8601 date')]);
    expect(number?.ingestWarnings).toEqual([expect.stringContaining('timestamp 1767225600000 is not a valid ISO-8601 date')]);
    expect(good?.timestamp).toBe('2024-02-29T10:00:00.000Z');
    expect(good).not.toHaveProperty('ingestWarnings');
    expect(ingestWarningsOf(year)).toEqual([`at ingest: ${String(year?.ingestWarnings?.[0])}`]);
  });

  it('ignores an invalid sentAt or originalTimestamp, with a warning, and does not take a client ingestWarnings field', () => {
    const result = batch({
      type: 'track',
      userId: 'u',
      event: 'E',
      timestamp: '2026-03-01T11:00:00Z',
      originalTimestamp: 'soon',
      sentAt: '2026-02-30T00:00:00Z',
      ingestWarnings: ['forged'],
    });
    const [event] = result.accepted;
    expect(event?.ingestWarnings).toEqual([
      'originalTimestamp "soon" is not a valid ISO-8601 date: ignored',
      'sentAt "2026-02-30T00:00:00Z" is not a valid ISO-8601 date: ignored',
    ]);
    // No valid sentAt: no clock-skew correction, the client's timestamp is kept.
    expect(event?.timestamp).toBe('2026-03-01T11:00:00.000Z');
  });

  it('counts a userId or anonymousId of only whitespace as missing', () => {
    const result = batch(
      { type: 'track', userId: '   ', anonymousId: 'anon-1', event: 'E', messageId: 'blank-user' },
      { type: 'track', userId: ' \t\n', anonymousId: '\u00a0 ', event: 'E', messageId: 'blank-both' },
      { type: 'track', userId: ' u-1 ', event: 'E', messageId: 'padded' },
    );
    const [blankUser, padded] = result.accepted;
    expect(blankUser).not.toHaveProperty('userId');
    expect(blankUser?.anonymousId).toBe('anon-1');
    expect(blankUser?.ingestWarnings).toEqual(['userId "   " is only whitespace: treated as missing']);
    expect(reasonsOf(result)).toEqual([{ index: 1, reason: 'the event has neither userId nor anonymousId' }]);
    // Only whitespace-only ids are dropped: an id with text keeps its spaces (it is the client's key).
    expect(padded?.userId).toBe(' u-1 ');
  });
});
