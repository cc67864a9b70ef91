import type { LiveLine } from './live-line.ts';

/**
 * A pino destination that prints each log line as short text above a live status line
 * (`[warn] chart sampling failed: connect ECONNREFUSED`), so logs neither break the line being
 * redrawn nor fill the terminal with JSON.
 */
export function logLinesAbove(live: Pick<LiveLine, 'print'>): { write(line: string): void } {
  return {
    write(line: string): void {
      for (const one of line.split('\n')) if (one.trim() !== '') live.print(logText(one));
    },
  };
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One pino JSON line as text: level, message, and the error's message when there is one. */
export function logText(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? String(record.level)) : 'log';
  const err = record.err as { message?: unknown } | undefined;
  const why = typeof err?.message === 'string' ? `: ${err.message}` : '';
  return `[${level}] ${typeof record.msg === 'string' ? record.msg : ''}${why}`;
}
