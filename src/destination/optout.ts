import type { EventSettings } from './overrides.ts';
import { preview } from './read.ts';
import { choicesOf } from './setting-kinds.ts';
import { DestinationSettingsSchema, type OptoutValue } from './settings.ts';

const LEVELS = choicesOf(DestinationSettingsSchema.properties.optoutValue);

/**
 * SPEC.md §2.4: the `optout_email` an identify sends, if any. Sent when the event chooses it
 * (`integrations.Sailthru.optoutValue`/`optout_email` first, then a valid `traits.optout_email`,
 * so a preference centre's trait reaches Sailthru), or when the setting is not `none`: sending
 * `none` on every identify would re-subscribe people who unsubscribed, but an event that says
 * `none` means it. A trait that is not one of the levels is ignored with a warning naming it. Pure.
 */
export function optoutOf(optout: EventSettings['optout'], traitValue: unknown): { optout?: OptoutValue; warnings: string[] } {
  const warnings: string[] = [];
  if (optout?.fromEvent === true) return { optout: optout.value, warnings };
  if (traitValue !== undefined && traitValue !== null) {
    const level = typeof traitValue === 'string' ? traitValue.trim().toLowerCase() : undefined;
    if (level !== undefined && LEVELS.includes(level)) return { optout: level as OptoutValue, warnings };
    warnings.push(`traits.optout_email ${preview(traitValue)} ignored: use ${LEVELS.slice(0, -1).join(', ')} or ${LEVELS.at(-1)}`);
  }
  if (optout !== undefined && optout.value !== 'none') return { optout: optout.value, warnings };
  return { warnings };
}
