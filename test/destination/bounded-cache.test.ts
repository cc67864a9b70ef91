import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/destination/bounded-cache.ts';

describe('BoundedCache (the extid → email cache and merged-id memory)', () => {
  it('keeps at most maxEntries, evicting the least recently used', () => {
    const cache = new BoundedCache<string, number>(2, 1_000, () => 0);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recent
    cache.set('c', 3);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.get('c')).toBe(3);
  });

  it('forgets entries after their time to live', () => {
    let now = 0;
    const cache = new BoundedCache<string, string>(10, 100, () => now);
    cache.set('u', 'e@x.com');
    now = 99;
    expect(cache.get('u')).toBe('e@x.com');
    now = 100;
    expect(cache.get('u')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds nothing with maxEntries 0, and deletes on request', () => {
    const none = new BoundedCache<string, number>(0, 1_000);
    none.set('a', 1);
    expect(none.has('a')).toBe(false);
    const cache = new BoundedCache<string, number>(5, 1_000);
    cache.set('a', 1);
    cache.delete('a');
    expect(cache.has('a')).toBe(false);
  });
});
