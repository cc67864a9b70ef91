import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { remindersOf } from '../../src/destination/cart.ts';
import { reminderTimeOf } from '../../src/destination/reminder-time.ts';
import { validateSettings } from '../../src/destination/settings.ts';
import { reminderDelayMs } from '../../src/emulator/reminder-time.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { event, identifyUser, startHarness, type Harness } from './harness.ts';

/**
 * SPEC.md §6: the settings check, the per-event check and the emulator accept one grammar. The
 * product spells out abbreviations before checking and sends the spelled-out form; the emulator,
 * like Sailthru's strtotime, reads only spelled-out units.
 */
const ACCEPTED: Array<[string, string, number]> = [
  ['60 minutes', '+60 minutes', 60 * 60_000],
  ['+20 minutes', '+20 minutes', 20 * 60_000],
  ['24 hours', '+24 hours', 24 * 3_600_000],
  ['24 hrs', '+24 hours', 24 * 3_600_000],
  ['2h', '+2 hours', 2 * 3_600_000],
  ['1 hr', '+1 hours', 3_600_000],
  ['90 mins', '+90 minutes', 90 * 60_000],
  ['3 d', '+3 days', 3 * 86_400_000],
  ['1 hour 30 minutes', '+1 hour 30 minutes', 90 * 60_000],
  ['+1 Hour 30 Min', '+1 hour 30 minutes', 90 * 60_000],
  ['2 weeks', '+2 weeks', 14 * 86_400_000],
  ['1 day 12 hours', '+1 day 12 hours', 36 * 3_600_000],
  ['1 fortnight', '+1 fortnight', 14 * 86_400_000],
  ['30 seconds', '+30 seconds', 30_000],
];
const REFUSED = ['soon', '', '+', '10m', '5 w', 'tomorrow', '-1 hour', '1.5 hours', '1 hour and 30 minutes', '1 hour30 minutes', '2024-05-01T10:00:00Z', 'hours 2'];

describe('one reminder-time grammar (SPEC.md §6)', () => {
  it.each(ACCEPTED)('%j: the setting, the event and the emulator accept it; %j is sent', (given, sent, delayMs) => {
    expect(reminderTimeOf(given)).toBe(sent);
    const settings = validateSettings({ apiKey: 'k', sharedSecret: 's', reminderTime: given });
    expect(settings.ok).toBe(true);
    // The setting is stored spelled out, as it is sent.
    if (settings.ok) expect(`+${settings.settings.reminderTime}`).toBe(sent);
    expect(remindersOf('cart', given)).toEqual({ fields: { reminder_template: 'cart', reminder_time: sent } });
    expect(reminderDelayMs(sent)).toBe(delayMs);
  });

  it.each(REFUSED)('%j: the setting, the event and the emulator refuse it', (given) => {
    expect(reminderTimeOf(given)).toBeUndefined();
    if (given.trim() !== '') expect(validateSettings({ apiKey: 'k', sharedSecret: 's', reminderTime: given }).ok).toBe(false);
    expect(remindersOf('cart', given).fields).toBeUndefined();
    expect(reminderDelayMs(given)).toBeNull();
    expect(reminderDelayMs(`+${given}`)).toBeNull();
  });

  it('the emulator, like strtotime, refuses the abbreviations the product spells out', () => {
    for (const raw of ['24 hrs', '2h', '3 d']) expect(reminderDelayMs(raw)).toBeNull();
  });
});

describe('per-event reminder_time (SPEC.md §6)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ productBaseUrl: 'https://shop.example/p', reminderTemplate: 'cart-reminder', reminderTime: '60 minutes' });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    h.emulator.reset();
    await identifyUser(h.destination, 'shopper', { email: 'shopper@example.com' });
    h.mark();
  });
  const added = (reminderTime: string): SegmentEvent =>
    event({ type: 'track', userId: 'shopper', event: 'Product Added', properties: { product_id: 'a', price: 5 }, integrations: { Sailthru: { reminder_time: reminderTime } } });
  const posted = () => h.received().find((r) => r.path === '/purchase')?.payload as Record<string, unknown> | undefined;

  it('"soon": the cart is posted without reminder fields, with a warning', async () => {
    const outcome = await h.destination.deliver(added('soon'));
    expect(outcome.state).toBe('delivered');
    expect(outcome.warnings).toContain('reminder time "soon" is not a relative time such as "60 minutes", "24 hours" or "1 hour 30 minutes"; no reminder sent');
    const payload = posted();
    expect(payload?.items).toHaveLength(1);
    expect(payload).not.toHaveProperty('reminder_time');
    expect(payload).not.toHaveProperty('reminder_template');
  });

  it.each([
    ['24 hrs', '+24 hours'],
    ['1 hour 30 minutes', '+1 hour 30 minutes'],
  ])('%j is sent as %j and the emulator schedules the reminder', async (given, sent) => {
    const outcome = await h.destination.deliver(added(given));
    expect(outcome.state).toBe('delivered');
    expect(posted()).toMatchObject({ reminder_template: 'cart-reminder', reminder_time: sent });
    expect(h.emulator.state({ key: 'extid', id: 'shopper' }).profiles[0]?.cart?.reminder_time).toBe(sent);
  });
});
