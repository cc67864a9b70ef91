import type { SailthruClient } from '../sailthru/client.ts';
import type { CallRecord, HttpMethod, SailthruError, SailthruResult } from '../sailthru/types.ts';
import type { ActionResult } from './outcome.ts';

/** The part of the Sailthru client the destination calls. */
export type SailthruPort = Pick<SailthruClient, 'getUser' | 'postUser' | 'deleteUser' | 'postEvent' | 'postPurchase' | 'postReturn' | 'pageView'>;

const ENDPOINTS: Record<keyof SailthruPort, [HttpMethod, string]> = {
  getUser: ['GET', '/user'],
  postUser: ['POST', '/user'],
  deleteUser: ['DELETE', '/user'],
  postEvent: ['POST', '/event'],
  postPurchase: ['POST', '/purchase'],
  postReturn: ['POST', '/return'],
  pageView: ['POST', '/v1/track/event/pageview'],
};

/**
 * Wraps the client so every call lands in `calls`, in order. The client never throws for what
 * Sailthru or the network answered; if something under it throws anyway (the rate-limit gate's
 * store, say), that is an infrastructure hiccup, not a fact about the event: it becomes a
 * retryable error rather than a dead letter.
 */
export function recordingPort(client: SailthruPort, calls: CallRecord[]): SailthruPort {
  const wrap = <A, T>(name: keyof SailthruPort, fn: (arg: A) => Promise<SailthruResult<T>>) =>
    async (arg: A): Promise<SailthruResult<T>> => {
      let result: SailthruResult<T>;
      try {
        result = await fn(arg);
      } catch (err) {
        result = thrownAsError<T>(name, arg, err);
      }
      calls.push(result.call);
      return result;
    };
  return {
    getUser: wrap('getUser', (p: Parameters<SailthruPort['getUser']>[0]) => client.getUser(p)),
    postUser: wrap('postUser', (p: Parameters<SailthruPort['postUser']>[0]) => client.postUser(p)),
    deleteUser: wrap('deleteUser', (p: Parameters<SailthruPort['deleteUser']>[0]) => client.deleteUser(p)),
    postEvent: wrap('postEvent', (p: Parameters<SailthruPort['postEvent']>[0]) => client.postEvent(p)),
    postPurchase: wrap('postPurchase', (p: Parameters<SailthruPort['postPurchase']>[0]) => client.postPurchase(p)),
    postReturn: wrap('postReturn', (p: Parameters<SailthruPort['postReturn']>[0]) => client.postReturn(p)),
    pageView: wrap('pageView', (p: Parameters<SailthruPort['pageView']>[0]) => client.pageView(p)),
  };
}

function thrownAsError<T>(name: keyof SailthruPort, payload: unknown, err: unknown): SailthruResult<T> {
  const [method, endpoint] = ENDPOINTS[name];
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : 'a non-error value was thrown';
  const message = `Request not sent: ${detail}`;
  const wait = (err as { msBeforeNext?: unknown } | null)?.msBeforeNext;
  const error: SailthruError = {
    ok: false,
    status: 0,
    code: null,
    message,
    class: 'retryable',
    call: { method, endpoint, payload, status: 0, durationMs: 0, errorMessage: message },
  };
  if (typeof wait === 'number' && Number.isFinite(wait) && wait >= 0) error.retryAfterMs = wait;
  return error;
}

/** GET /user for a key no profile has: HTTP 400 "User not found with …" (reference §1.5). */
export function isUserNotFound(result: SailthruError): boolean {
  return result.class === 'permanent' && /^\s*user not found/i.test(result.message);
}

/** What a person can do about some permanent Sailthru errors. */
const HINTS: Record<number, string> = {
  11: 'the email address is not valid',
  14: 'check the template public name in the destination settings or integrations.Sailthru',
  15: 'check the list name in the destination settings or integrations.Sailthru',
  18: 'the time is not one Sailthru can read (e.g. reminderTime "60 minutes")',
  32: 'the user opted out of all email',
};

/** SPEC.md §9: retryable → retry, account or redirect → pause, permanent → dead letter with Sailthru's words. */
export function resultOfError(error: SailthruError): ActionResult {
  const where = `${error.call.method} ${error.call.endpoint}`;
  const code = error.code !== null ? `error ${error.code}: ` : '';
  const http = error.status > 0 ? ` (HTTP ${error.status})` : '';
  const what = `${code}${error.message}${http}`;
  switch (error.class) {
    case 'retryable': {
      const result: ActionResult = { state: 'retry', reason: `Sailthru ${where} failed, will retry: ${what}` };
      if (error.retryAfterMs !== undefined) result.retryAfterMs = error.retryAfterMs;
      return result;
    }
    case 'redirect':
      return {
        state: 'paused',
        reason:
          `Sailthru ${where} was redirected: ${what}. Every call would be redirected the same way, and a redirect is never followed: ` +
          'correct the URL in the destination settings (saving them resumes delivery)',
      };
    case 'account':
      return {
        state: 'paused',
        reason:
          `Sailthru refused the account on ${where}: ${what}. Every event would fail the same way: ` +
          'check the API key, shared secret and IP allow-list in the destination settings, then resume delivery',
      };
    case 'permanent': {
      const hint = error.code !== null ? HINTS[error.code] : undefined;
      return { state: 'failed', reason: `Sailthru refused ${where}: ${what}${hint !== undefined ? `; ${hint}` : ''}` };
    }
  }
}
