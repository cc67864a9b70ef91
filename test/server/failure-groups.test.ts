import { describe, expect, it } from 'vitest';
import { normaliseReason } from '../../src/server/failure-groups.ts';

describe('normaliseReason', () => {
  it('puts placeholders for emails, ids, numbers and quoted values, so one problem is one group', () => {
    const cases: Array<[string, string]> = [
      ['Sailthru has no email for extid sample-user-1; send identify with traits.email first', 'Sailthru has no email for extid <id>; send identify with traits.email first'],
      ['Sailthru has no email for extid user-42; send identify with traits.email first', 'Sailthru has no email for extid <id>; send identify with traits.email first'],
      ['Nothing to remove: product SKU-9 is not in the cart of ada@example.com', 'Nothing to remove: product <id> is not in the cart of <email>'],
      ['retry window of 4 hours ran out after 17 attempts', 'retry window of <n> hours ran out after <n> attempts'],
      ['event "Signup" is reserved', 'event "…" is reserved'],
      ['user 3f2b1c9e-1234-4abc-9def-0123456789ab not found', 'user <id> not found'],
    ];
    for (const [raw, normalised] of cases) expect(normaliseReason(raw), raw).toBe(normalised);
  });

  it('keeps error codes and HTTP statuses, which tell problems apart', () => {
    expect(normaliseReason('Sailthru error 99: Invalid event name (HTTP 400)')).toBe('Sailthru error 99: Invalid event name (HTTP 400)');
    expect(normaliseReason('Sailthru error 14: Unknown template')).not.toBe(normaliseReason('Sailthru error 99: Unknown template'));
    expect(normaliseReason(null)).toBe('(no reason recorded)');
  });
});
