import type { JobRunner } from '../jobs.ts';
import type { Payload } from '../payload.ts';
import type { EmulatorState } from '../state.ts';

export interface EndpointContext {
  state: EmulatorState;
  jobs: JobRunner;
  nowMs: number;
  /** Template names the account has (`--templates`); empty: every name is accepted. */
  templates: ReadonlySet<string>;
}

/** Handles one signed Sailthru call: returns the success body or throws a SailthruApiError. */
export type EndpointHandler = (payload: Payload, ctx: EndpointContext) => unknown;
