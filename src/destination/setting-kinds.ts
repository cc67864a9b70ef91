import Type, { type Static, type TEnum, type TNumber, type TSchema, type TString } from 'typebox';
import Format from 'typebox/format';
import Value from 'typebox/value';
import { reminderTimeTerms } from './reminder-time.ts';

/**
 * The kinds of value a destination setting can hold, as TypeBox schemas carrying what the rest of
 * the program needs to know about each setting. settings.ts declares the settings with these;
 * validation, the env reading, the admin API's key list, the console form and the per-event
 * overrides are all derived from that one declaration.
 */

/** What every setting says about itself besides its type. */
// A type, not an interface: TypeBox's options take it only with an implicit index signature.
export type SettingMeta = {
  /** The console's label. */
  title: string;
  /** What it is; also ends the "is required (…)" message of a required setting. */
  description: string;
  /** The console's hint under the label. */
  help: string;
  /** The env var that sets it for the destination declared by the environment. */
  env?: string;
  /** Write-only: stored, never shown, logged or answered back; an empty edit keeps it. */
  secret?: true;
  /** Per-event override in `integrations.Sailthru` (SPEC.md §1). */
  overrides?: OverrideMeta;
  /** Filled in when not given (which makes the setting always present once validated). */
  default?: string | number;
  /** What follows the key when a value is refused; each kind has its own. */
  problem?: string;
};

export interface OverrideMeta {
  /** The field of EventSettings it resolves to. */
  as: string;
  /** The keys read from `integrations.Sailthru`, first found wins (both spellings Segment users send). */
  keys: readonly string[];
  /** The resolved value says whether it came from the event (`{ value, fromEvent }`). */
  withSource?: true;
}

/** A setting's schema: its TypeBox type with its metadata, both visible to the type checker. */
export type SettingSchema = TSchema & SettingMeta & { format?: string };

// ── formats (TypeBox's registry: Value.Check applies them) ──────────────

const HTTP_URL = 'sailthru-destination/http-url';
const RELATIVE_TIME = 'sailthru-destination/relative-time';


Format.Set(HTTP_URL, (value) => httpUrlProblem(value) === null);

/**
 * Why a value is not an http(s) URL to which a path is appended, or null. A query or fragment is
 * refused: the client appends `/user` (the item URLs `/<product id>`) to the text, so
 * `https://h/p?x=1` would send every call to `/p` with the endpoint in its query, and after a `#`
 * the signed query would never be sent.
 */
function httpUrlProblem(value: string): string | null {
  let protocol: string;
  try {
    ({ protocol } = new URL(value));
  } catch {
    return 'must be an http(s) URL';
  }
  if (protocol !== 'http:' && protocol !== 'https:') return 'must be an http(s) URL';
  return /[?#]/.test(value) ? 'must be an http(s) URL without a query or fragment (? or #): paths are appended to it' : null;
}
// The reminder grammar shared with the per-event check (reminder-time.ts).
Format.Set(RELATIVE_TIME, (value) => reminderTimeTerms(value) !== undefined);

/** The stored form of a valid value, by format. */
const TIDY: Record<string, (value: string) => string> = {
  [HTTP_URL]: (url) => url.replace(/\/+$/, ''),
  // Stored spelled out (`24 hrs` → `24 hours`), as it will be sent.
  [RELATIVE_TIME]: (time) => reminderTimeTerms(time) ?? time,
};

// ── the kinds ───────────────────────────────────────────────────────────

/** Free text (names, templates, ids). */
export function text<const M extends SettingMeta>(meta: M): TString & M {
  return Type.String({ problem: 'must be a string', ...(meta as SettingMeta) }) as TString & M;
}

/** One of a few words. */
export function choice<const V extends string, const M extends SettingMeta>(values: readonly V[], meta: M): TEnum<V[]> & M {
  return Type.Enum([...values], { problem: `must be one of ${values.join(', ')}`, ...(meta as SettingMeta) }) as TEnum<V[]> & M;
}

/** An http(s) URL, stored without trailing slashes. */
export function httpUrl<const M extends SettingMeta>(meta: M): TString & M {
  return Type.String({ problem: 'must be an http(s) URL', ...(meta as SettingMeta), format: HTTP_URL }) as TString & M;
}

/** A relative time as Sailthru reads it (`60 minutes`, `2 weeks`). */
export function relativeTime<const M extends SettingMeta>(meta: M): TString & M {
  const problem = 'must be a relative time such as "60 minutes", "24 hours", "1 hour 30 minutes" or "2 weeks"';
  return Type.String({ problem, ...(meta as SettingMeta), format: RELATIVE_TIME }) as TString & M;
}

/** A number above zero, of `unit` (env and forms give it as text). */
export function positiveNumber<const M extends SettingMeta>(unit: string, meta: M): TNumber & M {
  return Type.Number({ problem: `must be a positive number of ${unit}`, ...(meta as SettingMeta), exclusiveMinimum: 0 }) as TNumber & M;
}

/** A number of `unit`, zero or more: 0 turns the feature off. */
export function nonNegativeNumber<const M extends SettingMeta>(unit: string, meta: M): TNumber & M {
  return Type.Number({ problem: `must be a number of ${unit}, 0 or more`, ...(meta as SettingMeta), minimum: 0 }) as TNumber & M;
}

// ── reading one setting's value ─────────────────────────────────────────

/** `value` is undefined when the setting is not set. */
export type SettingCheck = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * One setting's value from the console, env vars, a config file or the API, checked against its
 * schema. Settings may come from env vars, so `""` (or blanks) and null mean "not set", and a
 * number may be numeric text. The problem names no value of a secret setting.
 */
export function checkSetting(schema: SettingSchema, raw: unknown): SettingCheck {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return { ok: true, value: undefined };
  const numeric = isNumeric(schema);
  const given = typeof raw !== 'string' ? raw : numeric ? Number(raw.trim()) : raw.trim();
  if (Value.Check(schema, given)) {
    const tidy = schema.format === undefined ? undefined : TIDY[schema.format];
    return { ok: true, value: tidy && typeof given === 'string' ? tidy(given) : given };
  }
  // Something else where text is expected: the kind's sentence would mislead.
  if ((Type.IsString(schema) || Type.IsEnum(schema)) && typeof given !== 'string') return { ok: false, problem: 'must be a string' };
  const shown = schema.format === HTTP_URL && typeof given === 'string' ? withoutUserinfo(given) : numeric ? raw : given;
  const got = schema.secret ? '' : ` (got ${JSON.stringify(shown)})`;
  const problem = schema.format === HTTP_URL && typeof given === 'string' ? httpUrlProblem(given) : null;
  return { ok: false, problem: `${problem ?? schema.problem ?? 'is not valid'}${got}` };
}

/**
 * A URL as a problem may quote it: a user name and password before the host (`https://user:pw@…`)
 * are credentials, and a URL refused for another reason (a bad port) still carries them.
 */
function withoutUserinfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:[\\/]*)[^/\\?#]*@/, '$1***@');
}

function isNumeric(schema: TSchema): boolean {
  return Type.IsNumber(schema) || Type.IsInteger(schema);
}

/** A setting's value as an env var gives it: numbers as numbers when the text reads as one. */
export function fromEnvText(schema: SettingSchema, text: string): unknown {
  if (!isNumeric(schema)) return text;
  const n = Number(text.trim());
  // Other text stays text, so the validation message quotes what was set.
  return Number.isFinite(n) ? n : text;
}

/** Required: neither optional nor defaulted. */
export function isRequired(schema: SettingSchema): boolean {
  return !Type.IsOptional(schema) && schema.default === undefined;
}

/** The words a choice setting accepts; empty for other kinds. */
export function choicesOf(schema: SettingSchema): readonly string[] {
  return Type.IsEnum(schema) ? schema.enum.map(String) : [];
}

/** The console's input for a setting. */
export function inputKindOf(schema: SettingSchema): 'text' | 'password' | 'url' | 'number' | 'select' {
  if (schema.secret) return 'password';
  if (Type.IsEnum(schema)) return 'select';
  if (isNumeric(schema)) return 'number';
  return schema.format === HTTP_URL ? 'url' : 'text';
}

// ── types derived from a settings object's properties ──────────────────

/** The keys of the secret settings. */
export type SecretKeyOf<P> = { [K in keyof P]: P[K] extends { secret: true } ? K : never }[keyof P];

/** The settings that apply to one event, by the `as` name of each override. */
export type EventSettingsOf<P> = {
  [K in keyof P as P[K] extends { overrides: { as: infer A extends string } } ? A : never]?: P[K] extends TSchema
    ? P[K] extends { overrides: { withSource: true } }
      ? { value: Static<P[K]>; fromEvent: boolean }
      : Static<P[K]>
    : never;
};
