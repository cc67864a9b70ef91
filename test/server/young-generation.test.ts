import { describe, expect, it } from 'vitest';
import { capYoungGeneration, newSpaceBytes, youngGenerationLeftToV8 } from '../../src/server/young-generation.ts';

/**
 * Allocates objects that survive a few scavenges, which is what makes V8 grow its young
 * generation, in bursts of 10,000 with the event loop turning between them as in a server (the
 * cap is checked after each collection, from the event loop).
 */
async function churn(rounds: number): Promise<void> {
  let keep: object[] = [];
  for (let i = 0; i < rounds; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 100_000) keep = [];
    if (i % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

const MB = 1024 * 1024;

describe('capYoungGeneration', () => {
  it('keeps the young generation at the cap under churn, and V8 grows it past the cap once stopped', async () => {
    // 8 MiB semi-spaces (the server's cap): V8's default grows to 16 MiB each.
    const stop = capYoungGeneration(8);
    try {
      await churn(4_000_000);
      expect(newSpaceBytes()).toBeLessThanOrEqual(16 * MB);
    } finally {
      stop();
    }
    // Without the cap the same churn grows it further: the cap above is what held it.
    await churn(4_000_000);
    expect(newSpaceBytes()).toBeGreaterThan(16 * MB);
  });

  it('refuses a cap that doubling would step over', () => {
    expect(() => capYoungGeneration(6)).toThrow(RangeError);
  });
});

describe('youngGenerationLeftToV8', () => {
  it('leaves it to V8 with HEAP_GROWING_PERCENT=0 or a semi-space flag, and caps otherwise', () => {
    expect(youngGenerationLeftToV8({}, [])).toBe(false);
    expect(youngGenerationLeftToV8({ HEAP_GROWING_PERCENT: '50' }, [])).toBe(false);
    expect(youngGenerationLeftToV8({ HEAP_GROWING_PERCENT: '0' }, [])).toBe(true);
    expect(youngGenerationLeftToV8({}, ['--max-semi-space-size=4'])).toBe(true);
    expect(youngGenerationLeftToV8({ NODE_OPTIONS: '--max_semi_space_size=4' }, [])).toBe(true);
  });
});
