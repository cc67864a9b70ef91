import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OVERRIDE_KEYS } from '../../src/destination/overrides.ts';
import { SETTINGS } from '../../src/destination/settings.ts';
import { RESERVED_EVENT_NAMES } from '../../src/destination/actions/track-event.ts';
import { LAST_MESSAGE_ID_VAR } from '../../src/destination/cart.ts';
import { NOTHING_TO_REMOVE, USER_ID_REQUIRED } from '../../src/destination/actions/cart-change.ts';
import { NO_REFUND_ITEMS_REASON } from '../../src/destination/actions/order-refunded.ts';
import {
  CART_SYNC_NAMES,
  ORDER_COMPLETED_NAMES,
  ORDER_REFUNDED_NAMES,
  PRODUCT_ADDED_NAMES,
  PRODUCT_REMOVED_NAMES,
  USER_DELETED_NAME,
} from '../../src/destination/route.ts';

/** The mapping reference users look things up in must name what the code does. */
describe('docs/sailthru-setup.md matches the code', () => {
  it('names every event name, override key, reserved name and fixed message the code uses', async () => {
    const doc = await readFile(new URL('../../docs/sailthru-setup.md', import.meta.url), 'utf8');
    const names = [...ORDER_COMPLETED_NAMES, ...ORDER_REFUNDED_NAMES, ...CART_SYNC_NAMES, ...PRODUCT_ADDED_NAMES, ...PRODUCT_REMOVED_NAMES, USER_DELETED_NAME];
    const keys = Object.values(OVERRIDE_KEYS).flat();
    const reserved = RESERVED_EVENT_NAMES.map((n) => `\`${n}\``);
    const extraKeys = ['`lists`', '`message_id`', '`sailthru_bid`', '`traits.optout_email`'];
    for (const text of [...names, ...keys.map((k) => `\`${k}\``), ...extraKeys, ...reserved, LAST_MESSAGE_ID_VAR, NOTHING_TO_REMOVE, USER_ID_REQUIRED, NO_REFUND_ITEMS_REASON.split(':')[0]!]) {
      expect(doc, text).toContain(text);
    }
  });

  it('lists every setting with its env var in the settings table', async () => {
    const doc = await readFile(new URL('../../docs/sailthru-setup.md', import.meta.url), 'utf8');
    const rows = doc.split('\n').filter((line) => line.startsWith('| `'));
    for (const [key, schema] of SETTINGS) {
      const row = rows.find((line) => line.split(' | ')[0]!.includes(`\`${key}\``));
      expect(row, key).toBeDefined();
      if (schema.env !== undefined) expect(row, key).toContain(`\`${schema.env}\``);
    }
  });
});
