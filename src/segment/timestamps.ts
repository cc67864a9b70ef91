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
  const [, year, month, day, hours = '0', minutes = '0', seconds = '0', fraction = '', zone = 'Z'] = match;
  const parts = [Number(month), Number(day), Number(hours), Number(minutes), Number(seconds)] as const;
  const [mo, d, h, mi, s] = parts;
  // A day past the month's end (2024-02-31) is not a date: Date.parse would roll it over to March.
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(Number(year), mo) || h > 23 || mi > 59 || s > 59) return null;
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  // A date-time without a zone is read as UTC; "+0100", "+01:00" and "+01" are the same offset.
  const offsetMinutes =
    zone === 'Z' || zone === 'z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3).replace(':', '') || '0'));
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(Number(year), mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime() - offsetMinutes * 60_000;
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 0);
  return date.getUTCDate();
}

/** A time as the client wrote it, and what it means. */
export interface IsoTime {
  text: string;
  ms: number;
}

/** An IsoTime, or null when `text` is not an ISO-8601 date. */
export function isoTime(text: string): IsoTime | null {
  const ms = parseIsoTime(text);
  return ms === null ? null : { text, ms };
}

/** The client's times of one event, already checked (see isoTime). */
export interface EventTimes {
  timestamp?: IsoTime;
  originalTimestamp?: IsoTime;
  sentAt?: IsoTime;
}

export interface ResolvedTimes {
  /** ISO-8601 UTC. */
  timestamp: string;
  /** The client's own event time, when it gave one. */
  originalTimestamp?: string;
}

/**
 * Resolves the event time.
 *
 * `correctClockSkew` is off for events that come from Segment's webhooks: Segment has already
 * corrected their `timestamp`, and correcting again with our `receivedAt` would move every event
 * by Segment's own delivery delay.
 */
export function resolveTimes(times: EventTimes, receivedAt: Date, correctClockSkew: boolean): ResolvedTimes {
  const original = times.originalTimestamp ?? (correctClockSkew ? times.timestamp : undefined);
  if (correctClockSkew && original !== undefined && times.sentAt !== undefined) {
    const corrected = receivedAt.getTime() - (times.sentAt.ms - original.ms);
    return { timestamp: new Date(corrected).toISOString(), originalTimestamp: original.text };
  }
  const result: ResolvedTimes = {
    timestamp: new Date(times.timestamp?.ms ?? receivedAt.getTime()).toISOString(),
  };
  if (original !== undefined) result.originalTimestamp = original.text;
  return result;
}
