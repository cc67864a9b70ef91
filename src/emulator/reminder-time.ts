/**
 * `reminder_time` as Sailthru reads it (PHP strtotime's relative times): one or more
 * `<whole number> <unit>` terms with an optional leading `+`, e.g. `+60 minutes`,
 * `1 hour 30 minutes`, `2 weeks`. strtotime does not know `hrs`, `h` or `d`; neither does this.
 * The destination's check (src/destination/reminder-time.ts) accepts the same terms after spelling
 * out those abbreviations; test/destination/reminder-time.test.ts holds both to one list of examples.
 * The emulator stands alone, hence this copy.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  hour: 3_600_000, hours: 3_600_000,
  day: 86_400_000, days: 86_400_000,
  week: 604_800_000, weeks: 604_800_000,
  fortnight: 1_209_600_000, fortnights: 1_209_600_000,
  month: 2_592_000_000, months: 2_592_000_000,
  year: 31_536_000_000, years: 31_536_000_000,
};

const RELATIVE = /^\+?\s*\d+\s*[a-z]+(\s+\d+\s*[a-z]+)*$/i;
const TERM = /(\d+)\s*([a-z]+)/gi;

/** How far ahead the reminder is, ms; null when the text is not a reminder time. */
export function reminderDelayMs(value: string): number | null {
  const text = value.trim();
  if (!RELATIVE.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(TERM)) {
    const ms = UNIT_MS[unit!.toLowerCase()];
    if (ms === undefined) return null;
    total += Number(amount) * ms;
  }
  return total;
}
