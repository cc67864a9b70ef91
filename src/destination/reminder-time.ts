/**
 * The one grammar of an abandoned-cart reminder time (SPEC.md §6), used by the reminderTime
 * setting's check and by the per-event `reminder_time` check; the emulator's copy
 * (src/emulator/reminder-time.ts, which may import nothing from here) is held to the same
 * examples by test/destination/reminder-time.test.ts.
 *
 * Sailthru reads `reminder_time` with PHP's strtotime: one or more `<whole number> <unit>` terms
 * (`60 minutes`, `1 hour 30 minutes`, `2 weeks`), with an optional leading `+`. strtotime does not
 * know `hrs` or `h`, so the common abbreviations are spelled out first (`24 hrs` → `24 hours`).
 * What is sent is always `+` followed by the normalised terms.
 */

/** Units as strtotime spells them (singular and plural). */
const UNITS = new Set([
  'sec', 'secs', 'second', 'seconds',
  'min', 'mins', 'minute', 'minutes',
  'hour', 'hours',
  'day', 'days',
  'week', 'weeks',
  'fortnight', 'fortnights',
  'month', 'months',
  'year', 'years',
]);

/** SPEC.md §6's abbreviations, spelled out before the check. `m` stays refused: minutes or months? */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  h: 'hours',
  hr: 'hours',
  hrs: 'hours',
  min: 'minutes',
  mins: 'minutes',
  d: 'days',
};

const TERM = /(\d+)\s*([a-z]+)/giy;

/**
 * The terms of a reminder time, normalised (`24 hrs` → `24 hours`, `+1 hour 30 mins` →
 * `1 hour 30 minutes`), without the `+`; undefined when the text is not a reminder time.
 */
export function reminderTimeTerms(text: string): string | undefined {
  const body = text.trim().replace(/^[+\s]+/, '');
  if (body === '' || body.length > 200) return undefined;
  const terms: string[] = [];
  TERM.lastIndex = 0;
  let at = 0;
  while (at < body.length) {
    if (terms.length > 0) {
      const gap = /\s+/y;
      gap.lastIndex = at;
      if (gap.exec(body) === null) return undefined;
      at = gap.lastIndex;
    }
    TERM.lastIndex = at;
    const match = TERM.exec(body);
    if (match === null) return undefined;
    const word = match[2]!.toLowerCase();
    const unit = ABBREVIATIONS[word] ?? word;
    if (!UNITS.has(unit)) return undefined;
    terms.push(`${match[1]} ${unit}`);
    at = TERM.lastIndex;
  }
  return terms.join(' ');
}

/** The `reminder_time` to send: exactly one leading `+` (`20 minutes`, `+20 minutes` → `+20 minutes`). */
export function reminderTimeOf(text: string): string | undefined {
  const terms = reminderTimeTerms(text);
  return terms === undefined ? undefined : `+${terms}`;
}
