import { NO_MAPPING } from '../../delivery/mapping-stats.ts';
import type { Mapping } from '../../destination/mappings/schema.ts';
import type { MappingService } from '../mapping-service.ts';
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
  list(destinationId: string): Promise<{ mappings: Mapping[]; configured: boolean; revision: string }>;
  /**
   * Replaces the list (validated; an AdminError's problems name each field by path; audited).
   * With `revision` (what the page showed): refused with ADMIN_MAPPINGS_CHANGED (409) when the
   * list changed since.
   */
  save(actor: Actor, destinationId: string, mappings: Mapping[], revision?: string): Promise<void>;
  /** A dry run of one event through the destination's mappings: nothing is sent. */
  test(destinationId: string, event: unknown): Promise<MappingTestView>;
  /** Events matched and Sailthru calls per mapping, last hour and day. */
  cost(destinationId: string): Promise<MappingCost>;
  /** The key cost figures use for events no mapping matched. */
  noMatchKey: string;
}

function countsById(rows: ReadonlyArray<{ id: string; matched: number; calls: number }>): Record<string, { matched: number; calls: number }> {
  return Object.fromEntries(rows.map((r) => [r.id, { matched: r.matched, calls: r.calls }]));
}

/** The port over the MappingService the admin API uses (src/server/mapping-service.ts). */
export function mappingsPort(service: MappingService): MappingsConsolePort {
  return {
    noMatchKey: NO_MAPPING,
    async list(destinationId) {
      const view = await service.get(destinationId);
      return { mappings: view.mappings, configured: view.configured, revision: view.revision };
    },
    async save(actor, destinationId, mappings, revision) {
      await service.replace(actor, destinationId, mappings, revision);
    },
    async test(destinationId, event) {
      const [result, view] = await Promise.all([service.test(destinationId, { event }), service.get(destinationId)]);
      const mapping = result.matched === null ? undefined : view.mappings[result.matched.index];
      return {
        matched: result.matched !== null && mapping !== undefined ? { index: result.matched.index, mapping } : null,
        state: result.state,
        ...(result.reason !== undefined ? { reason: result.reason } : {}),
        calls: result.calls,
        warnings: result.warnings,
      };
    },
    async cost(destinationId) {
      const stats = await service.stats(destinationId);
      return { lastHour: countsById(stats.lastHour), lastDay: countsById(stats.lastDay) };
    },
  };
}
