import type { WireEvent } from '../../src/cli/traffic.ts';
import { seededRandom } from '../../src/emulator/prng.ts';

/**
 * Issue 19's "browser mix": the standard mix as an analytics.js site sends it, where the page
 * calls identify again on page loads with the traits it already sent. After `share` of the page
 * loads (`page` events) of someone already identified, an identify is inserted with their userId
 * (analytics.js keeps it after an identify), the page's anonymousId and exactly the traits of
 * their last identify: an unchanged identify. Who is identified: the page carries the userId, or
 * its anonymousId was identified as a userId by an earlier identify. A page load of a visitor
 * never identified has no one to identify and gets none; the figures say how many were added.
 */
export interface BrowserMix {
  events: WireEvent[];
  pageLoads: number;
  /** Page loads of someone identified before (the ones that may get an identify). */
  pageLoadsIdentified: number;
  identifiesAdded: number;
}

export function browserMix(standard: readonly WireEvent[], options: { share?: number; seed?: number } = {}): BrowserMix {
  const share = options.share ?? 0.6;
  const random = seededRandom(options.seed ?? 19);
  const lastTraits = new Map<string, unknown>();
  const userOfAnonymous = new Map<string, string>();
  const events: WireEvent[] = [];
  let pageLoads = 0;
  let identified = 0;
  let added = 0;
  for (const event of standard) {
    events.push(event);
    const userId = typeof event.userId === 'string' ? event.userId : undefined;
    const anonymousId = typeof event.anonymousId === 'string' ? event.anonymousId : undefined;
    if (event.type === 'identify' && userId !== undefined) {
      lastTraits.set(userId, event.traits);
      if (anonymousId !== undefined) userOfAnonymous.set(anonymousId, userId);
    }
    if (event.type !== 'page') continue;
    pageLoads++;
    const who = userId ?? (anonymousId !== undefined ? userOfAnonymous.get(anonymousId) : undefined);
    const traits = who !== undefined ? lastTraits.get(who) : undefined;
    if (who === undefined || traits === undefined) continue;
    identified++;
    if (random() >= share) continue;
    added++;
    events.push({ type: 'identify', userId: who, anonymousId, traits: structuredClone(traits), messageId: `${String(event.messageId)}-identify` });
  }
  return { events, pageLoads, pageLoadsIdentified: identified, identifiesAdded: added };
}
