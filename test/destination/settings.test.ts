import { describe, expect, expectTypeOf, it } from 'vitest';
import Value from 'typebox/value';
import { DestinationSettingsSchema, SECRET_SETTING_KEYS, SETTING_KEYS, SETTINGS, validateSettings } from '../../src/destination/settings.ts';
import { resolveEventSettings, skipReasonOf, type EventSettings } from '../../src/destination/overrides.ts';
import type { DestinationSettings, SecretSettingKey } from '../../src/destination/settings.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';

const BASE: DestinationSettings = {
  apiKey: 'k',
  sharedSecret: 's',
  optoutValue: 'none',
  deletionFromEvents: 'signed',
  apiUrl: 'https://api.sailthru.com',
  trackUrl: 'https://api.sail-track.com',
};


/** The credentials alone, with every default filled in. */
const DEFAULTED = {
  apiKey: 'key',
  sharedSecret: 'secret',
  optoutValue: 'none',
  unchangedIdentifyHours: 24,
  coalesceBacklog: 'on',
  deletionFromEvents: 'signed',
  apiUrl: 'https://api.sailthru.com',
  trackUrl: 'https://api.sail-track.com',
};

describe('validateSettings (SPEC.md §1)', () => {
  it('fills the defaults', () => {
    expect(validateSettings({ apiKey: 'key', sharedSecret: 'secret' })).toEqual({ ok: true, settings: DEFAULTED });
  });

  it('accepts every setting, env-style text included', () => {
    const result = validateSettings({
      apiKey: 'key',
      sharedSecret: 'secret',
      customerId: 'cust',
      optoutValue: 'blast',
      defaultListName: 'Newsletter',
      reminderTemplate: 'abandoned',
      reminderTime: '24 hours',
      sendTemplate: 'receipt',
      productBaseUrl: 'https://shop.example/p/',
      cartExpiryHours: '48',
      deletionFromEvents: 'write-key',
      apiUrl: 'http://127.0.0.1:4010/',
      trackUrl: 'http://127.0.0.1:4010',
      customerName: 'ignored: unknown fields are not settings',
    });
    expect(result).toEqual({
      ok: true,
      settings: {
        apiKey: 'key',
        sharedSecret: 'secret',
        customerId: 'cust',
        optoutValue: 'blast',
        defaultListName: 'Newsletter',
        reminderTemplate: 'abandoned',
        reminderTime: '24 hours',
        sendTemplate: 'receipt',
        productBaseUrl: 'https://shop.example/p',
        cartExpiryHours: 48,
        unchangedIdentifyHours: 24,
        coalesceBacklog: 'on',
        deletionFromEvents: 'write-key',
        apiUrl: 'http://127.0.0.1:4010',
        trackUrl: 'http://127.0.0.1:4010',
      },
    });
  });

  it('treats empty strings as not set', () => {
    const result = validateSettings({ apiKey: 'key', sharedSecret: 'secret', customerId: '', reminderTime: '  ', cartExpiryHours: '' });
    expect(result.ok && result.settings).toEqual(DEFAULTED);
  });

  it('names every wrong field, and never repeats the secret', () => {
    const result = validateSettings({
      sharedSecret: 42,
      optoutValue: 'sometimes',
      reminderTime: 'tomorrow-ish',
      productBaseUrl: 'ftp://x',
      cartExpiryHours: -1,
      apiUrl: 'not a url',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'apiKey is required (the Sailthru API key, under Settings → API & Postbacks)',
      'sharedSecret must be a string',
      'optoutValue must be one of none, all, basic, blast (got "sometimes")',
      'reminderTime must be a relative time such as "60 minutes", "24 hours", "1 hour 30 minutes" or "2 weeks" (got "tomorrow-ish")',
      'productBaseUrl must be an http(s) URL (got "ftp://x")',
      'cartExpiryHours must be a positive number of hours (got -1)',
      'apiUrl must be an http(s) URL (got "not a url")',
    ]);
    const secretCheck = validateSettings({ apiKey: 'k', sharedSecret: '', optoutValue: 'x' });
    expect(secretCheck.ok).toBe(false);
    if (!secretCheck.ok) expect(secretCheck.errors[0]).toBe('sharedSecret is required (the Sailthru API secret, under Settings → API & Postbacks)');
  });

  it('quotes a refused URL without the user name and password it carries', () => {
    const result = validateSettings({ apiKey: 'k', sharedSecret: 's', apiUrl: 'https://ops:hunter2@proxy.example:99999', trackUrl: 'http://a:b@c@ho st/' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'apiUrl must be an http(s) URL (got "https://***@proxy.example:99999")',
      'trackUrl must be an http(s) URL (got "http://***@ho st/")',
    ]);
  });

  it.each(['https://api.example.com/p?x=1', 'https://api.example.com/p#x', 'https://api.example.com?'])('refuses an API URL with a query or fragment: %j', (apiUrl) => {
    const result = validateSettings({ apiKey: 'k', sharedSecret: 's', apiUrl });
    expect(result).toEqual({ ok: false, errors: [`apiUrl must be an http(s) URL without a query or fragment (? or #): paths are appended to it (got ${JSON.stringify(apiUrl)})`] });
  });

  it('refuses something that is not an object', () => {
    expect(validateSettings(null)).toEqual({ ok: false, errors: ['settings must be an object'] });
    expect(validateSettings([])).toEqual({ ok: false, errors: ['settings must be an object'] });
  });

  it.each(['60 minutes', '+24 hours', '2 weeks', '1 day 12 hours', '90 mins'])('accepts reminderTime %j', (reminderTime) => {
    expect(validateSettings({ apiKey: 'k', sharedSecret: 's', reminderTime }).ok).toBe(true);
  });
});

const withIntegrations = (integrations: unknown): SegmentEvent =>
  ({ type: 'track', messageId: 'm', userId: 'u', event: 'E', integrations }) as SegmentEvent;

describe('per-event overrides (SPEC.md §1)', () => {
  const settings: DestinationSettings = {
    ...BASE,
    defaultListName: 'list2',
    optoutValue: 'all',
    reminderTemplate: 'reminder-template',
    reminderTime: '5 minutes',
    sendTemplate: 'send-template',
  };

  it('takes the settings when the event has no override', () => {
    expect(resolveEventSettings(withIntegrations(undefined), settings).eventSettings).toEqual({
      listName: 'list2',
      optout: { value: 'all', fromEvent: false },
      reminderTemplate: 'reminder-template',
      reminderTime: '5 minutes',
      sendTemplate: 'send-template',
    });
  });

  it('prefers camelCase overrides', () => {
    const e = withIntegrations({
      Sailthru: { defaultListName: 'custom-list', optoutValue: 'blast', reminderTemplate: 'reminder', reminderTime: '10m', sendTemplate: 'send' },
    });
    expect(resolveEventSettings(e, settings).eventSettings).toEqual({
      listName: 'custom-list',
      optout: { value: 'blast', fromEvent: true },
      reminderTemplate: 'reminder',
      reminderTime: '10m',
      sendTemplate: 'send',
    });
  });

  it('accepts snake_case overrides, camelCase winning when both are present', () => {
    const e = withIntegrations({
      Sailthru: { optout_email: 'basic', reminder_template: 'r', reminder_time: '1 hour', send_template: 's', sendTemplate: 'camel' },
    });
    expect(resolveEventSettings(e, settings).eventSettings).toMatchObject({
      optout: { value: 'basic', fromEvent: true },
      reminderTemplate: 'r',
      reminderTime: '1 hour',
      sendTemplate: 'camel',
    });
  });

  it('ignores overrides of the wrong type', () => {
    const e = withIntegrations({ Sailthru: { sendTemplate: 5, defaultListName: {}, reminderTime: '' } });
    expect(resolveEventSettings(e, settings).eventSettings).toMatchObject({ sendTemplate: 'send-template', listName: 'list2', reminderTime: '5 minutes' });
  });
});

describe('skip rule (SPEC.md §1)', () => {
  it.each([
    [{ Sailthru: false }, 'integrations.Sailthru is false'],
    [{ All: false }, 'integrations.All is false and Sailthru is not enabled'],
    [{ All: false, Sailthru: false }, 'integrations.Sailthru is false'],
    [{ All: false, Sailthru: true }, null],
    [{ All: false, Sailthru: { sendTemplate: 'x' } }, null],
    [{ All: true, Sailthru: {} }, null],
    [{ Mixpanel: false }, null],
    [undefined, null],
    ['garbage', null],
  ])('%j → %j', (integrations, expected) => {
    expect(skipReasonOf(withIntegrations(integrations))).toBe(expected);
  });
});

describe('the settings declaration (settings.ts)', () => {
  it('gives every setting a label, a hint and a description, and each env var and override key once', () => {
    const envs = SETTINGS.flatMap(([, schema]) => (schema.env === undefined ? [] : [schema.env]));
    const overrideKeys = SETTINGS.flatMap(([, schema]) => schema.overrides?.keys ?? []);
    for (const [key, schema] of SETTINGS) {
      expect([schema.title, schema.help, schema.description].every((text) => text.trim() !== ''), key).toBe(true);
      if (schema.env !== undefined) expect(schema.env, key).toMatch(/^SAILTHRU_[A-Z_]+$/);
    }
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(overrideKeys).size).toBe(overrideKeys.length);
    expect(SETTING_KEYS).toEqual(Object.keys(DestinationSettingsSchema.properties));
    expect(SECRET_SETTING_KEYS).toEqual(['sharedSecret']);
  });

  it('validates to values of the schema, defaults included', () => {
    for (const input of [
      { apiKey: 'k', sharedSecret: 's' },
      { apiKey: 'k', sharedSecret: 's', cartExpiryHours: ' 2.5 ', apiUrl: 'http://127.0.0.1:1//', optoutValue: 'basic', reminderTime: '+1 day' },
    ]) {
      const result = validateSettings(input);
      expect(result.ok).toBe(true);
      if (result.ok) expect(Value.Check(DestinationSettingsSchema, result.settings)).toBe(true);
    }
  });

  it('never quotes the value of a secret setting', () => {
    const result = validateSettings({ apiKey: 'k', sharedSecret: { nested: 'hunter2-secret' } });
    expect(result).toEqual({ ok: false, errors: ['sharedSecret must be a string'] });
  });
});

describe('per-event overrides outside a setting\'s choices', () => {
  it('are ignored with a warning naming the key given', () => {
    const e = withIntegrations({ Sailthru: { optout_value: 'sometimes' } });
    const { eventSettings, warnings } = resolveEventSettings(e, { ...BASE, optoutValue: 'basic' });
    expect(eventSettings.optout).toEqual({ value: 'basic', fromEvent: false });
    expect(warnings).toEqual(['integrations.Sailthru.optout_value "sometimes" ignored: use none, all, basic or blast']);
  });
});

describe('the types derived from the declaration', () => {
  it('gives the per-event settings their names and value types', () => {
    expectTypeOf<EventSettings>().toEqualTypeOf<{
      optout?: { value: 'none' | 'all' | 'basic' | 'blast'; fromEvent: boolean };
      listName?: string;
      reminderTemplate?: string;
      reminderTime?: string;
      sendTemplate?: string;
    }>();
    expectTypeOf<DestinationSettings['cartExpiryHours']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<DestinationSettings['apiUrl']>().toEqualTypeOf<string>();
    expectTypeOf<SecretSettingKey>().toEqualTypeOf<'sharedSecret'>();
  });
});
