import { missingParameter, otherError } from './sailthru-error.ts';

/** The decoded `json` parameter of a Sailthru call. */
export type Payload = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or number parameter as text; undefined when absent or empty. */
export function optionalText(payload: Payload, name: string): string | undefined {
  const value = payload[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw otherError(`Invalid value for parameter ${name}: expected a string`);
}

export function requiredText(payload: Payload, name: string): string {
  const value = optionalText(payload, name);
  if (value === undefined) throw missingParameter(name);
  return value;
}

export function optionalObject(payload: Payload, name: string): Record<string, unknown> | undefined {
  const value = payload[name];
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw otherError(`Invalid value for parameter ${name}: expected an object`);
  return value;
}

/** Sailthru's flags arrive as 1/0, "1"/"0" or booleans. */
export function isTruthyFlag(value: unknown): boolean {
  return value === 1 || value === true || value === '1' || value === 'true';
}
