import type { SegmentEvent } from '../segment/event.ts';
import { field, objectOf, stringOf } from './read.ts';
import { isOptoutValue, type DestinationSettings, type OptoutValue } from './settings.ts';

/**
 * The settings that apply to one event: `integrations.Sailthru` overrides first, then the
 * destination's settings (SPEC.md §1). Both spellings Segment users send are accepted.
 */
export interface EventSettings {
  listName?: string;
  /** `fromEvent` matters: only an event override may send `none` (SPEC.md §2.4). */
  optout?: { value: OptoutValue; fromEvent: boolean };
  reminderTemplate?: string;
  reminderTime?: string;
  sendTemplate?: string;
}

export const OVERRIDE_KEYS = {
  listName: ['defaultListName', 'default_list_name'],
  optout: ['optoutValue', 'optout_email', 'optout_value'],
  reminderTemplate: ['reminderTemplate', 'reminder_template'],
  reminderTime: ['reminderTime', 'reminder_time'],
  sendTemplate: ['sendTemplate', 'send_template'],
} as const;

/** `integrations.Sailthru` when it is an options object. */
function sailthruOptions(event: SegmentEvent): Record<string, unknown> | undefined {
  return objectOf(field(objectOf(event.integrations), 'Sailthru'));
}

function firstText(options: Record<string, unknown> | undefined, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = stringOf(field(options, key));
    if (value !== undefined) return value;
  }
  return undefined;
}

export function resolveEventSettings(
  event: SegmentEvent,
  settings: DestinationSettings,
): { eventSettings: EventSettings; warnings: string[] } {
  const options = sailthruOptions(event);
  const warnings: string[] = [];
  const eventSettings: EventSettings = {};

  const listName = firstText(options, OVERRIDE_KEYS.listName) ?? settings.defaultListName;
  if (listName !== undefined) eventSettings.listName = listName;

  const optoutOverride = firstText(options, OVERRIDE_KEYS.optout);
  if (optoutOverride !== undefined && !isOptoutValue(optoutOverride)) {
    warnings.push(`integrations.Sailthru optout value ${JSON.stringify(optoutOverride)} ignored: use none, all, basic or blast`);
  }
  if (optoutOverride !== undefined && isOptoutValue(optoutOverride)) {
    eventSettings.optout = { value: optoutOverride, fromEvent: true };
  } else {
    eventSettings.optout = { value: settings.optoutValue, fromEvent: false };
  }

  const reminderTemplate = firstText(options, OVERRIDE_KEYS.reminderTemplate) ?? settings.reminderTemplate;
  if (reminderTemplate !== undefined) eventSettings.reminderTemplate = reminderTemplate;
  const reminderTime = firstText(options, OVERRIDE_KEYS.reminderTime) ?? settings.reminderTime;
  if (reminderTime !== undefined) eventSettings.reminderTime = reminderTime;
  const sendTemplate = firstText(options, OVERRIDE_KEYS.sendTemplate) ?? settings.sendTemplate;
  if (sendTemplate !== undefined) eventSettings.sendTemplate = sendTemplate;

  return { eventSettings, warnings };
}

/**
 * Segment's destinations object: `Sailthru: false` turns this destination off for the event;
 * `All: false` turns every destination off unless Sailthru is turned on again, by `true` or (as
 * Segment reads it) by an options object.
 */
export function skipReasonOf(event: SegmentEvent): string | null {
  const integrations = objectOf(event.integrations);
  if (integrations === undefined) return null;
  const sailthru = field(integrations, 'Sailthru');
  if (sailthru === false) return 'integrations.Sailthru is false';
  if (field(integrations, 'All') === false && sailthru !== true && objectOf(sailthru) === undefined) {
    return 'integrations.All is false and Sailthru is not enabled';
  }
  return null;
}
