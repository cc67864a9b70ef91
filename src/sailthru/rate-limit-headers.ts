import type { RateLimitInfo } from './types.ts';

type HeaderValue = string | string[] | undefined;

function header(headers: Record<string, HeaderValue>, name: string): number | undefined {
  const raw = headers[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

/** X-Rate-Limit-Limit/Remaining/Reset, only when all three parse (as Sailthru's clients do). */
export function parseRateLimitHeaders(headers: Record<string, HeaderValue>): RateLimitInfo | undefined {
  const limit = header(headers, 'x-rate-limit-limit');
  const remaining = header(headers, 'x-rate-limit-remaining');
  const reset = header(headers, 'x-rate-limit-reset');
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  return { limit, remaining, reset };
}
