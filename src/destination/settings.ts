import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { DEFAULT_API_URL, DEFAULT_TRACK_URL } from '../sailthru/urls.ts';
import { checkSetting, choice, httpUrl, isRequired, nonNegativeNumber, positiveNumber, relativeTime, text, type SecretKeyOf, type SettingSchema } from './setting-kinds.ts';

/** Settings built in code (tests, the library) may leave it out: this is what applies then. */
export const UNCHANGED_IDENTIFY_DEFAULT_HOURS = 24;

/**
 * One destination = Sailthru account and how events are mapped into it (SPEC.md §1).
 *
 * Every setting is declared here, once: its type, its label and hint in the console, its env var,
 * its per-event override keys, whether it is secret. Validation, the env reading (src/config.ts),
 * the admin API's keys, the console form and the overrides are derived from this; adding a
 * setting is adding a property here (and using it where it matters).
 */
export const DestinationSettingsSchema = Type.Object({
  apiKey: text({
    title: 'API key',
    description: 'the Sailthru API key, under Settings → API & Postbacks',
    help: 'Sailthru → Settings → API & Postbacks.',
    env: 'SAILTHRU_API_KEY',
  }),
  sharedSecret: text({
    title: 'Shared secret',
    description: 'the Sailthru API secret, under Settings → API & Postbacks',
    help: 'Write-only: stored, never shown again.',
    env: 'SAILTHRU_SECRET',
    secret: true,
  }),
  customerId: Type.Optional(
    text({
      title: 'Customer ID',
      description: 'the Sailthru customer id, for page views',
      help: 'Needed for page views only.',
      env: 'SAILTHRU_CUSTOMER_ID',
    }),
  ),
  optoutValue: choice(['none', 'all', 'basic', 'blast'], {
    title: 'Opt-out value',
    description: 'the optout_email sent on every identify',
    help: 'none: never send optout_email (default); others are sent on every identify.',
    env: 'SAILTHRU_OPTOUT',
    overrides: { as: 'optout', keys: ['optoutValue', 'optout_email', 'optout_value'], withSource: true },
    default: 'none',
  }),
  defaultListName: Type.Optional(
    text({
      title: 'Default list',
      description: 'the list every identified user joins',
      help: 'Every identified user joins this list.',
      env: 'SAILTHRU_DEFAULT_LIST',
      overrides: { as: 'listName', keys: ['defaultListName', 'default_list_name'] },
    }),
  ),
  reminderTemplate: Type.Optional(
    text({
      title: 'Abandoned-cart template',
      description: 'the abandoned-cart reminder template',
      help: 'Sent with cart updates, together with the reminder time.',
      env: 'SAILTHRU_REMINDER_TEMPLATE',
      overrides: { as: 'reminderTemplate', keys: ['reminderTemplate', 'reminder_template'] },
    }),
  ),
  reminderTime: Type.Optional(
    relativeTime({
      title: 'Abandoned-cart reminder time',
      description: 'when the abandoned-cart reminder is sent',
      help: 'e.g. 60 minutes, 24 hours, 2 weeks.',
      env: 'SAILTHRU_REMINDER_TIME',
      overrides: { as: 'reminderTime', keys: ['reminderTime', 'reminder_time'] },
    }),
  ),
  sendTemplate: Type.Optional(
    text({
      title: 'Receipt template',
      description: 'the receipt template of Order Completed',
      help: 'Sent for Order Completed.',
      env: 'SAILTHRU_SEND_TEMPLATE',
      overrides: { as: 'sendTemplate', keys: ['sendTemplate', 'send_template'] },
    }),
  ),
  productBaseUrl: Type.Optional(
    httpUrl({
      title: 'Product base URL',
      description: 'the last fallback for item URLs',
      help: 'Last fallback for item URLs: base + "/" + product id.',
      env: 'SAILTHRU_PRODUCT_BASE_URL',
    }),
  ),
  cartExpiryHours: Type.Optional(
    positiveNumber('hours', {
      title: 'Cart expiry (hours)',
      description: 'how old a stored cart may be before it counts as empty',
      help: 'A stored cart older than this counts as empty.',
      env: 'SAILTHRU_CART_EXPIRY_HOURS',
    }),
  ),
  unchangedIdentifyHours: Type.Optional(nonNegativeNumber('hours', {
    title: 'Skip unchanged identifies (hours)',
    description: 'how long an identify that would send the same profile update as the last one is skipped',
    help:
      'An identify whose POST /user would be the same as the last one Sailthru accepted for that user within this many hours ' +
      'is not sent again (skipped: unchanged since …). 0 sends every identify. Default 24.',
    env: 'SAILTHRU_UNCHANGED_IDENTIFY_HOURS',
    default: UNCHANGED_IDENTIFY_DEFAULT_HOURS,
  })),
  coalesceBacklog: Type.Optional(choice(['on', 'off'], {
    title: 'Coalesce a backlog',
    description: 'whether queued identifies, or cart changes, of one user go to Sailthru as one call',
    help:
      'on (default): when a lane holds several consecutive identifies, or cart changes, of one user already queued, they are delivered ' +
      'with one call (identify: one POST /user with the traits merged, later wins; cart: one POST /purchase with every change applied ' +
      'in order), each event logged with that call. off: one call per event.',
    env: 'SAILTHRU_COALESCE_BACKLOG',
    default: 'on',
  })),
  deletionFromEvents: choice(['signed', 'write-key'], {
    title: 'Deletions from events',
    description: 'which events may delete a Sailthru profile',
    help:
      'signed (default): a delete or User Deleted event deletes only when it came signed by the Webhooks shared secret ' +
      '(X-Signature) or from an admin (console, admin API, delete-user); write-key: also with a write key, which browsers make public.',
    env: 'SAILTHRU_DELETION_FROM_EVENTS',
    default: 'signed',
  }),
  apiUrl: httpUrl({
    title: 'API URL',
    description: 'the Sailthru API base',
    help: `Default ${DEFAULT_API_URL}.`,
    env: 'SAILTHRU_API_URL',
    default: DEFAULT_API_URL,
  }),
  trackUrl: httpUrl({
    title: 'Tracking URL',
    description: 'the Sailthru page-view host',
    help: `Default ${DEFAULT_TRACK_URL} (page views).`,
    env: 'SAILTHRU_TRACK_URL',
    default: DEFAULT_TRACK_URL,
  }),
});

export type DestinationSettings = Static<typeof DestinationSettingsSchema>;
export type SettingKey = keyof DestinationSettings;
export type OptoutValue = DestinationSettings['optoutValue'];

type SettingProperties = typeof DestinationSettingsSchema.properties;

/** Every setting with its schema, in the order an operator fills them. */
export const SETTINGS = Object.entries(DestinationSettingsSchema.properties) as Array<[SettingKey, SettingProperties[SettingKey] & SettingSchema]>;
export const SETTING_KEYS: readonly SettingKey[] = SETTINGS.map(([key]) => key);
/** The settings that are never shown back (each also kept when an edit leaves it empty). */
export type SecretSettingKey = SecretKeyOf<SettingProperties>;
export const SECRET_SETTING_KEYS = SETTINGS.filter(([, schema]) => schema.secret).map(([key]) => key) as readonly SecretSettingKey[];

export type SettingsValidation = { ok: true; settings: DestinationSettings } | { ok: false; errors: string[] };

/**
 * Checks settings from the console, env vars or a config file and fills defaults. Every message
 * names the field; none repeats the value of a secret. Unknown fields are ignored here (the admin
 * API refuses them).
 */
export function validateSettings(input: unknown): SettingsValidation {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: ['settings must be an object'] };
  }
  const raw = input as Record<string, unknown>;
  const errors: string[] = [];
  const settings: Record<string, unknown> = {};
  for (const [key, schema] of SETTINGS) {
    const checked = checkSetting(schema, Object.prototype.hasOwnProperty.call(raw, key) ? raw[key] : undefined);
    if (!checked.ok) errors.push(`${key} ${checked.problem}`);
    else if (checked.value !== undefined) settings[key] = checked.value;
    else if (isRequired(schema)) errors.push(`${key} is required (${schema.description})`);
  }
  if (errors.length > 0) return { ok: false, errors };
  // Each value given was checked against its schema above; the defaults are of theirs.
  return { ok: true, settings: Value.Default(DestinationSettingsSchema, settings) as DestinationSettings };
}
