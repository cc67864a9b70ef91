/**
 * Event times as Segment computes them (reference/segment-wire.md §3.2).
 *
 * `timestamp` is what destinations get. A client clock may be wrong by hours, so when the client
 * says both when the event happened (`originalTimestamp`, or the `timestamp` it sent) and when it
 * sent the request (`sentAt`), the skew between its clock and ours is removed:
 *   timestamp = receivedAt − (sentAt − originalTimestamp)
 */

/**
 * ISO-8601 date or date-time, with `T` or a space, optional fraction and zone. Date.parse alone
 * is too lenient (V8 reads "1" as the year 2001).
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Milliseconds since the epoch, or null when `text` is not an ISO-8601 date. */
export function parseIsoTime(text: string): number | null {
  const match = ISO_DATE_TIME.exec(text.trim());
  if (match === null) return null;
  const [, year, month, day, hours, minutes, seconds, fraction, zone] = match;
  if (hours === undefined) return finiteOrNull(Date.parse(`${year}-${month}-${day}T00:00:00Z`));
  // Rebuilt in the one form Date.parse reads the same everywhere: a date-time without a zone
  // is taken as UTC (Date.parse would use this server's zone) and "+0100"/"+01" become "+01:00".
  const ms = fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`;
  const offset =
    zone === undefined || zone === 'Z' || zone === 'z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '') || '00'}`;
  return finiteOrNull(Date.parse(`${year}-${month}-${day}T${hours}:${minutes}:${seconds ?? '00'}${ms}${offset}`));
}

function finiteOrNull(ms: number): number | null {
  return Number.isFinite(ms) ? ms : null;
}

export interface EventTimes {
  timestamp?: string;
  originalTimestamp?: string;
  sentAt?: string;
}

export interface ResolvedTimes {
  /** ISO-8601 UTC. */
  timestamp: string;
  /** The client's own event time, when it gave one. */
  originalTimestamp?: string;
}

/**
 * Resolves the event time. All inputs must already be valid ISO-8601 (see parseIsoTime).
 *
 * `correctClockSkew` is off for events that come from Segment's webhooks: Segment has already
 * corrected their `timestamp`, and correcting again with our `receivedAt` would move every event
 * by Segment's own delivery delay.
 */
export function resolveTimes(times: EventTimes, receivedAt: Date, correctClockSkew: boolean): ResolvedTimes {
  const original = times.originalTimestamp ?? (correctClockSkew ? times.timestamp : undefined);
  const originalMs = original === undefined ? null : parseIsoTime(original);
  const sentAtMs = times.sentAt === undefined ? null : parseIsoTime(times.sentAt);

  if (correctClockSkew && originalMs !== null && sentAtMs !== null) {
    const corrected = receivedAt.getTime() - (sentAtMs - originalMs);
    return { timestamp: new Date(corrected).toISOString(), originalTimestamp: original };
  }
  const givenMs = times.timestamp === undefined ? null : parseIsoTime(times.timestamp);
  const result: ResolvedTimes = {
    timestamp: new Date(givenMs ?? receivedAt.getTime()).toISOString(),
  };
  if (original !== undefined) result.originalTimestamp = original;
  return result;
}
