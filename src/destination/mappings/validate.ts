import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { MAPPING_ACTIONS } from './actions.ts';
import { EVENT_PATH_PATTERN, MappingsSchema, UNARY_OPS, type Mapping } from './schema.ts';

/** Keys valueAt never reads (fields.ts): a path through one could never match or resolve. */
const UNREADABLE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const UNREADABLE = '__proto__, constructor and prototype are never read from an event';
const readable = (path: string): boolean => !path.split('.').some((key) => UNREADABLE_KEYS.has(key));

export type MappingsValidation = { ok: true; mappings: Mapping[] } | { ok: false; errors: string[] };

/**
 * Checks a mapping list from the admin API, CONFIG_FILE or the store against the TypeBox schemas
 * (schema.ts, and each action's fields in actions.ts), then what a schema cannot say (exactly one
 * of `from`/`fixed`, a condition's value, unique ids). Every message starts with the field's path,
 * e.g. `mappings[2].trigger.conditions[0].op: must be one of exists, not exists, …`.
 */
export function validateMappings(input: unknown, label = 'mappings'): MappingsValidation {
  const errors = schemaErrors(MappingsSchema, input, label);
  if (errors.length > 0) return { ok: false, errors };
  const mappings = input as Mapping[];
  const seen = new Map<string, number>();
  mappings.forEach((mapping, index) => {
    const at = `${label}[${index}]`;
    const earlier = seen.get(mapping.id);
    if (earlier !== undefined) errors.push(`${at}.id: "${mapping.id}" is already the id of ${label}[${earlier}]`);
    else seen.set(mapping.id, index);
    const event = mapping.trigger.event;
    if (event !== undefined && Object.keys(event).length !== 1) {
      errors.push(`${at}.trigger.event: give exactly one of equals, oneOf, startsWith`);
    }
    (mapping.trigger.conditions ?? []).forEach((condition, i) => {
      if (!readable(condition.path)) errors.push(`${at}.trigger.conditions[${i}].path: ${UNREADABLE}`);
      const where = `${at}.trigger.conditions[${i}].value`;
      const unary = UNARY_OPS.includes(condition.op);
      if (unary && condition.value !== undefined) errors.push(`${where}: ${condition.op} takes no value`);
      if (!unary && condition.value === undefined) errors.push(`${where}: ${condition.op} needs a value`);
      const v = condition.value;
      if (v !== undefined && typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
        errors.push(`${where}: must be text, a number or true/false`);
      }
      if (['>', '>=', '<', '<='].includes(condition.op) && v !== undefined && typeof v !== 'number') {
        errors.push(`${where}: ${condition.op} compares numbers: give a number`);
      }
    });
    const action = MAPPING_ACTIONS[mapping.action];
    const fields = mapping.fields ?? {};
    errors.push(...schemaErrors(action.fieldsSchema, fields, `${at}.fields`));
    for (const [name, value] of Object.entries(fields)) {
      const kind = action.fields[name]?.kind;
      const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
      if (kind === 'source' && keys.length !== 1) errors.push(`${at}.fields.${name}: give exactly one of from (paths) or fixed (text)`);
      if (kind === 'source' && keys.length === 1) {
        const source = value as { from?: unknown; fixed?: unknown };
        // Blank text resolves to nothing (fields.ts: resolveSource), so the action would lack its input.
        if (typeof source.fixed === 'string' && source.fixed.trim() === '') errors.push(`${at}.fields.${name}.fixed: must not be blank`);
        if (Array.isArray(source.from)) {
          source.from.forEach((path, j) => {
            if (typeof path === 'string' && !readable(path)) errors.push(`${at}.fields.${name}.from[${j}]: ${UNREADABLE}`);
          });
        }
      }
      if (kind === 'vars' && keys.length !== 1) errors.push(`${at}.fields.${name}: give exactly one of allow or deny`);
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, mappings };
}

/** TypeBox's errors as `path: problem`, one per path, the most useful kept. */
export function schemaErrors(schema: TSchema, value: unknown, label: string): string[] {
  const byPath = new Map<string, string>();
  for (const error of Value.Errors(schema, value)) {
    // "schema is false" repeats an additionalProperties error; a union's branches repeat its own.
    if (error.keyword === 'boolean' || error.keyword === 'const') continue;
    const path = label + error.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join('');
    const message = messageOf(error.keyword, error.params as Record<string, unknown>, error.message);
    if (error.keyword === 'required') {
      for (const name of (error.params as { requiredProperties?: string[] }).requiredProperties ?? []) byPath.set(`${path}.${name}`, 'is required');
      continue;
    }
    if (!byPath.has(path)) byPath.set(path, message);
  }
  return [...byPath].map(([path, message]) => `${path}: ${message}`);
}

function messageOf(keyword: string, params: Record<string, unknown>, fallback: string): string {
  switch (keyword) {
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'additionalProperties':
      return `unknown field ${(params.additionalProperties as string[]).join(', ')}`;
    case 'type':
      return `must be ${params.type === 'object' ? 'an object' : params.type === 'array' ? 'a list' : `a ${String(params.type)}`}`;
    case 'minItems':
      return `must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${String(params.limit)} items`;
    case 'minLength':
      return 'must not be empty';
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters`;
    case 'pattern':
      return params.pattern === EVENT_PATH_PATTERN ? 'must be names separated by single dots (no empty name, no spaces)' : 'is not in the accepted form';
    case 'uniqueItems':
      return 'must not repeat an item';
    default:
      return fallback;
  }
}
