import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { flatten } from '../../src/destination/flatten.ts';

const SEED_INPUT =
  '{"levels":[1,2,3],"arcade":{"blips and chitz":{"planet":"Parblesnops"},"galaxy":{"coordinates":"1232.4832"},"games":["Roy: A life well lived","Whack a mole"]}}';
const SEED_OUTPUT =
  '{"levels_0":1,"levels_1":2,"levels_2":3,"arcade_blips and chitz_planet":"Parblesnops","arcade_galaxy_coordinates":"1232.4832","arcade_games_0":"Roy: A life well lived","arcade_games_1":"Whack a mole"}';

describe('flatten (SPEC.md §8)', () => {
  it('turns the seed example into the seed output byte for byte', () => {
    const { vars, warnings } = flatten(JSON.parse(SEED_INPUT));
    expect(JSON.stringify(vars)).toBe(SEED_OUTPUT);
    expect(warnings).toEqual([]);
  });

  it('keeps null, drops undefined, drops empty objects and arrays', () => {
    const { vars } = flatten({ a: null, b: undefined, c: {}, d: [], e: { f: {} }, g: [{}, { h: 1 }], i: 0, j: '', k: false });
    expect(vars).toEqual({ a: null, g_1_h: 1, i: 0, j: '', k: false });
    expect(Object.keys(vars)).not.toContain('b');
  });

  it('writes Dates as ISO strings', () => {
    const { vars } = flatten({ at: new Date('2024-05-01T10:00:00.000Z'), nested: { when: new Date(0) } });
    expect(vars).toEqual({ at: '2024-05-01T10:00:00.000Z', nested_when: '1970-01-01T00:00:00.000Z' });
  });

  it('lets the value written last win on a key collision, with a warning', () => {
    const first = flatten({ a_b: 1, a: { b: 2 } });
    expect(first.vars).toEqual({ a_b: 2 });
    expect(first.warnings).toHaveLength(1);
    expect(first.warnings[0]).toContain('"a_b"');
    const second = flatten({ a: { b: 2 }, a_b: 1 });
    expect(second.vars).toEqual({ a_b: 1 });
    expect(second.warnings).toHaveLength(1);
  });

  it('drops __proto__, constructor and prototype keys at any depth without touching prototypes', () => {
    const input = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"a":{"prototype":1,"__proto__":{"y":2},"ok":3}}');
    const { vars, warnings } = flatten(input);
    expect(JSON.stringify(vars)).toBe('{"a_ok":3}');
    expect(Object.getPrototypeOf(vars)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(warnings.length).toBeGreaterThanOrEqual(3);
  });

  it('drops a flattened key that spells a prototype key from harmless parts', () => {
    // "" + "_" + "_proto__" and "_" + "_" + "proto__" both spell "__proto__".
    const { vars, warnings } = flatten(JSON.parse('{"":{"_proto__":{"polluted":true}},"_":{"proto__":1},"b":{"_proto__":2}}'));
    expect(JSON.stringify(vars)).toBe('{"__proto___polluted":true,"b__proto__":2}');
    expect(warnings).toEqual(['vars: field "__proto__" dropped (reserved name)']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives cycles and absurd nesting with a warning instead of a crash', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const c = flatten(cyclic);
    expect(c.vars).toEqual({ a: 1 });
    expect(c.warnings[0]).toContain('contains itself');

    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const d = flatten({ deep, shallow: 1 });
    expect(d.vars).toEqual({ shallow: 1 });
    expect(d.warnings[0]).toContain('nested deeper');
  });

  it('gives {} for anything that is not an object', () => {
    for (const input of [null, undefined, 1, 'text', true]) expect(flatten(input).vars).toEqual({});
  });

  describe('properties', () => {
    const keys = fc.oneof(
      fc.string(),
      fc.constantFrom('__proto__', 'constructor', 'prototype', '_proto__', '', '_', 'a_b', 'toString', 'hasOwnProperty'),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.date({ noInvalidDate: false }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(keys, tie('value'), { maxKeys: 5 }),
      ),
    })).value;
    // JSON.parse makes `__proto__` an own key, as input from the wire has it.
    const wireObject = fc.dictionary(keys, json, { maxKeys: 6 }).map((o) => {
      try {
        return JSON.parse(JSON.stringify(o)) as unknown;
      } catch {
        return o;
      }
    });

    it('sends negative zero as 0, as JSON does', () => {
      // fast-check found it: {"": -0} came back from the wire as {"": 0}.
      expect(Object.is(flatten({ n: -0 }).vars.n, 0)).toBe(true);
    });

    it('never produces a nested value or a prototype key, and never pollutes Object.prototype', () => {
      fc.assert(
        fc.property(fc.oneof(wireObject, fc.dictionary(keys, json, { maxKeys: 6 })), (input) => {
          const { vars } = flatten(input);
          for (const key of Object.keys(vars)) {
            expect(['__proto__', 'constructor', 'prototype']).not.toContain(key);
            const value = vars[key];
            expect(value === null || ['string', 'number', 'boolean'].includes(typeof value)).toBe(true);
            if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
          }
          expect(Object.getPrototypeOf(vars)).toBe(Object.prototype);
          expect(Object.keys(Object.prototype)).toEqual([]);
          // Round-trips through JSON unchanged: nothing the wire would lose or reshape.
          expect(JSON.parse(JSON.stringify(vars))).toEqual(vars);
        }),
        { numRuns: 500 },
      );
    });
  });
});
