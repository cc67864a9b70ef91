/**
 * Sailthru `vars` are flat: nested objects and arrays become `parent_child` and `list_0` keys
 * (SPEC.md §8). Decided there: undefined dropped, null kept (it clears a var), empty objects and
 * arrays dropped, Dates as ISO strings, collisions last-wins with a warning, prototype keys dropped.
 */
export type FlatValue = string | number | boolean | null;
export type FlatVars = { [key: string]: FlatValue };

export interface Flattened {
  vars: FlatVars;
  warnings: string[];
}

const SEPARATOR = '_';
/** Never let input name these: assigning them could reach Object.prototype. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Deeper than any real event; stops a pathological `[[[[…]]]]` from exhausting the stack. */
const MAX_DEPTH = 64;

/**
 * Flattens the own enumerable fields of an object. Anything that is not an object gives `{}`.
 * `label` names the source in warnings (`traits`, `properties`, `products[0]`).
 */
export function flatten(input: unknown, label = 'vars'): Flattened {
  const out = new Map<string, FlatValue>();
  const warnings: string[] = [];
  const ancestors = new Set<object>();
  const prefix = label === '' ? '' : `${label}: `;

  const write = (key: string, value: FlatValue): void => {
    if (PROTOTYPE_KEYS.has(key)) {
      warnings.push(`${prefix}field "${key}" dropped (reserved name)`);
      return;
    }
    if (out.has(key)) {
      warnings.push(`${prefix}"${key}" is produced by more than one field; the value written last wins`);
    }
    out.set(key, value);
  };

  const visit = (value: unknown, key: string, depth: number): void => {
    switch (typeof value) {
      case 'undefined':
      case 'function':
      case 'symbol':
        return;
      case 'string':
      case 'boolean':
        write(key, value);
        return;
      case 'number':
        // -0 is sent as 0 (JSON has no negative zero); keep what the delivery log shows the same.
        if (Number.isFinite(value)) write(key, value === 0 ? 0 : value);
        else warnings.push(`${prefix}"${key}" dropped: ${String(value)} is not a JSON number`);
        return;
      case 'bigint':
        write(key, value.toString());
        return;
      case 'object':
        break;
    }
    if (value === null) {
      write(key, null);
      return;
    }
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) warnings.push(`${prefix}"${key}" dropped: invalid date`);
      else write(key, value.toISOString());
      return;
    }
    visitChildren(value as object, key, depth);
  };

  const visitChildren = (value: object, parentKey: string | null, depth: number): void => {
    const where = parentKey ?? '(top level)';
    if (ancestors.has(value)) {
      warnings.push(`${prefix}"${where}" dropped: it contains itself`);
      return;
    }
    if (depth >= MAX_DEPTH) {
      warnings.push(`${prefix}"${where}" dropped: nested deeper than ${MAX_DEPTH} levels`);
      return;
    }
    ancestors.add(value);
    const entries: Array<[string, unknown]> = Array.isArray(value)
      ? value.map((item, index) => [String(index), item])
      : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
    for (const [segment, child] of entries) {
      if (PROTOTYPE_KEYS.has(segment)) {
        warnings.push(`${prefix}field "${parentKey === null ? segment : parentKey + SEPARATOR + segment}" dropped (reserved name)`);
        continue;
      }
      visit(child, parentKey === null ? segment : parentKey + SEPARATOR + segment, depth + 1);
    }
    ancestors.delete(value);
  };

  if (input !== null && typeof input === 'object' && !(input instanceof Date)) visitChildren(input, null, 0);

  const vars: FlatVars = {};
  for (const [key, value] of out) {
    // defineProperty keeps every key an own data property, whatever its text.
    Object.defineProperty(vars, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { vars, warnings };
}

export function isEmptyVars(vars: FlatVars): boolean {
  return Object.keys(vars).length === 0;
}
