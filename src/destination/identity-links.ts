import type { SegmentEvent } from '../segment/event.ts';
import { anonymousIdOf, userIdOf } from './identity.ts';

/**
 * Which userId an anonymousId was identified as (SPEC.md §0). Once an identify or alias has tied
 * them, a later event that carries only the anonymousId is sent under the userId: otherwise it
 * re-creates an email-less orphan profile keyed by the anonymousId, which Lifecycle Optimizer
 * cannot mail. The service keeps the ties in its store (shared by every worker, surviving
 * restarts); a destination built without one keeps them in memory.
 */
export interface IdentityLinks {
  userIdFor(anonymousId: string): Promise<string | null>;
  link(anonymousId: string, userId: string): Promise<void>;
  /** The user was deleted: its anonymousIds no longer lead to it. */
  forgetUser(userId: string): Promise<void>;
}

/** Ties kept in this process only (tests, the CLI, a destination built without a store). */
export class MemoryIdentityLinks implements IdentityLinks {
  private readonly links = new Map<string, string>();

  constructor(private readonly maxEntries = 100_000) {}

  async userIdFor(anonymousId: string): Promise<string | null> {
    return this.links.get(anonymousId) ?? null;
  }

  async link(anonymousId: string, userId: string): Promise<void> {
    this.links.delete(anonymousId);
    this.links.set(anonymousId, userId);
    // Oldest tie first out: the bound is only about memory.
    if (this.links.size > this.maxEntries) this.links.delete(this.links.keys().next().value as string);
  }

  async forgetUser(userId: string): Promise<void> {
    for (const [anonymousId, linked] of this.links) if (linked === userId) this.links.delete(anonymousId);
  }
}

export type LinkedEvent = { event: SegmentEvent; warning?: string } | { retry: string };

/**
 * The event as it is sent: one that carries only an anonymousId that was tied to a userId gets
 * that userId (the stored event keeps what the client sent). A store that cannot answer is an
 * infrastructure hiccup: retry, never send under the wrong id.
 */
export async function withLinkedUser(event: SegmentEvent, links: IdentityLinks): Promise<LinkedEvent> {
  const anonymousId = anonymousIdOf(event);
  if (anonymousId === null || userIdOf(event) !== null) return { event };
  let userId: string | null;
  try {
    userId = await links.userIdFor(anonymousId);
  } catch (err) {
    return { retry: `could not read which user anonymousId ${anonymousId} was identified as: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (userId === null || userId === anonymousId) return { event };
  return {
    event: { ...event, userId },
    warning: `sent under userId ${userId}: anonymousId ${anonymousId} was identified as that user`,
  };
}

/** Ties anonymousId to userId after an identify or alias; a failure to record it is retried. */
export async function recordLink(links: IdentityLinks, anonymousId: string, userId: string): Promise<string | null> {
  if (anonymousId === userId) return null;
  try {
    await links.link(anonymousId, userId);
    return null;
  } catch (err) {
    return `could not record that anonymousId ${anonymousId} is userId ${userId}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
