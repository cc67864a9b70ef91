import type { Mapping } from '../../destination/mappings/schema.ts';
import type { Actor } from '../audit.ts';
import type { MappingCost } from './mappings-page.ts';
import type { MappingTestView } from './mappings-tester.ts';

/**
 * What the console's mappings pages need from the admin service (the functions behind
 * /api/destinations/:id/mappings, …/test and …/stats), so the pages go through the same
 * validated, audited, role-checked code as the API.
 */
export interface MappingsConsolePort {
  /** The destination's list as it applies (the defaults when none are stored). */
  list(destinationId: string): Promise<{ mappings: Mapping[]; configured: boolean }>;
  /** Replaces the list (validated; an AdminError's problems name each field by path; audited). */
  save(actor: Actor, destinationId: string, mappings: Mapping[]): Promise<void>;
  /** A dry run of one event through the destination's mappings: nothing is sent. */
  test(destinationId: string, event: unknown): Promise<MappingTestView>;
  /** Events matched and Sailthru calls per mapping, last hour and day. */
  cost(destinationId: string): Promise<MappingCost>;
  /** The key cost figures use for events no mapping matched. */
  noMatchKey: string;
}
