import { identifyPayload } from '../destination/actions/identify.ts';
import type { FlatVars } from '../destination/flatten.ts';
import { resolveEventSettings, skipReasonOf } from '../destination/overrides.ts';
import type { DestinationSettings } from '../destination/settings.ts';
import { isJsonObject, normalizeEvent, TRACKING_TYPES } from '../segment/index.ts';

/**
 * One identify event → one line of a Sailthru bulk `update` job, mapped exactly as the live
 * identify maps it (SPEC.md §2: vars from the flattened traits, email, default list, optout), only
 * named by `extid` the way update files name users. Pure.
 *
 * Decided: a bulk line cannot look a profile up first, so the anonymousId merge of SPEC.md §2.3
 * does not happen here; profiles are keyed by userId (else anonymousId, as identify does). An
 * event whose Sailthru switch is off (`integrations.Sailthru: false`) and any event that is not
 * an identify are skipped, not errors; an event the server would refuse (no ids, bad field types)
 * is invalid.
 */

/** A line of an update job file, as Sailthru (and the emulator) read them. */
export interface UpdateLine {
  extid: string;
  email?: string;
  vars?: FlatVars;
  lists?: Record<string, number>;
  optout_email?: string;
}

export type LineMapping =
  | { kind: 'line'; line: UpdateLine; warnings: string[] }
  | { kind: 'skipped'; reason: string }
  | { kind: 'invalid'; reason: string };

export function updateLineOf(raw: unknown, settings: DestinationSettings, receivedAt: Date): LineMapping {
  if (!isJsonObject(raw)) return { kind: 'invalid', reason: 'not a JSON object' };
  // A file of identify events need not say so on every line.
  const typed = raw.type === undefined || raw.type === null ? { ...raw, type: 'identify' } : raw;
  if (typed.type !== 'identify') {
    return { kind: 'skipped', reason: `a ${typeof typed.type === 'string' ? `"${typed.type}"` : 'non-identify'} event, neither an identify nor an Order Completed` };
  }
  const checked = normalizeEvent(typed, 0, { allowedTypes: TRACKING_TYPES, receivedAt, correctClockSkew: false });
  if (!checked.ok) return { kind: 'invalid', reason: checked.rejection.reason };
  const event = checked.event;
  const skip = skipReasonOf(event);
  if (skip !== null) return { kind: 'skipped', reason: skip };

  const { eventSettings, warnings: settingWarnings } = resolveEventSettings(event, settings);
  const { payload, warnings } = identifyPayload(event, eventSettings);
  const line: UpdateLine = { extid: String(payload.id) };
  const email = (payload.keys as { email?: unknown } | undefined)?.email;
  if (typeof email === 'string') line.email = email;
  if (payload.vars !== undefined) line.vars = payload.vars as FlatVars;
  if (payload.lists !== undefined) line.lists = payload.lists as Record<string, number>;
  if (typeof payload.optout_email === 'string') line.optout_email = payload.optout_email;
  return { kind: 'line', line, warnings: [...settingWarnings, ...warnings] };
}
