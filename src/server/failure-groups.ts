import type { DeliveryLog, EventFilter } from '../delivery/store.ts';
import { eventSummaryView, type EventSummaryView } from './admin-views.ts';

/**
 * Dead letters grouped by what went wrong: the store counts them by exact reason, and here
 * reasons that differ only by the values in them (an email, an id, a count) become one group, so
 * a hundred "no email for extid user-N" read as one problem with a hundred events.
 */

export interface FailureGroup {
  /** The normalised reason: what the group is filtered and acted on by. */
  key: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** The oldest event of the group, and its own reason as it was. */
  sampleId: number;
  sampleReason: string | null;
}

type Filter = Omit<EventFilter, 'status'>;

const NO_REASON = '(no reason recorded)';
const PAGE = 500;
const ACTION_BATCH = 1000;

/**
 * Values become placeholders: emails, quoted text, ids (a word with both digits and letters, as
 * user-42, SKU-9 or a UUID) and numbers. A number right after "error", "code", "status" or "HTTP" stays: Sailthru's error
 * codes and HTTP statuses tell problems apart.
 */
export function normaliseReason(reason: string | null): string {
  if (reason === null || reason.trim() === '') return NO_REASON;
  return reason
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, '<email>')
    .replace(/"[^"]{1,200}"/g, '"…"')
    .replace(/[\w-]+/g, (word) => (/\d/.test(word) && /[A-Za-z_]/.test(word) ? '<id>' : word))
    .replace(/(\b(?:error|code|status|HTTP)\s+)?\d+(\.\d+)?/gi, (match, label: string | undefined) => (label ? match : '<n>'))
    .trim();
}

export class FailureGroups {
  constructor(private readonly log: Pick<DeliveryLog, 'deadLetterReasons' | 'search' | 'retryDeadLetters' | 'dropDeadLetters'>) {}

  async groups(filter: Filter): Promise<FailureGroup[]> {
    const byKey = new Map<string, FailureGroup>();
    for (const r of await this.log.deadLetterReasons(filter)) {
      const key = normaliseReason(r.reason);
      const g = byKey.get(key);
      if (!g) {
        byKey.set(key, {
          key,
          count: r.count,
          firstSeen: r.firstSeen.toISOString(),
          lastSeen: r.lastSeen.toISOString(),
          sampleId: r.sampleId,
          sampleReason: r.reason,
        });
        continue;
      }
      g.count += r.count;
      if (r.firstSeen.toISOString() < g.firstSeen) g.firstSeen = r.firstSeen.toISOString();
      if (r.lastSeen.toISOString() > g.lastSeen) g.lastSeen = r.lastSeen.toISOString();
      if (r.sampleId < g.sampleId) {
        g.sampleId = r.sampleId;
        g.sampleReason = r.reason;
      }
    }
    return [...byKey.values()].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  }

  /** The newest dead letters of one group, at most `limit`. */
  async events(filter: Filter, key: string, limit: number): Promise<EventSummaryView[]> {
    const out: EventSummaryView[] = [];
    for await (const page of this.pages(filter)) {
      for (const e of page) if (normaliseReason(e.lastError) === key && out.length < limit) out.push(eventSummaryView(e));
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Acts on every dead letter of one group, in batches of ids. The action is the admin service's
   * retry or drop, so a group action is checked for the role, recorded in the audit log and marks
   * who dropped, like any other.
   */
  apply(filter: Filter, key: string, action: (ids: number[]) => Promise<number>): Promise<number> {
    return this.act(filter, key, action);
  }

  /** Every id of the group first, then the action in batches (the pages must not move under the walk). */
  private async act(filter: Filter, key: string, action: (ids: number[]) => Promise<number>): Promise<number> {
    const ids: number[] = [];
    for await (const page of this.pages(filter)) for (const e of page) if (normaliseReason(e.lastError) === key) ids.push(e.id);
    let total = 0;
    for (let i = 0; i < ids.length; i += ACTION_BATCH) total += await action(ids.slice(i, i + ACTION_BATCH));
    return total;
  }

  private async *pages(filter: Filter) {
    let beforeId: number | undefined;
    for (;;) {
      const page = await this.log.search({ ...filter, status: 'failed', limit: PAGE, ...(beforeId !== undefined ? { beforeId } : {}) });
      yield page.events;
      if (page.nextBeforeId === null) return;
      beforeId = page.nextBeforeId;
    }
  }
}
