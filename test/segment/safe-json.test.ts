import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { locateJsonSyntaxError } from '../../src/segment/json-syntax.ts';
import { dropUnsafeKeys, parseJsonBody } from '../../src/segment/safe-json.ts';

describe('parseJsonBody', () => {
  it('parses valid JSON and tolerates a byte-order mark', () => {
    expect(parseJsonBody('{"a":[1,true,null,"x"]}')).toEqual({ ok: true, value: { a: [1, true, null, 'x'] } });
    expect(parseJsonBody('\uFEFF {"a":1} ')).toEqual({ ok: true, value: { a: 1 } });
  });

  it.each([
    ['{"a":}', "Invalid JSON: unexpected '}' at position 5"],
    ['{"a":1', 'Invalid JSON: unexpected end of input at position 6'],
    ['{"a":1}x', "Invalid JSON: unexpected 'x' after the end of the JSON value at position 7"],
    ["{'a':1}", "Invalid JSON: expected a property name in double quotes or '}', found ''' at position 1"],
    ['{"a" 1}', "Invalid JSON: expected ':' after a property name, found '1' at position 5"],
    ['[1,2 3]', "Invalid JSON: expected ',' or ']', found '3' at position 5"],
    ['{"a":1,}', "Invalid JSON: expected a property name in double quotes, found '}' at position 7"],
    ['[01]', "Invalid JSON: expected ',' or ']', found '1' at position 2"],
    ['[-]', "Invalid JSON: expected a digit after '-', found ']' at position 2"],
    ['[1.]', "Invalid JSON: expected a digit after '.', found ']' at position 3"],
    ['[1e+]', "Invalid JSON: expected a digit in the exponent, found ']' at position 4"],
    ['[tru]', "Invalid JSON: unexpected ']' (expected 'true') at position 4"],
    ['["a\\x"]', "Invalid JSON: bad escape \\'x' in a string at position 3"],
    ['["\\u12"]', 'Invalid JSON: bad \\u escape in a string (needs four hex digits) at position 2'],
    ['["a\nb"]', 'Invalid JSON: unescaped character U+000A in a string at position 3'],
    ['["abc', 'Invalid JSON: unexpected end of input inside a string at position 5'],
    ['   ', 'Invalid JSON: the body is empty'],
    ['', 'Invalid JSON: the body is empty'],
  ])('explains %j precisely', (text, message) => {
    expect(parseJsonBody(text)).toEqual({ ok: false, error: message });
  });

  it('never quotes the input in its message (bodies carry write keys)', () => {
    // A write key sent unquoted: V8's own message quotes the body, key included.
    const text = '{"writeKey":wk_secret_value}';
    let v8Message = '';
    try {
      JSON.parse(text);
    } catch (error) {
      v8Message = (error as Error).message;
    }
    expect(v8Message).toContain('wk_secret');
    const parsed = parseJsonBody(text);
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain('wk_secret');
    expect(parsed).toEqual({ ok: false, error: "Invalid JSON: unexpected 'w' at position 12" });
  });

  it('handles very deep nesting without exhausting the stack', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(parseJsonBody(deep).ok).toBe(true);
    expect(parseJsonBody(deep.slice(0, -1))).toEqual({ ok: false, error: 'Invalid JSON: unexpected end of input at position 399999' });
    const deepWithKey = '{"__proto__":1,"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
    expect(parseJsonBody(deepWithKey).ok).toBe(true);
  });

  it('drops __proto__, constructor and prototype keys wherever they are, even when written with \\u escapes', () => {
    const text =
      '{"a":{"__proto__":{"polluted":true},"keep":1},"constructor":{"prototype":{"polluted":true}},' +
      '"list":[{"prototype":1,"ok":2}],"\\u005f_proto__":{"polluted":true}}';
    const parsed = parseJsonBody(text);
    expect(parsed.ok).toBe(true);
    const value = (parsed as { value: Record<string, unknown> }).value;
    expect(value).toEqual({ a: { keep: 1 }, list: [{ ok: 2 }] });
    expect(Object.hasOwn(value, '__proto__')).toBe(false);
    expect(Object.hasOwn(value.a as object, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(value.a)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('dropUnsafeKeys removes own keys only', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"b":[{"constructor":2}]}') as Record<string, unknown>;
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    dropUnsafeKeys(value);
    expect(value).toEqual({ b: [{}] });
    expect(Object.hasOwn(value, '__proto__')).toBe(false);
  });
});

describe('locateJsonSyntaxError', () => {
  it('agrees with JSON.parse on arbitrary text and on damaged JSON', () => {
    const damaged = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom('', '}', ']', ',', ':', '"', '\\', 'x', '\n', '-', '0', 'e'), fc.nat(3))
      .map(([json, at, insert, cut]) => {
        const i = at % (json.length + 1);
        return json.slice(0, i) + insert + json.slice(i + cut);
      });
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), damaged), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const found = locateJsonSyntaxError(text);
        expect(found === null).toBe(valid);
        if (found !== null) {
          expect(found.position).toBeGreaterThanOrEqual(0);
          expect(found.position).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
