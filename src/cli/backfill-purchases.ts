import { completedPurchasePayload } from '../destination/actions/order-completed.ts';
import { eventEmailOf, extidOf } from '../destination/identity.ts';
import { resolveEventSettings, skipReasonOf } from '../destination/overrides.ts';
import { ORDER_COMPLETED_NAMES } from '../destination/route.ts';
import type { DestinationSettings } from '../destination/settings.ts';
import type { JsonObject } from '../json.ts';
import { isJsonObject, normalizeEvent, TRACKING_TYPES } from '../segment/index.ts';

/**
 * One Order Completed event → one line of a Sailthru `purchase_import` job: the POST /purchase
 * the live mapping would send (SPEC.md §5: items in cents, adjustments, date, purchase_keys,
 * message_id, vars), so history and live orders look alike in Sailthru. Pure.
 *
 * Decided, for historical orders (docs/decisions.md, "What marketers send beyond Segment's mapping"):
 * - no `send_template`: importing last year's orders must not mail a receipt for each;
 * - the purchase keeps its own date: an event whose `timestamp` (or `originalTimestamp`) is
 *   missing or unreadable is invalid rather than dated today, which would put old revenue in
 *   this week's reports;
 * - the email is the event's own, else the one an identify in the same file gave that user (a
 *   bulk job cannot look a profile up first); without either the line is invalid.
 */
export type PurchaseLine = JsonObject & { email: string };

export type PurchaseMapping =
  | { kind: 'line'; line: PurchaseLine; warnings: string[] }
  | { kind: 'skipped'; reason: string }
  | { kind: 'invalid'; reason: string };

/** Whether an entry of a backfill file is an Order Completed track (v1 name too). */
export function isOrderCompleted(raw: unknown): boolean {
  return isJsonObject(raw) && raw.type === 'track' && typeof raw.event === 'string' && ORDER_COMPLETED_NAMES.includes(raw.event);
}

export function purchaseLineOf(
  raw: unknown,
  settings: DestinationSettings,
  receivedAt: Date,
  emailOfExtid: (extid: string) => string | undefined,
): PurchaseMapping {
  const checked = normalizeEvent(raw, 0, { allowedTypes: TRACKING_TYPES, receivedAt, correctClockSkew: false });
  if (!checked.ok) return { kind: 'invalid', reason: checked.rejection.reason };
  const event = checked.event;
  const skip = skipReasonOf(event);
  if (skip !== null) return { kind: 'skipped', reason: skip };
  if (event.timestamp === event.receivedAt) {
    return { kind: 'invalid', reason: 'Order Completed has no readable timestamp: a historical purchase must carry its date (it would be dated today)' };
  }
  const extid = extidOf(event) ?? '';
  const emailWarnings: string[] = [];
  const email = eventEmailOf(event, (message) => emailWarnings.push(message)) ?? emailOfExtid(extid);
  if (email === undefined) {
    const skipped = emailWarnings.length > 0 ? ` (${emailWarnings.join('; ')})` : '';
    return { kind: 'invalid', reason: `no email for ${extid}${skipped}: give context.traits.email on the order, or an identify with traits.email in the same file` };
  }
  const { eventSettings, warnings: settingWarnings } = resolveEventSettings(event, settings);
  const mapped = completedPurchasePayload(event, eventSettings, settings.productBaseUrl);
  if (!mapped.ok) return { kind: 'invalid', reason: mapped.reason };
  const { send_template: _receipt, ...purchase } = mapped.value;
  return { kind: 'line', line: { email, ...purchase }, warnings: [...emailWarnings, ...settingWarnings, ...mapped.warnings] };
}
