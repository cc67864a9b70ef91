import type { SegmentEvent } from '../../segment/event.ts';
import { preview } from '../read.ts';
import { DEFAULT_MAPPINGS } from './defaults.ts';
import { valueAt } from './fields.ts';
import { compileMapping, conditionMatcher } from './match.ts';
import type { Mapping } from './schema.ts';

/** Which mapping an event takes, and why each one before it did not (the tester and `map` show this). */
export interface MappingExplanation {
  /** The mapping taken, or null: `skipped: no mapping matches`. */
  matched: { id: string; name: string; index: number; action: Mapping['action'] } | null;
  /** Each mapping tried, in order, up to and including the one taken. */
  tried: Array<{ id: string; name: string; index: number; matched: boolean; why: string }>;
}

/**
 * The first enabled mapping the event meets (first match wins), or null. `mappings` absent or
 * null: the defaults. Expects validated mappings (validateMappings) and a normalised event.
 */
export function matchMapping(event: SegmentEvent, mappings?: readonly Mapping[] | null): { id: string; name: string; index: number; mapping: Mapping } | null {
  const list = mappings ?? DEFAULT_MAPPINGS;
  for (let index = 0; index < list.length; index++) {
    const mapping = list[index]!;
    if (mapping.enabled && compileMapping(mapping).matches(event)) return { id: mapping.id, name: mapping.name, index, mapping };
  }
  return null;
}

export function explainMapping(event: SegmentEvent, mappings?: readonly Mapping[] | null): MappingExplanation {
  const list = mappings ?? DEFAULT_MAPPINGS;
  const tried: MappingExplanation['tried'] = [];
  for (let index = 0; index < list.length; index++) {
    const mapping = list[index]!;
    const why = whyNot(event, mapping);
    tried.push({ id: mapping.id, name: mapping.name, index, matched: why === null, why: why ?? 'matches' });
    if (why === null) return { matched: { id: mapping.id, name: mapping.name, index, action: mapping.action }, tried };
  }
  return { matched: null, tried };
}

/** Why the mapping does not take the event, or null when it does. */
function whyNot(event: SegmentEvent, mapping: Mapping): string | null {
  if (!mapping.enabled) return 'disabled';
  const { types, event: name, conditions } = mapping.trigger;
  if (!types.includes(event.type)) return `type ${event.type} is not ${types.join(' or ')}`;
  if (name !== undefined && !compileMapping({ ...mapping, trigger: { types, event: name } }).matches(event)) {
    const wanted = name.equals !== undefined ? `"${name.equals}"` : name.oneOf !== undefined ? `one of ${name.oneOf.map((n) => `"${n}"`).join(', ')}` : `starting with "${name.startsWith ?? ''}"`;
    return `event name ${preview(event.event)} is not ${wanted}`;
  }
  for (const condition of conditions ?? []) {
    if (!conditionMatcher(condition)(event)) {
      const value = condition.value === undefined ? '' : ` ${JSON.stringify(condition.value)}`;
      return `condition ${condition.path} ${condition.op}${value} does not hold (${condition.path} is ${preview(valueAt(event, condition.path))})`;
    }
  }
  return null;
}
