import { MAPPING_ACTIONS } from '../../destination/mappings/actions.ts';
import { ACTION_IDS, CONDITION_OPS, EVENT_TYPES, UNARY_OPS, type ActionId, type ConditionOp, type Mapping } from '../../destination/mappings/schema.ts';
import type { Form } from './kit.ts';

/**
 * A mapping as the console's form carries it, both ways: form fields → the mapping object the
 * admin service validates (nothing is checked here that validateMappings checks), and a stored
 * mapping → the values the form shows. Field names: docs/console.md, "Mappings".
 */

/** Empty condition rows a form offers beyond the mapping's own (no script needed to add one). */
export const SPARE_CONDITION_ROWS = 2;

export type EventMatchKind = 'any' | 'equals' | 'oneOf' | 'startsWith';
export const EVENT_MATCH_KINDS: readonly EventMatchKind[] = ['any', 'equals', 'oneOf', 'startsWith'];

/** A field's chosen kind: the action's default, or one of the two forms of its kind. */
export type FieldChoice = 'default' | 'from' | 'fixed' | 'deny' | 'allow';

export interface ConditionRow {
  path: string;
  op: string;
  value: string;
}

/** What the form shows: text as typed (or as stored), so a refused form comes back as it was sent. */
export interface MappingFormValues {
  id: string;
  name: string;
  enabled: boolean;
  types: string[];
  eventMatch: EventMatchKind;
  /** One per line. */
  eventNames: string;
  conditions: ConditionRow[];
  action: ActionId;
  /** `${action}.${field}` → the choice and its text (paths comma-separated, or the fixed text). */
  fields: Record<string, { choice: FieldChoice; text: string }>;
}

type Str = (f: Form, key: string) => string;

export function fieldKey(action: string, field: string): string {
  return `${action}.${field}`;
}

function all(f: Form, key: string): string[] {
  const v = f[key];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The form's values as sent (for showing again, and for mappingOf). */
export function formValuesFromForm(f: Form, str: Str): MappingFormValues {
  const action = (ACTION_IDS as readonly string[]).includes(str(f, 'action')) ? (str(f, 'action') as ActionId) : 'custom-event';
  const eventMatch = (EVENT_MATCH_KINDS as readonly string[]).includes(str(f, 'eventMatch')) ? (str(f, 'eventMatch') as EventMatchKind) : 'any';
  const rows = Object.keys(f)
    .map((k) => /^cond-path-(\d{1,2})$/.exec(k)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  // Blank rows dropped here, so row N of the form is conditions[N] in the API's messages.
  const conditions = rows
    .map((n) => ({ path: str(f, `cond-path-${n}`).trim(), op: str(f, `cond-op-${n}`), value: str(f, `cond-value-${n}`) }))
    .filter((c) => c.path !== '' || c.value.trim() !== '');
  const fields: MappingFormValues['fields'] = {};
  for (const a of ACTION_IDS) {
    for (const name of Object.keys(MAPPING_ACTIONS[a].fields)) {
      const key = fieldKey(a, name);
      const choice = str(f, `field-${key}-choice`);
      if (choice === '') continue;
      fields[key] = { choice: (['default', 'from', 'fixed', 'deny', 'allow'].includes(choice) ? choice : 'default') as FieldChoice, text: str(f, `field-${key}-text`) };
    }
  }
  return {
    id: str(f, 'id').trim(),
    name: str(f, 'name'),
    enabled: str(f, 'enabled') === 'on',
    types: all(f, 'types'),
    eventMatch,
    eventNames: str(f, 'eventNames'),
    conditions,
    action,
    fields,
  };
}

/** Comma- or newline-separated text as a list, blanks dropped. */
export function listOf(text: string, separator: RegExp = /[,\n]/): string[] {
  return text
    .split(separator)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * A condition's value as typed: a number, true/false, or text; "quoted" keeps text that looks
 * like a number. Empty: none (what exists, not exists and is array take).
 */
export function conditionValueOf(text: string): string | number | boolean | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
  return text;
}

function conditionValueText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string' && (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.trim()) || value === 'true' || value === 'false')) return `"${value}"`;
  return String(value);
}

/** The mapping the form describes (validated by the admin service, not here). */
export function mappingOf(v: MappingFormValues): Mapping {
  const names = listOf(v.eventNames, /\n/);
  const event =
    v.eventMatch === 'any'
      ? undefined
      : v.eventMatch === 'oneOf'
        ? { oneOf: names }
        : v.eventMatch === 'equals'
          ? { equals: names[0] ?? '' }
          : { startsWith: names[0] ?? '' };
  const conditions = v.conditions.map((c) => {
      const value = UNARY_OPS.includes(c.op as ConditionOp) ? undefined : conditionValueOf(c.value);
      return { path: c.path, op: c.op as ConditionOp, ...(value !== undefined ? { value } : {}) };
    });
  const fields: Record<string, unknown> = {};
  for (const name of Object.keys(MAPPING_ACTIONS[v.action].fields)) {
    const chosen = v.fields[fieldKey(v.action, name)];
    if (chosen === undefined || chosen.choice === 'default') continue;
    if (chosen.choice === 'fixed') fields[name] = { fixed: chosen.text };
    else fields[name] = { [chosen.choice]: listOf(chosen.text) };
  }
  return {
    id: v.id,
    name: v.name.trim(),
    enabled: v.enabled,
    trigger: {
      types: v.types as Mapping['trigger']['types'],
      ...(event !== undefined ? { event } : {}),
      ...(conditions.length > 0 ? { conditions } : {}),
    },
    action: v.action,
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}

/** A stored mapping as the form shows it. */
export function formValuesOfMapping(m: Mapping): MappingFormValues {
  const e = m.trigger.event;
  const fields: MappingFormValues['fields'] = {};
  for (const [name, value] of Object.entries(m.fields ?? {})) {
    const v = (value ?? {}) as Record<string, unknown>;
    const choice = (['from', 'fixed', 'deny', 'allow'] as const).find((k) => k in v);
    if (choice === undefined) continue;
    const raw = v[choice];
    fields[fieldKey(m.action, name)] = { choice, text: Array.isArray(raw) ? raw.join(', ') : String(raw ?? '') };
  }
  return {
    id: m.id,
    name: m.name,
    enabled: m.enabled,
    types: [...m.trigger.types],
    eventMatch: e?.equals !== undefined ? 'equals' : e?.oneOf !== undefined ? 'oneOf' : e?.startsWith !== undefined ? 'startsWith' : 'any',
    eventNames: e?.equals ?? e?.startsWith ?? (e?.oneOf ?? []).join('\n'),
    conditions: (m.trigger.conditions ?? []).map((c) => ({ path: c.path, op: c.op, value: conditionValueText(c.value) })),
    action: m.action,
    fields,
  };
}

/** A new mapping's form: the action's default subscription, as the console proposes it. */
export function newFormValues(action: ActionId): MappingFormValues {
  const sub = MAPPING_ACTIONS[action].defaultSubscription;
  const types = Array.isArray(sub.type) ? [...sub.type] : [sub.type as string];
  const names = sub.event ?? [];
  return {
    id: '',
    name: '',
    enabled: true,
    types,
    eventMatch: names.length === 0 ? 'any' : names.length === 1 ? 'equals' : 'oneOf',
    eventNames: names.join('\n'),
    conditions: [],
    action,
    fields: {},
  };
}

/** An id for a new mapping from its name, unused in `taken`. */
export function newMappingId(name: string, taken: ReadonlySet<string>): string {
  const base = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 56) || 'mapping';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

/**
 * Where a validation message belongs on the form: `mappings[3].trigger.conditions[0].op: …` is
 * condition row 0 of the mapping at index 3. Messages about other mappings (or none) go to `other`.
 */
export function problemsByFormField(problems: readonly string[], index: number): { byField: Map<string, string[]>; other: string[] } {
  const byField = new Map<string, string[]>();
  const other: string[] = [];
  for (const problem of problems) {
    const m = /^[A-Za-z]+\[(\d+)\]\.?([^:]*): (.*)$/s.exec(problem);
    if (m === null || Number(m[1]) !== index) {
      other.push(problem);
      continue;
    }
    const path = m[2]!;
    const key = formFieldOfPath(path);
    byField.set(key, [...(byField.get(key) ?? []), m[3]!]);
  }
  return { byField, other };
}

function formFieldOfPath(path: string): string {
  const cond = /^trigger\.conditions\[(\d+)\]/.exec(path);
  if (cond) return `cond-${cond[1]}`;
  if (path.startsWith('trigger.types')) return 'types';
  if (path.startsWith('trigger.event')) return 'event';
  if (path.startsWith('trigger')) return 'types';
  const field = /^fields\.([A-Za-z0-9_]+)/.exec(path);
  if (field) return `field-${field[1]}`;
  if (path === 'fields') return 'action';
  return path.split('.')[0] || 'other';
}

export { CONDITION_OPS, EVENT_TYPES };
