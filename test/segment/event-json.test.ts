import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkEventSize, eventJson, keepValueTexts } from '../../src/segment/event-json.ts';
import { MAX_EVENT_BYTES } from '../../src/segment/limits.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('an event is serialised once at ingest', () => {
  it('the stored text is exactly JSON.stringify of the normalised event', () => {
    const raw = JSON.parse('{"type":"track","event":"é\\ud800","properties":{"a":[1,2.5,null,"x"],"1":true},"context":{"ip":"1.2.3.4"},"userId":"u1"}') as Record<string, unknown>;
    const size = checkEventSize(raw, MAX_EVENT_BYTES);
    expect(size.over).toBe(false);
    const normalised = { type: 'track', messageId: 'm1', properties: raw.properties, context: { merged: true }, gone: undefined, userId: 'u1' };
    if (!size.over) keepValueTexts(normalised, size.texts);
    expect(eventJson(normalised)).toBe(JSON.stringify(normalised));
  });

  it('the values the size check serialised are not serialised again', () => {
    const properties = { big: 'x'.repeat(1000), nested: { list: [1, 2, 3] } };
    const size = checkEventSize({ type: 'track', event: 'E', properties }, MAX_EVENT_BYTES);
    const event = { type: 'track', properties };
    if (!size.over) keepValueTexts(event, size.texts);
    const stringify = vi.spyOn(JSON, 'stringify');
    const text = eventJson(event);
    expect(stringify.mock.calls.some(([value]) => value === properties)).toBe(false);
    stringify.mockRestore();
    expect(text).toBe(JSON.stringify({ type: 'track', properties }));
  });

  it('counts UTF-8 bytes where an event could be over the limit', () => {
    // 11,000 three-byte characters: 11,000 UTF-16 units, 33,000 bytes > 32,768.
    const over = checkEventSize({ type: 'track', properties: { text: '€'.repeat(11_000) } }, MAX_EVENT_BYTES);
    expect(over).toEqual({ over: true, bytes: Buffer.byteLength(JSON.stringify({ type: 'track', properties: { text: '€'.repeat(11_000) } }), 'utf8') });
    expect(checkEventSize({ type: 'track', properties: { text: '€'.repeat(10_000) } }, MAX_EVENT_BYTES).over).toBe(false);
  });

  it('decides at the exact byte limit, whatever the bound said', () => {
    const around = JSON.stringify({ type: 'track', properties: { text: '' } }).length;
    const at = (bytes: number) => ({ type: 'track', properties: { text: 'a'.repeat(bytes - around) } });
    expect(Buffer.byteLength(JSON.stringify(at(MAX_EVENT_BYTES)))).toBe(MAX_EVENT_BYTES);
    expect(checkEventSize(at(MAX_EVENT_BYTES), MAX_EVENT_BYTES).over).toBe(false);
    expect(checkEventSize(at(MAX_EVENT_BYTES + 1), MAX_EVENT_BYTES)).toEqual({ over: true, bytes: MAX_EVENT_BYTES + 1 });
  });

  it('the texts travel with the normalised event only, invisible to JSON, spreads and equality', () => {
    const properties = { a: 1 };
    const size = checkEventSize({ type: 'track', properties }, MAX_EVENT_BYTES);
    const event = { type: 'track', properties };
    if (!size.over) keepValueTexts(event, size.texts);
    expect(Object.keys(event)).toEqual(['type', 'properties']);
    expect(event).toStrictEqual({ type: 'track', properties: { a: 1 } });
    const stringify = vi.spyOn(JSON, 'stringify');
    eventJson({ ...event });
    // A copy has no texts: its properties are serialised again, and correctly.
    expect(stringify.mock.calls.some(([value]) => value === properties)).toBe(true);
    stringify.mockRestore();
    expect(eventJson({ ...event })).toBe(JSON.stringify(event));
  });
});
