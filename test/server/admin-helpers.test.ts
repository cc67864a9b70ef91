import { describe, expect, it } from 'vitest';
import { FailedAttempts, bearerToken, tokenMatches } from '../../src/server/admin-auth.ts';
import { parseDeadLetterSelector, parseEventQuery, parseTime } from '../../src/server/admin-input.ts';
import { mergeSettings } from '../../src/server/admin-settings.ts';
import { maskSecret } from '../../src/server/admin-views.ts';
import { redactSecrets } from '../../src/server/secret-redaction.ts';
import { quantileMs } from '../../src/server/series-sampler.ts';

describe('admin token', () => {
  it('matches only the exact token, from a Bearer header', () => {
    expect(tokenMatches('s3cret-token', 's3cret-token')).toBe(true);
    expect(tokenMatches('s3cret-toke', 's3cret-token')).toBe(false);
    expect(tokenMatches('s3cret-token-and-more', 's3cret-token')).toBe(false);
    expect(tokenMatches('', 's3cret-token')).toBe(false);
    expect(tokenMatches(undefined, 's3cret-token')).toBe(false);
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('blocks an address after too many failures within the window', async () => {
    let now = 0;
    const attempts = new FailedAttempts({ limit: 3, windowMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) await attempts.record('1.2.3.4');
    expect(await attempts.blocked('1.2.3.4')).toBe(true);
    expect(await attempts.blocked('5.6.7.8')).toBe(false);
    now = 999;
    expect(await attempts.blocked('1.2.3.4')).toBe(true);
    now = 1000;
    expect(await attempts.blocked('1.2.3.4')).toBe(false);
    await attempts.record('1.2.3.4');
    expect(await attempts.blocked('1.2.3.4')).toBe(false);
  });
});

describe('secret masking and redaction', () => {
  it('shows only a hint of a long secret and "set" for a short one', () => {
    expect(maskSecret('abcdefghijklmnXY')).toBe('••••XY');
    expect(maskSecret('short')).toBe('set');
    expect(maskSecret('')).toBeNull();
    expect(maskSecret(undefined)).toBeNull();
  });

  it('replaces a secret in its plain, JSON and HTML forms', () => {
    const secret = 'se"cr<et>-value';
    const text = `plain ${secret} json ${JSON.stringify({ s: secret })} html se&quot;cr&lt;et&gt;-value`;
    const { text: out, hits } = redactSecrets(text, [secret, 'tiny']);
    expect(hits).toBe(3);
    expect(out).not.toContain('cr<et>');
    expect(out).not.toContain('cr\\"');
    expect(out).toBe('plain [redacted] json {"s":"[redacted]"} html [redacted]');
  });
});

describe('settings merge', () => {
  it('keeps the secret when absent or empty, clears fields set to null or ""', () => {
    const stored = { apiKey: 'k', sharedSecret: 'old', defaultListName: 'L', customerId: 'c' };
    expect(mergeSettings(stored, { sharedSecret: '', defaultListName: null, customerId: '', apiKey: 'k2' })).toEqual({ apiKey: 'k2', sharedSecret: 'old' });
    expect(mergeSettings(stored, { sharedSecret: 'new' })).toMatchObject({ sharedSecret: 'new', defaultListName: 'L' });
  });
});

describe('search input', () => {
  it('reads times as ISO, datetime-local (UTC) or epoch ms', () => {
    expect(parseTime('2024-03-01T12:00:00Z')?.toISOString()).toBe('2024-03-01T12:00:00.000Z');
    expect(parseTime('2024-03-01T12:00')?.toISOString()).toBe('2024-03-01T12:00:00.000Z');
    expect(parseTime('1709294400000')?.toISOString()).toBe('2024-03-01T12:00:00.000Z');
    expect(parseTime('yesterday')).toBeNull();
  });

  it('maps the query to the store filter', () => {
    expect(parseEventQuery({ userId: ' u1 ', event: 'Order Completed', state: 'failed,retrying', destination: 'd', before: '10', limit: '5', type: 'track', messageId: 'm' })).toEqual({
      laneKey: 'u1',
      eventName: 'Order Completed',
      status: ['failed', 'retrying'],
      destinationId: 'd',
      beforeId: 10,
      limit: 5,
      type: 'track',
      messageId: 'm',
    });
    expect(parseEventQuery({ state: 'delivered', userId: '' })).toEqual({ status: 'delivered' });
  });

  it('selects dead letters by ids or by filter, never both', () => {
    expect(parseDeadLetterSelector({ ids: [3, 4] })).toEqual({ ids: [3, 4] });
    expect(parseDeadLetterSelector({ filter: { destination: 'd', event: 'X' } })).toEqual({ filter: { destinationId: 'd', eventName: 'X' } });
    expect(parseDeadLetterSelector({ filter: {} })).toEqual({ filter: {} });
    expect(() => parseDeadLetterSelector({ ids: [0] })).toThrow(/ids/);
    expect(() => parseDeadLetterSelector({ ids: [1], filter: {} })).toThrow(/not both/);
  });
});

describe('latency quantiles from histogram buckets', () => {
  it('interpolates within the bucket as Prometheus does', () => {
    // 10 observations: 5 under 0.1 s, 4 more under 0.5 s, 1 under 1 s.
    const buckets: Array<[number, number]> = [
      [0.1, 5],
      [0.5, 9],
      [1, 10],
      [Infinity, 10],
    ];
    expect(quantileMs(buckets, 0.5)).toBe(100);
    expect(quantileMs(buckets, 0.95)).toBe(750);
    expect(quantileMs([[0.1, 0], [Infinity, 0]], 0.5)).toBeNull();
    expect(quantileMs([[0.1, 0], [Infinity, 2]], 0.5)).toBe(100);
  });
});
