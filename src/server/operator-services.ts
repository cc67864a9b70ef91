import type { FailureGroups } from './failure-groups.ts';
import type { LiveFeed } from './live-feed.ts';
import type { MappingService } from './mapping-service.ts';

/** The console's operator views beyond the AdminService: failures by reason and the live feed. */
export interface OperatorServices {
  failures: FailureGroups;
  live: LiveFeed;
  /** A destination's mappings: edit, test, cost (docs/mappings.md). */
  mappings: MappingService;
}
