import { SECRET_SETTING_KEYS, SETTING_KEYS, validateSettings, type DestinationSettings } from '../destination/settings.ts';

/** A destination's name and settings as operators give them (the admin API and the console). */

const MAX_NAME = 200;

/** The name, trimmed; a problem named `name …` when it is missing (and required), empty or too long. */
export function destinationName(value: unknown, problems: string[], required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) problems.push('name is required (a label for this Sailthru account, e.g. "Production")');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    problems.push('name must be non-empty text');
    return undefined;
  }
  if (value.trim().length > MAX_NAME) {
    problems.push(`name is longer than ${MAX_NAME} characters`);
    return undefined;
  }
  return value.trim();
}

/** Settings that validate, or null with their problems added. */
export function checkedSettings(raw: Record<string, unknown> | null, problems: string[]): DestinationSettings | null {
  if (raw === null) return null;
  const checked = validateSettings(raw);
  if (!checked.ok) {
    problems.push(...checked.errors);
    return null;
  }
  return checked.settings;
}

/** Only known settings; anything else is named as unknown (a typo would otherwise vanish). */
export function settingsObject(value: unknown, problems: string[]): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push('settings must be an object');
    return null;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      problems.push(`${key} is not a setting (known: ${SETTING_KEYS.join(', ')})`);
      continue;
    }
    out[key] = v;
  }
  return out;
}

/** Changes over stored settings: null or "" clears a field, except a secret, which is kept. */
export function mergeSettings(stored: unknown, changes: Record<string, unknown> | null): Record<string, unknown> | null {
  if (changes === null) return null;
  const merged: Record<string, unknown> = { ...((stored ?? {}) as Record<string, unknown>) };
  for (const [key, value] of Object.entries(changes)) {
    if (isSecret(key) && (value === undefined || value === null || value === '')) continue;
    if (value === null || value === '') delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function isSecret(key: string): boolean {
  return (SECRET_SETTING_KEYS as readonly string[]).includes(key);
}
