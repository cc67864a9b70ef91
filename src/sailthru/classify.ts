import type { ErrorClass, RateLimitInfo } from './types.ts';

/** Bad credentials (3, 5), IP not allowed (4), account not approved to send (21). */
const ACCOUNT_WIDE_CODES = new Set([3, 4, 5, 21]);
/** 9 = "internal error, probably not saved, wait and retry"; 43 = rate limited. */
const RETRYABLE_CODES = new Set([9, 43]);

export interface Classification {
  class: ErrorClass;
  retryAfterMs?: number;
}

/**
 * The one place that decides what an unsuccessful answer means (SPEC.md §9). Account-wide wins
 * over retryable: a 500 carrying error 3 would still fail every later request.
 */
export function classifyError(
  status: number,
  code: number | null,
  rateLimit: RateLimitInfo | undefined,
  nowMs: number,
): Classification {
  if ((code !== null && ACCOUNT_WIDE_CODES.has(code)) || status === 401) return { class: 'account' };
  if (status === 429 || code === 43) {
    // Sailthru sends no Retry-After: the window's reset (epoch seconds) is the earliest retry.
    const retryAfterMs = rateLimit ? Math.max(0, rateLimit.reset * 1000 - nowMs) : undefined;
    return retryAfterMs === undefined ? { class: 'retryable' } : { class: 'retryable', retryAfterMs };
  }
  if (code !== null && RETRYABLE_CODES.has(code)) return { class: 'retryable' };
  if (status === 0) return { class: 'retryable' };
  if (status >= 500 && status !== 501) return { class: 'retryable' };
  return { class: 'permanent' };
}

/** A truthy numeric `error` marks a failure even on HTTP 200 (reference §1.4). */
export function errorEnvelope(body: unknown): { code: number; message: string } | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { error, errormsg } = body as { error?: unknown; errormsg?: unknown };
  const code = typeof error === 'number' ? error : typeof error === 'string' && /^\d+$/.test(error) ? Number(error) : NaN;
  if (!Number.isFinite(code) || code === 0) return null;
  return { code, message: typeof errormsg === 'string' ? errormsg : `Sailthru error ${code}` };
}
