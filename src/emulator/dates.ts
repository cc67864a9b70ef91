const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number): string => String(n).padStart(2, '0');

/** Sailthru answers dates in RFC 2822 form, e.g. "Thu, 21 Feb 2019 08:33:46 +0000" (here always UTC). */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}

const UNIT_MS: Record<string, number> = {
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  month: 2_592_000_000, months: 2_592_000_000,
  year: 31_536_000_000, years: 31_536_000_000,
};

const RELATIVE = /^([+-]?)\s*(\d+)\s*([a-z]+)$/i;

/**
 * Sailthru accepts anything PHP's strtotime parses for `date` and `reminder_time`. This covers
 * what clients send: relative times ("+3 hours", "20 minutes"), "now", ISO-8601 and RFC 2822.
 * Returns epoch ms, or null when the text is not a time.
 */
export function parseSailthruTime(value: string, nowMs: number): number | null {
  const text = value.trim();
  if (text === '') return null;
  if (text.toLowerCase() === 'now') return nowMs;
  const relative = RELATIVE.exec(text);
  if (relative) {
    const unit = UNIT_MS[relative[3]!.toLowerCase()];
    if (unit === undefined) return null;
    const amount = Number(relative[2]) * unit;
    return relative[1] === '-' ? nowMs - amount : nowMs + amount;
  }
  const absolute = Date.parse(text);
  return Number.isNaN(absolute) ? null : absolute;
}
