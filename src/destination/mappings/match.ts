import type { SegmentEvent } from '../../segment/event.ts';
import { numberOf } from '../read.ts';
import { mappingActionOf, type MappingAction } from './actions.ts';
import { applyField, isDefaultValue, type FieldDecl } from './field-kinds.ts';
import { valueAt } from './fields.ts';
import type { Condition, EventNameMatch, Mapping } from './schema.ts';

/**
 * Which mapping an event takes: the first enabled one whose trigger it meets, in list order
 * (docs/mappings.md, "First match wins"). Mappings are compiled once per destination, so an event
 * costs a few comparisons per mapping tried.
 */

export interface CompiledMapping {
  mapping: Mapping;
  action: MappingAction;
  /** Whether the event meets the trigger (enabled is checked by the caller). */
  matches(event: SegmentEvent): boolean;
  /** Pure: the event as the action reads it, with the mapping's fields applied, and the resolved texts the action reads itself. */
  map(event: SegmentEvent): { event: SegmentEvent; texts: Record<string, string | undefined> };
}

export function compileMapping(mapping: Mapping): CompiledMapping {
  const action = mappingActionOf(mapping.action);
  const types = new Set<string>(mapping.trigger.types);
  const name = nameMatcher(mapping.trigger.event);
  const conditions = (mapping.trigger.conditions ?? []).map(conditionMatcher);
  const given = mapping.fields ?? {};
  // Only fields changed from their default touch the event: the defaults are what the actions read.
  const changed: Array<[string, FieldDecl, unknown]> = [];
  const texts: Array<[string, FieldDecl, unknown]> = [];
  for (const [field, decl] of Object.entries(action.fields)) {
    const value = given[field] ?? decl.default;
    if (decl.kind === 'source' && decl.write === undefined) texts.push([field, decl, value]);
    else if (!isDefaultValue(decl, value)) changed.push([field, decl, value]);
  }
  return {
    mapping,
    action,
    matches: (event) => types.has(event.type) && name(event.event) && conditions.every((c) => c(event)),
    map(event) {
      let mapped = event;
      for (const [, decl, value] of changed) mapped = applyField(mapped, decl, value).event;
      const resolved: Record<string, string | undefined> = {};
      for (const [field, decl, value] of texts) resolved[field] = applyField(mapped, decl, value).text;
      return { event: mapped, texts: resolved };
    },
  };
}

export function compileMappings(mappings: readonly Mapping[]): CompiledMapping[] {
  return mappings.map(compileMapping);
}

/** The first enabled mapping the event meets, with its place in the list; null when none. */
export function firstMatch(compiled: readonly CompiledMapping[], event: SegmentEvent): { index: number; compiled: CompiledMapping } | null {
  for (let index = 0; index < compiled.length; index++) {
    const candidate = compiled[index]!;
    if (candidate.mapping.enabled && candidate.matches(event)) return { index, compiled: candidate };
  }
  return null;
}

/** A trigger's event-name test (equals, one of, starts with; none: any name) as a predicate. */
export function nameMatcher(match: EventNameMatch | undefined): (name: unknown) => boolean {
  if (match === undefined) return () => true;
  if (match.equals !== undefined) {
    const equals = match.equals;
    return (name) => name === equals;
  }
  if (match.oneOf !== undefined) {
    const names = new Set(match.oneOf);
    return (name) => typeof name === 'string' && names.has(name);
  }
  const prefix = match.startsWith ?? '';
  return (name) => typeof name === 'string' && name.startsWith(prefix);
}

/** One condition as a predicate (operators: docs/mappings.md, "Conditions"). */
export function conditionMatcher(condition: Condition): (event: SegmentEvent) => boolean {
  const { path, op, value } = condition;
  const read = (event: SegmentEvent): unknown => valueAt(event, path);
  switch (op) {
    case 'exists':
      return (event) => read(event) !== undefined && read(event) !== null;
    case 'not exists':
      return (event) => read(event) === undefined || read(event) === null;
    case 'is array':
      return (event) => Array.isArray(read(event));
    case '=':
      return (event) => sameValue(read(event), value);
    case '!=':
      return (event) => !sameValue(read(event), value);
    case 'contains':
      return (event) => {
        const found = read(event);
        if (typeof found === 'string') return typeof value === 'string' && found.includes(value);
        return Array.isArray(found) && found.some((element) => sameValue(element, value));
      };
    default: {
      const limit = numberOf(value);
      const compare = COMPARISONS[op];
      return (event) => {
        const found = numberOf(read(event));
        return found !== undefined && limit !== undefined && compare(found, limit);
      };
    }
  }
}

const COMPARISONS: Record<'>' | '>=' | '<' | '<=', (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

/** Text with text, true/false with true/false; numbers with numbers or numeric text ("100" = 100). */
function sameValue(found: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') return numberOf(found) === expected;
  return found === expected;
}
