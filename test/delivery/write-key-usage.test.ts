import { describe, expect, it } from 'vitest';
import { WriteKeyUsage } from '../../src/delivery/write-key-usage.ts';

describe('WriteKeyUsage', () => {
  it('answers lookups as the store does and records accepted keys once per flush, unknown ones never', async () => {
    const recorded: Array<{ keys: string[]; at: Date }> = [];
    const usage = new WriteKeyUsage(
      {
        destinationFor: async (key) => (key.startsWith('good') ? 'dest' : null),
        recordWriteKeyUse: async (keys, at) => {
          recorded.push({ keys, at });
        },
      },
      { now: () => 1_000, flushMs: 3_600_000 },
    );
    expect(await usage.destinationFor('good-1')).toBe('dest');
    expect(await usage.destinationFor('good-1')).toBe('dest');
    expect(await usage.destinationFor('bad')).toBeNull();
    expect(await usage.destinationFor('good-2')).toBe('dest');
    expect(recorded).toEqual([]);
    await usage.flush();
    expect(recorded).toEqual([{ keys: ['good-1', 'good-2'], at: new Date(1_000) }]);
    await usage.flush();
    expect(recorded).toHaveLength(1);
  });
});
