/**
 * The Sailthru emulator: a real HTTP server that answers like Sailthru's REST API and page-view
 * endpoint, for development, tests, the demo and benchmarks. Independent of the rest of src/.
 * See docs/emulator.md.
 */
import { Emulator, type RunningEmulator } from './emulator.ts';
import type { EmulatorOptions } from './options.ts';

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = new Emulator(options);
  await emulator.listen();
  return emulator;
}

export type { EmulatorControl } from './control.ts';
export type { RunningEmulator } from './emulator.ts';
export type {
  ApplyThenFailMode,
  ApplyThenFailRule,
  EmulatorOptions,
  FaultOptions,
  RateLimitOptions,
} from './options.ts';
export { DEMO_CREDENTIALS } from './options.ts';
export type { RequestFilter, RequestLogEntry, LoggedFault } from './request-log.ts';
export type { EmulatorStateSnapshot, ProfileView, StateFilter } from './state.ts';
export type {
  DeletedUser,
  EventRecord,
  JobRecord,
  PageviewRecord,
  PurchaseRecord,
  StoredCart,
  StoredItem,
} from './records.ts';
export { signatureOf } from './signature.ts';
