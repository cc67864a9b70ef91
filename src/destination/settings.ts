/** One destination = one Sailthru account and how events are mapped into it (SPEC.md §1). */
export type OptoutValue = 'none' | 'all' | 'basic' | 'blast';

export interface DestinationSettings {
  apiKey: string;
  /** Never sent, logged or shown back. */
  sharedSecret: string;
  customerId?: string;
  optoutValue: OptoutValue;
  defaultListName?: string;
  reminderTemplate?: string;
  reminderTime?: string;
  sendTemplate?: string;
  productBaseUrl?: string;
  cartExpiryHours?: number;
  apiUrl: string;
  trackUrl: string;
}

export const SAILTHRU_API_URL = 'https://api.sailthru.com';
export const SAILTHRU_TRACK_URL = 'https://api.sail-track.com';

export const OPTOUT_VALUES: readonly OptoutValue[] = ['none', 'all', 'basic', 'blast'];

export function isOptoutValue(value: unknown): value is OptoutValue {
  return typeof value === 'string' && (OPTOUT_VALUES as readonly string[]).includes(value);
}

export type SettingsValidation = { ok: true; settings: DestinationSettings } | { ok: false; errors: string[] };

/**
 * A relative time PHP's strtotime understands, as Sailthru's `reminder_time` does:
 * `60 minutes`, `+24 hours`, `2 weeks 3 days`.
 */
const RELATIVE_TIME = /^\+?\s*\d+\s*(sec|secs|second|seconds|min|mins|minute|minutes|hour|hours|day|days|week|weeks|fortnight|fortnights|month|months|year|years)(\s+\d+\s*(sec|secs|second|seconds|min|mins|minute|minutes|hour|hours|day|days|week|weeks|fortnight|fortnights|month|months|year|years))*$/i;

/**
 * Checks settings from the console, env vars or a config file and fills defaults. Strings may come
 * from env vars, so `""` means "not set" and numbers may be numeric text. Every message names the
 * field; none repeats the value of sharedSecret.
 */
export function validateSettings(input: unknown): SettingsValidation {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: ['settings must be an object'] };
  }
  const raw = input as Record<string, unknown>;
  const errors: string[] = [];
  const own = (key: string): unknown => (Object.prototype.hasOwnProperty.call(raw, key) ? raw[key] : undefined);

  const optionalText = (key: string): string | undefined => {
    const value = own(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      errors.push(`${key} must be a string`);
      return undefined;
    }
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const requiredText = (key: string, what: string): string => {
    const value = optionalText(key);
    if (value === undefined && !errors.some((e) => e.startsWith(`${key} `))) errors.push(`${key} is required (${what})`);
    return value ?? '';
  };
  const optionalUrl = (key: string): string | undefined => {
    const value = optionalText(key);
    if (value === undefined) return undefined;
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      errors.push(`${key} must be an http(s) URL (got ${JSON.stringify(value)})`);
      return undefined;
    }
    return value.replace(/\/+$/, '');
  };

  const apiKey = requiredText('apiKey', 'the Sailthru API key, under Settings → API & Postbacks');
  const sharedSecret = requiredText('sharedSecret', 'the Sailthru API secret, under Settings → API & Postbacks');
  const customerId = optionalText('customerId');

  let optoutValue: OptoutValue = 'none';
  const optout = optionalText('optoutValue');
  if (optout !== undefined) {
    if (isOptoutValue(optout)) optoutValue = optout;
    else errors.push(`optoutValue must be one of ${OPTOUT_VALUES.join(', ')} (got ${JSON.stringify(optout)})`);
  }

  const defaultListName = optionalText('defaultListName');
  const reminderTemplate = optionalText('reminderTemplate');
  const reminderTime = optionalText('reminderTime');
  if (reminderTime !== undefined && !RELATIVE_TIME.test(reminderTime)) {
    errors.push(`reminderTime must be a relative time such as "60 minutes", "24 hours" or "2 weeks" (got ${JSON.stringify(reminderTime)})`);
  }
  const sendTemplate = optionalText('sendTemplate');
  const productBaseUrl = optionalUrl('productBaseUrl');

  let cartExpiryHours: number | undefined;
  const expiry = own('cartExpiryHours');
  if (expiry !== undefined && expiry !== null && expiry !== '') {
    const n = typeof expiry === 'number' ? expiry : typeof expiry === 'string' ? Number(expiry.trim()) : NaN;
    if (!Number.isFinite(n) || n <= 0) errors.push(`cartExpiryHours must be a positive number of hours (got ${JSON.stringify(expiry)})`);
    else cartExpiryHours = n;
  }

  const apiUrl = optionalUrl('apiUrl') ?? SAILTHRU_API_URL;
  const trackUrl = optionalUrl('trackUrl') ?? SAILTHRU_TRACK_URL;

  if (errors.length > 0) return { ok: false, errors };
  const settings: DestinationSettings = { apiKey, sharedSecret, optoutValue, apiUrl, trackUrl };
  if (customerId !== undefined) settings.customerId = customerId;
  if (defaultListName !== undefined) settings.defaultListName = defaultListName;
  if (reminderTemplate !== undefined) settings.reminderTemplate = reminderTemplate;
  if (reminderTime !== undefined) settings.reminderTime = reminderTime;
  if (sendTemplate !== undefined) settings.sendTemplate = sendTemplate;
  if (productBaseUrl !== undefined) settings.productBaseUrl = productBaseUrl;
  if (cartExpiryHours !== undefined) settings.cartExpiryHours = cartExpiryHours;
  return { ok: true, settings };
}
