import { standardMix } from '../../src/cli/traffic.ts';
import type { SegmentEvent } from '../../src/segment/event.ts';
import { normalizeTrackingBody } from '../../src/segment/normalize.ts';

/** The event kinds of issue 8's standard mix, as the benchmarks group them. */
export type MixKind = 'identify' | 'custom track' | 'page' | 'Order Completed' | 'cart change';

export const MIX_KINDS: readonly MixKind[] = ['identify', 'custom track', 'page', 'Order Completed', 'cart change'];

export function kindOf(event: { type?: unknown; event?: unknown }): MixKind | 'other' {
  if (event.type === 'identify') return 'identify';
  if (event.type === 'page') return 'page';
  if (event.type !== 'track') return 'other';
  if (event.event === 'Order Completed') return 'Order Completed';
  if (event.event === 'Product Added' || event.event === 'Product Removed') return 'cart change';
  return 'custom track';
}

/**
 * `count` events of the standard mix (src/cli/traffic.ts, fixed seed, 2,000 users) normalised as
 * ingest stores them, in the order they were generated.
 */
export function normalisedMix(count: number, options: { seed?: number; users?: number; messageIdPrefix?: string } = {}): SegmentEvent[] {
  const wire = standardMix({ seed: options.seed ?? 1, users: options.users ?? 2000, ...(options.messageIdPrefix ? { messageIdPrefix: options.messageIdPrefix } : {}) }).take(count);
  const out: SegmentEvent[] = [];
  const receivedAt = new Date('2025-05-01T10:00:00.000Z');
  // Batches of 500 stay under the 2,500 events a batch may carry.
  for (let i = 0; i < wire.length; i += 500) {
    const result = normalizeTrackingBody({ batch: wire.slice(i, i + 500) }, 'batch', receivedAt);
    if (!result.ok) throw new Error(`the standard mix did not normalise: ${result.error}`);
    if (result.rejected.length > 0) throw new Error(`the standard mix had rejected events: ${JSON.stringify(result.rejected[0])}`);
    out.push(...result.accepted);
  }
  return out;
}
