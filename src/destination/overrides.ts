import type { SegmentEvent } from '../segment/event.ts';
import { field, objectOf, stringOf } from './read.ts';
import { choicesOf, type EventSettingsOf } from './setting-kinds.ts';
import { DestinationSettingsSchema, SETTINGS, type DestinationSettings } from './settings.ts';

/**
 * The settings that apply to one event: `integrations.Sailthru` overrides first, then the
 * destination's settings (SPEC.md §1). Which settings an event may override, under which keys,
 * is declared with the settings (settings.ts). `optout.fromEvent` matters: only an event override
 * may send `none` (SPEC.md §2.4).
 */
export type EventSettings = EventSettingsOf<typeof DestinationSettingsSchema.properties>;

const OVERRIDABLE = SETTINGS.flatMap(([key, schema]) => (schema.overrides ? [{ key, schema, ...schema.overrides }] : []));

/** The `integrations.Sailthru` keys read for each overridable setting, by its EventSettings name. */
export const OVERRIDE_KEYS: Readonly<Record<keyof EventSettings, readonly string[]>> = Object.fromEntries(
  OVERRIDABLE.map((o) => [o.as, o.keys]),
) as Record<keyof EventSettings, readonly string[]>;

/** `integrations.Sailthru` when it is an options object. */
function sailthruOptions(event: SegmentEvent): Record<string, unknown> | undefined {
  return objectOf(field(objectOf(event.integrations), 'Sailthru'));
}

/** The first override given, with the key it was given under. */
function firstText(options: Record<string, unknown> | undefined, keys: readonly string[]): { key: string; value: string } | undefined {
  for (const key of keys) {
    const value = stringOf(field(options, key));
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

/**
 * An override outside a setting's choices is ignored with a warning (it cannot be sent); other
 * text is passed on as given, for Sailthru to judge.
 */
export function resolveEventSettings(
  event: SegmentEvent,
  settings: DestinationSettings,
): { eventSettings: EventSettings; warnings: string[] } {
  const options = sailthruOptions(event);
  const warnings: string[] = [];
  const resolved: Record<string, unknown> = {};
  for (const o of OVERRIDABLE) {
    const override = firstText(options, o.keys);
    const choices = choicesOf(o.schema);
    let fromEvent = override !== undefined;
    if (override !== undefined && choices.length > 0 && !choices.includes(override.value)) {
      warnings.push(`integrations.Sailthru.${override.key} ${JSON.stringify(override.value)} ignored: use ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`);
      fromEvent = false;
    }
    const value = fromEvent ? override!.value : settings[o.key];
    if (value === undefined) continue;
    resolved[o.as] = o.withSource ? { value, fromEvent } : value;
  }
  return { eventSettings: resolved as EventSettings, warnings };
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
