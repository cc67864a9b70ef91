/**
 * The two sizes of every reliability test: the full form the issue asks for (RELIABILITY_FULL=1)
 * and a shortened default that fits CI's budget on a 2-core machine.
 */
export const FULL = process.env.RELIABILITY_FULL === '1';

export function size<T>(short: T, full: T): T {
  return FULL ? full : short;
}

/** Test timeouts grow with the size; the short forms stay well inside a few minutes. */
export function budgetMs(shortMs: number, fullMs: number): number {
  return FULL ? fullMs : shortMs;
}

/** How long a child process may take to start listening: start-up on a busy 2-core machine. */
export const STARTUP_MS = 60_000;
