import { field, objectOf, preview, type JsonObject } from './read.ts';

/**
 * SPEC.md §2.2: which lists an identify joins (`1`) and leaves (`0`). An explicit list choice
 * comes from `integrations.Sailthru.lists`, or from `traits.lists`, each either an object of
 * booleans or 0/1 (`{"Weekly": true, "Promo": false}`) or an array of names to join. Both may be
 * given; the integrations entry wins for a list named in both. Explicit entries win over the
 * default list, which is joined otherwise. Entries that are neither are skipped with a warning
 * naming them: joining or leaving a list on a guess mails people who did not ask for it
 * (docs/decisions.md, "What marketers send beyond Segment's mapping"). Pure.
 */
export function listsOf(
  integrationsLists: unknown,
  traitsLists: unknown,
  defaultList: string | undefined,
): { lists?: JsonObject; warnings: string[] } {
  const warnings: string[] = [];
  const lists: JsonObject = {};
  const set = (name: string, member: 0 | 1) =>
    // defineProperty: a list named `__proto__` stays a list name.
    Object.defineProperty(lists, name, { value: member, enumerable: true, writable: true, configurable: true });
  if (defaultList !== undefined) set(defaultList, 1);
  for (const [where, given] of [['traits.lists', traitsLists], ['integrations.Sailthru.lists', integrationsLists]] as const) {
    if (given === undefined || given === null) continue;
    for (const entry of entriesOf(given, where, warnings)) set(entry.name, entry.member);
  }
  return Object.keys(lists).length > 0 ? { lists, warnings } : { warnings };
}

type ListEntry = { name: string; member: 0 | 1 };

function entriesOf(given: unknown, where: string, warnings: string[]): ListEntry[] {
  const entries: ListEntry[] = [];
  if (Array.isArray(given)) {
    given.forEach((name, index) => {
      if (typeof name === 'string' && name.trim() !== '') entries.push({ name: name.trim(), member: 1 });
      else warnings.push(`${where}[${index}] ${preview(name)} ignored: a list name is text`);
    });
    return entries;
  }
  const object = objectOf(given);
  if (object === undefined) {
    warnings.push(`${where} ${preview(given)} ignored: use {"<list>": true or false} or an array of list names`);
    return entries;
  }
  for (const name of Object.keys(object)) {
    const member = membershipOf(field(object, name));
    if (name.trim() === '') warnings.push(`${where} has an empty list name; ignored`);
    else if (member === undefined) warnings.push(`${where}.${name} ${preview(field(object, name))} ignored: use true or 1 to join, false or 0 to leave`);
    else entries.push({ name: name.trim(), member });
  }
  return entries;
}

function membershipOf(value: unknown): 0 | 1 | undefined {
  if (value === true || value === 1) return 1;
  if (value === false || value === 0) return 0;
  return undefined;
}
