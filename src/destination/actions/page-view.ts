import type { SegmentEvent } from '../../segment/event.ts';
import { delivered, failed, type Action, type Mapped } from '../action.ts';
import { extidOf } from '../identity.ts';
import { field, objectOf, pathOf, stringOf, textOf, type JsonObject } from '../read.ts';
import { resultOfError } from '../sailthru-port.ts';

/** SPEC.md §4, the page-view body for the tracking host. Pure. */
export function pageViewBody(event: SegmentEvent, customerId: string | undefined): Mapped<JsonObject> {
  if (customerId === undefined) return { ok: false, reason: 'customerId is required for page calls' };
  const properties = objectOf(event.properties);
  const url = stringOf(field(properties, 'url')) ?? stringOf(pathOf(event.context, 'page', 'url'));
  if (url === undefined) return { ok: false, reason: 'page has no URL: set properties.url or context.page.url' };
  const body: JsonObject = { userIdKey: 'extid', userIdValue: extidOf(event) ?? '', url };
  const tags = tagsOf(field(properties, 'keywords')) ?? tagsOf(field(properties, 'tags'));
  if (tags !== undefined) {
    body.tags = tags;
    body.useStoredTags = false;
  } else {
    body.useStoredTags = true;
  }
  return { ok: true, value: body, warnings: [] };
}

/** An array of words joined with `,`; a string is taken as already joined. */
function tagsOf(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw.trim() === '' ? undefined : raw;
  if (!Array.isArray(raw)) return undefined;
  const words = raw.map((w) => textOf(w)).filter((w): w is string => w !== undefined);
  return words.length > 0 ? words.join(',') : undefined;
}

export const pageView: Action = {
  name: 'page view',
  reads: ['userId', 'anonymousId', 'properties.url', 'context.page.url', 'properties.keywords', 'properties.tags'],
  sends: ['POST {trackUrl}/v1/track/event/pageview'],
  async perform(ctx) {
    const mapped = pageViewBody(ctx.event, ctx.settings.customerId);
    if (!mapped.ok) return failed(mapped.reason);
    const result = await ctx.sailthru.pageView(mapped.value);
    return result.ok ? delivered : resultOfError(result);
  },
};
