import { optionalText, type Payload } from '../payload.ts';
import type { PageviewRecord } from '../records.ts';
import { missingParameter } from '../sailthru-error.ts';
import type { EndpointContext } from './context.ts';

/**
 * POST /v1/track/event/pageview (the sail-track host): a JSON body authenticated by the
 * customer id as a bearer token, no api_key or sig. Records the view; never creates a profile.
 */
export function postPageview(body: Payload, ctx: EndpointContext): unknown {
  const url = optionalText(body, 'url');
  if (url === undefined) throw missingParameter('url');
  const userIdKey = optionalText(body, 'userIdKey');
  const userIdValue = optionalText(body, 'userIdValue');
  const profile = userIdValue !== undefined ? ctx.state.profiles.find(userIdKey ?? 'email', userIdValue) : undefined;
  const record: PageviewRecord = { time: new Date(ctx.nowMs).toISOString(), url, sid: profile?.sid ?? null };
  if (userIdKey !== undefined) record.userIdKey = userIdKey;
  if (userIdValue !== undefined) record.userIdValue = userIdValue;
  if (body.tags !== undefined) record.tags = body.tags;
  if (body.useStoredTags !== undefined) record.useStoredTags = body.useStoredTags;
  ctx.state.pageviews.append(record);
  return { ok: true };
}
