/**
 * sailthru-destination as a library (docs/library.md): what `import … from 'sailthru-destination'`
 * gives. Everything else in dist/ is internal and may change in any release.
 */

// The mapping: one event → Sailthru calls.
export { createDestination, type Destination, type DestinationOptions } from './destination/index.ts';
export { planCalls, type CallPlan, type PlannedCall, type PlanOptions } from './destination/dry-run.ts';
export { validateSettings, type DestinationSettings, type SettingsValidation } from './destination/settings.ts';
// Mappings (docs/mappings.md): which events reach Sailthru and as what.
export {
  ACTION_IDS,
  CONDITION_OPS,
  EVENT_TYPES,
  type ActionId,
  type Condition,
  type ConditionOp,
  type EventNameMatch,
  type EventType,
  type Mapping,
  type Source,
  type Trigger,
  type VarsFilter,
} from './destination/mappings/schema.ts';
export { DEFAULT_MAPPINGS, defaultMappings } from './destination/mappings/defaults.ts';
export { validateMappings, type MappingsValidation } from './destination/mappings/validate.ts';
export { matchMapping, explainMapping, type MappingExplanation } from './destination/mappings/explain.ts';
export { MAPPING_ACTIONS, type MappingAction } from './destination/mappings/actions.ts';
export type { Outcome, OutcomeState } from './destination/outcome.ts';
export type { CallRecord, HttpMethod, SailthruUser } from './sailthru/types.ts';

// The service: ingest, store, delivery, console, inside the caller's process.
export { createServer, type EmbeddedServer, type ServerOptions } from './server/embedded.ts';
export { ConfigError, type DeclaredDestination } from './config.ts';
export type { EventStore } from './delivery/store.ts';

// The Sailthru emulator, for other people's tests (docs/emulator.md).
export {
  startEmulator,
  DEMO_CREDENTIALS,
  type RunningEmulator,
  type EmulatorOptions,
  type EmulatorStateSnapshot,
  type FaultOptions,
  type RateLimitOptions,
  type RequestLogEntry,
  type EventRecord,
  type PurchaseRecord,
  type PageviewRecord,
  type ProfileView,
} from './emulator/index.ts';

// Segment's events as the destination reads them.
export type { SegmentEvent, SegmentEventType, JsonObject } from './segment/event.ts';
