import { normalizeWebhookBody, type SegmentEvent } from '../segment/index.ts';
import type { CallRecord, HttpMethod, SailthruResult, SailthruUser } from '../sailthru/types.ts';
import { createDestination } from './index.ts';
import { DEFAULT_MAPPINGS } from './mappings/defaults.ts';
import type { Mapping } from './mappings/schema.ts';
import { validateMappings } from './mappings/validate.ts';
import type { OutcomeState } from './outcome.ts';
import type { SailthruPort } from './sailthru-port.ts';
import { validateSettings } from './settings.ts';

/** One Sailthru request a delivery would make: `payload` is what goes inside `json`. */
export interface PlannedCall {
  method: HttpMethod;
  /** e.g. `/user`, `/event`, `/purchase`, `/v1/track/event/pageview` */
  endpoint: string;
  payload: unknown;
}

/**
 * What delivering one event would do. `refused`: ingest would not accept the event (the reason
 * says why, as the 200 answer's refusals list would); the other states are the delivery's.
 */
export interface CallPlan {
  state: OutcomeState | 'refused';
  /** Why it was skipped, failed, refused, or would retry or pause. */
  reason?: string;
  calls: PlannedCall[];
  warnings: string[];
  /**
   * The mapping the event took (its place in the list from 0), or null when none matched or the
   * event was refused or skipped before mapping (integrations.Sailthru false).
   */
  mapping: { id: string; name: string; index: number } | null;
}

export interface PlanOptions {
  /**
   * What Sailthru's GET /user answers for this user (`keys.email`, `purchase_incomplete`…), for
   * the events that look a profile up (Order Completed without an email, cart events). Absent:
   * "User not found", as for a user Sailthru has never seen.
   */
  profile?: SailthruUser;
  /** The destination's mappings (docs/mappings.md); absent or null: the defaults. Validated: invalid ones throw naming each field. */
  mappings?: readonly Mapping[] | null;
}

/**
 * The exact Sailthru calls one event would make, in order, without sending anything: the event
 * goes through ingest's checks and the destination's mapping as in a real delivery, against a
 * stand-in for Sailthru that accepts every write and answers GET /user with `options.profile`.
 * It plans as a destination just started: a running one remembers what earlier events taught it
 * (a user's email, a cart it emptied) and may skip a GET /user the plan shows. apiKey and
 * sharedSecret may be left out (nothing is signed); the other settings are validated as the
 * console does, and invalid ones throw an Error naming each field.
 */
export async function planCalls(event: unknown, settings: Record<string, unknown>, options: PlanOptions = {}): Promise<CallPlan> {
  const checked = validateSettings({ apiKey: 'dry-run', sharedSecret: 'dry-run', ...settings });
  if (!checked.ok) throw new Error(`invalid settings: ${checked.errors.join('; ')}`);
  let mappings: Mapping[] | null = null;
  if (options.mappings !== undefined && options.mappings !== null) {
    const valid = validateMappings(options.mappings);
    if (!valid.ok) throw new Error(`invalid mappings: ${valid.errors.join('; ')}`);
    mappings = valid.mappings;
  }
  const normalized = normalizeWebhookBody(event, new Date());
  if (!normalized.ok) return { state: 'refused', reason: normalized.error, calls: [], warnings: [], mapping: null };
  const [rejection] = normalized.rejected;
  if (rejection !== undefined) return { state: 'refused', reason: rejection.reason, calls: [], warnings: [], mapping: null };
  const accepted = normalized.accepted;
  if (accepted.length !== 1) {
    return { state: 'refused', reason: `planCalls takes one event, not ${accepted.length}`, calls: [], warnings: [], mapping: null };
  }

  let matched: Mapping | null = null;
  const destination = createDestination(checked.settings, {
    sailthru: dryRunPort(options.profile),
    mappings,
    onMatched: (mapping) => {
      matched = mapping;
    },
  });
  try {
    const outcome = await destination.deliver(accepted[0] as SegmentEvent);
    const list = mappings ?? DEFAULT_MAPPINGS;
    const found = matched as Mapping | null;
    const plan: CallPlan = {
      state: outcome.state,
      calls: outcome.calls.map(({ method, endpoint, payload }) => ({ method, endpoint, payload })),
      warnings: outcome.warnings,
      mapping: found === null ? null : { id: found.id, name: found.name, index: list.findIndex((m) => m.id === found.id) },
    };
    if ('reason' in outcome) plan.reason = outcome.reason;
    return plan;
  } finally {
    await destination.close();
  }
}

/** A Sailthru that sends nothing: every write succeeds; GET /user answers with `profile`. */
function dryRunPort(profile: SailthruUser | undefined): SailthruPort {
  const ok = <T>(method: HttpMethod, endpoint: string, payload: unknown, body: T): Promise<SailthruResult<T>> => {
    const call: CallRecord = { method, endpoint, payload, status: 200, durationMs: 0, response: body };
    return Promise.resolve({ ok: true, status: 200, body, call });
  };
  return {
    getUser(payload) {
      if (profile !== undefined) return ok('GET', '/user', payload, profile);
      const message = `User not found with ${payload.key ?? 'sid'} '${payload.id}'`;
      const call: CallRecord = { method: 'GET', endpoint: '/user', payload, status: 400, errorCode: 99, errorMessage: message, durationMs: 0 };
      return Promise.resolve({ ok: false, status: 400, code: 99, message, class: 'permanent', call });
    },
    postUser: (payload) => ok('POST', '/user', payload, { ok: true }),
    deleteUser: (payload) => ok('DELETE', '/user', payload, { ok: true }),
    postEvent: (payload) => ok('POST', '/event', payload, { ok: true }),
    postPurchase: (payload) => ok('POST', '/purchase', payload, { ok: true }),
    postReturn: (payload) => ok('POST', '/return', payload, { ok: true }),
    pageView: (payload) => ok('POST', '/v1/track/event/pageview', payload, { ok: true }),
  };
}
