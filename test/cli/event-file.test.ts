import { describe, expect, it } from 'vitest';
import { updateLineOf } from '../../src/cli/backfill-lines.ts';
import { eventFileOf, problemText, type FileEntry } from '../../src/cli/event-file.ts';
import { identifyPayload } from '../../src/destination/actions/identify.ts';
import { resolveEventSettings } from '../../src/destination/overrides.ts';
import { validateSettings, type DestinationSettings } from '../../src/destination/settings.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';

const entries = (text: string): FileEntry[] => [...eventFileOf(text).entries];

describe('event files', () => {
  it('reads NDJSON line by line, numbering lines as an editor does (blank lines and CRLF included)', () => {
    const file = eventFileOf('{"a":1}\r\n\r\n{"b":2}\n  \n{"c": }\n{"d":4}');
    expect(file.format).toBe('ndjson');
    expect(file.total).toBe(4);
    expect([...file.entries]).toEqual([
      { ok: true, where: 'line 1', value: { a: 1 } },
      { ok: true, where: 'line 3', value: { b: 2 } },
      { ok: false, where: 'line 5', error: "is not JSON (unexpected '}' at column 7)" },
      { ok: true, where: 'line 6', value: { d: 4 } },
    ]);
  });

  it('says a line of text is not JSON, naming its start, rather than what a parser expected', () => {
    expect(entries('{"a":1}\nhello world\ntrue story\n')).toEqual([
      { ok: true, where: 'line 1', value: { a: 1 } },
      { ok: false, where: 'line 2', error: 'is not JSON (an event line starts with "{", this one with "hello world")' },
      { ok: false, where: 'line 3', error: 'is not JSON (an event line starts with "{", this one with "true story")' },
    ]);
    expect(problemText('line 2', 'is not JSON (x)')).toBe('line 2 is not JSON (x)');
    expect(problemText('line 5', 'the event has neither userId nor anonymousId')).toBe('line 5: the event has neither userId nor anonymousId');
  });

  it('keeps the other lines when the first one is broken', () => {
    expect(entries('{"a": \n{"b":2}\n').map((e) => [e.where, e.ok])).toEqual([
      ['line 1', false],
      ['line 2', true],
    ]);
  });

  it('reads a JSON array, a batch body (with its context) and a pretty-printed event', () => {
    expect(entries('[{"a":1},\n {"b":2}]').map((e) => e.where)).toEqual(['item 1', 'item 2']);
    const batch = eventFileOf(JSON.stringify({ batch: [{ a: 1 }], context: { ip: '1.2.3.4' }, writeKey: 'k' }, null, 2));
    expect(batch.format).toBe('batch');
    expect(batch.batchFields).toEqual({ context: { ip: '1.2.3.4' }, writeKey: 'k' });
    expect([...batch.entries]).toEqual([{ ok: true, where: 'batch item 1', value: { a: 1 } }]);
    const pretty = eventFileOf('{\n  "type": "track",\n  "event": "E"\n}\n');
    expect(pretty.format).toBe('event');
    expect([...pretty.entries]).toEqual([{ ok: true, where: 'line 1', value: { type: 'track', event: 'E' } }]);
  });

  it('points at the line of the mistake in a broken document', () => {
    expect(entries('[\n  {"a": 1},\n  {"b": }\n]')).toEqual([{ ok: false, where: 'line 3', error: "Invalid JSON: unexpected '}' at column 9" }]);
    expect(entries('{\n  "type": "track",\n  "event": \n}')).toEqual([{ ok: false, where: 'line 4', error: "Invalid JSON: unexpected '}' at column 1" }]);
  });

  it('drops prototype keys and tolerates a byte-order mark', () => {
    const [entry] = entries('\ufeff{"__proto__": {"x": 1}, "a": 1}');
    expect(entry).toEqual({ ok: true, where: 'line 1', value: { a: 1 } });
  });

  it('holds nothing when the file is empty', () => {
    expect(eventFileOf(' \n\n').total).toBe(0);
  });
});

describe('backfill lines', () => {
  const settings = (extra: Record<string, unknown> = {}): DestinationSettings => {
    const checked = validateSettings({ apiKey: 'k', sharedSecret: 's', ...extra });
    if (!checked.ok) throw new Error(checked.errors.join('; '));
    return checked.settings;
  };
  const at = new Date('2024-05-01T00:00:00Z');

  it('maps an identify exactly as the live identify does, keyed by extid', () => {
    const event = {
      type: 'identify',
      userId: 'u-1',
      anonymousId: 'a-1',
      traits: { email: ' U1@Example.com ', id: 'dropped', plan: 'pro', address: { city: 'Lisbon' }, tags: ['x'], optoutValue: 'x' },
      integrations: { Sailthru: { optout_email: 'blast' } },
    };
    const s = settings({ defaultListName: 'All Users' });
    const mapped = updateLineOf(event, s, at);
    const live: SegmentEvent = { ...event, type: 'identify', messageId: 'm' };
    const { payload } = identifyPayload(live, resolveEventSettings(live, s).eventSettings);
    expect(mapped).toEqual({
      kind: 'line',
      line: { extid: 'u-1', email: 'U1@Example.com', vars: { plan: 'pro', address_city: 'Lisbon', tags_0: 'x' }, lists: { 'All Users': 1 }, optout_email: 'blast' },
      warnings: [],
    });
    // Same vars, lists, optout and email as the POST /user payload of the live path.
    expect(payload).toMatchObject({ vars: mapped.kind === 'line' ? mapped.line.vars : null, lists: { 'All Users': 1 }, optout_email: 'blast', keys: { email: 'U1@Example.com' } });
  });

  it('never sends optout none by default (SPEC.md §2.4), and takes numeric ids and type-less lines', () => {
    expect(updateLineOf({ userId: 42 }, settings(), at)).toEqual({ kind: 'line', line: { extid: '42' }, warnings: [] });
    expect(updateLineOf({ type: 'identify', anonymousId: 'anon-only', traits: { a: null } }, settings(), at)).toEqual({
      kind: 'line',
      line: { extid: 'anon-only', vars: { a: null } },
      warnings: [],
    });
  });

  it('skips what is not an identify or is switched off, and calls invalid what ingest would refuse', () => {
    expect(updateLineOf({ type: 'page', userId: 'u' }, settings(), at)).toEqual({ kind: 'skipped', reason: 'a "page" event, neither an identify nor an Order Completed' });
    expect(updateLineOf({ type: 'identify', userId: 'u', integrations: { All: false } }, settings(), at)).toEqual({
      kind: 'skipped',
      reason: 'integrations.All is false and Sailthru is not enabled',
    });
    expect(updateLineOf({ type: 'identify', traits: {} }, settings(), at)).toEqual({ kind: 'invalid', reason: 'the event has neither userId nor anonymousId' });
    expect(updateLineOf({ type: 'identify', userId: 'u', traits: 'x' }, settings(), at)).toEqual({ kind: 'invalid', reason: 'traits must be a JSON object, not a string' });
    expect(updateLineOf([1], settings(), at)).toEqual({ kind: 'invalid', reason: 'not a JSON object' });
  });
});
