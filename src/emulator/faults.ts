import type { ApplyThenFailMode, FaultOptions } from './options.ts';
import { randomSeed, seededRandom } from './prng.ts';

export type DrawnFault = 'drop' | 'hang' | 'fail' | 'error9';

export interface FaultDecision {
  fault: DrawnFault | null;
  latencyMs: number;
}

const NO_FAULT: FaultDecision = { fault: null, latencyMs: 0 };

const RATE_FIELDS = ['failRate', 'error9Rate', 'hangRate', 'dropRate'] as const;

/** Checks a fault configuration from a caller (options, CLI, or POST /_emulator/faults). */
export function validateFaults(options: FaultOptions): void {
  for (const field of RATE_FIELDS) {
    const rate = options[field];
    if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)) {
      throw new RangeError(`${field} must be a number from 0 to 1`);
    }
  }
  if (options.latencyMs !== undefined && !(typeof options.latencyMs === 'number' && options.latencyMs >= 0)) {
    throw new RangeError('latencyMs must be a non-negative number');
  }
  if (options.failStatus !== undefined && !(Number.isInteger(options.failStatus) && options.failStatus >= 500 && options.failStatus <= 599)) {
    throw new RangeError('failStatus must be an HTTP status from 500 to 599');
  }
  if (options.seed !== undefined && !Number.isFinite(options.seed)) throw new RangeError('seed must be a number');
  if (options.endpoints !== undefined && !(Array.isArray(options.endpoints) && options.endpoints.every((e) => typeof e === 'string'))) {
    throw new RangeError('endpoints must be an array of routes like "POST /purchase" or "/user"');
  }
  for (const [route, rule] of Object.entries(options.applyThenFail ?? {})) {
    const count = typeof rule === 'number' ? rule : rule?.count;
    const mode = typeof rule === 'number' ? undefined : rule?.mode;
    if (!Number.isInteger(count) || (count as number) < 0) throw new RangeError(`applyThenFail["${route}"] count must be a non-negative integer`);
    if (mode !== undefined && !['500', 'drop', 'hang'].includes(mode)) {
      throw new RangeError(`applyThenFail["${route}"] mode must be "500", "drop" or "hang"`);
    }
  }
}

/**
 * Decides, per request, which fault to inject. Rate faults use one draw of a seeded generator per
 * matching request, so a seed and the same request order reproduce the same faults.
 */
export class FaultInjector {
  private options: FaultOptions = {};
  private random: () => number = seededRandom(randomSeed());
  private endpoints: Set<string> | null = null;
  private readonly applyThenFail = new Map<string, { remaining: number; mode: ApplyThenFailMode }>();

  constructor(private readonly defaultSeed?: number) {
    this.set({});
  }

  /** Replaces the whole configuration (an empty object removes every fault). */
  set(options: FaultOptions): void {
    validateFaults(options);
    this.options = { ...options };
    const seed = options.seed ?? this.defaultSeed;
    this.random = seededRandom(seed ?? randomSeed());
    this.endpoints = options.endpoints && options.endpoints.length > 0 ? new Set(options.endpoints) : null;
    this.applyThenFail.clear();
    for (const [route, rule] of Object.entries(options.applyThenFail ?? {})) {
      const count = typeof rule === 'number' ? rule : rule.count;
      const mode = typeof rule === 'number' ? '500' : (rule.mode ?? '500');
      if (count > 0) this.applyThenFail.set(route, { remaining: count, mode });
    }
  }

  /** The configuration in force, with the apply-then-fail counts still to come. */
  describe(): FaultOptions {
    const described: FaultOptions = { ...this.options };
    delete described.applyThenFail;
    if (this.applyThenFail.size > 0) {
      described.applyThenFail = Object.fromEntries(
        [...this.applyThenFail].map(([route, rule]) => [route, { count: rule.remaining, mode: rule.mode }]),
      );
    }
    return described;
  }

  get failStatus(): number {
    return this.options.failStatus ?? 500;
  }

  decide(method: string, path: string): FaultDecision {
    const o = this.options;
    const drop = o.dropRate ?? 0;
    const hang = o.hangRate ?? 0;
    const fail = o.failRate ?? 0;
    const error9 = o.error9Rate ?? 0;
    const latencyMs = o.latencyMs ?? 0;
    if (drop + hang + fail + error9 === 0 && latencyMs === 0) return NO_FAULT;
    if (this.endpoints && !this.endpoints.has(`${method} ${path}`) && !this.endpoints.has(path)) return NO_FAULT;
    if (drop + hang + fail + error9 === 0) return { fault: null, latencyMs };
    const u = this.random();
    let fault: DrawnFault | null = null;
    if (u < drop) fault = 'drop';
    else if (u < drop + hang) fault = 'hang';
    else if (u < drop + hang + fail) fault = 'fail';
    else if (u < drop + hang + fail + error9) fault = 'error9';
    return { fault, latencyMs };
  }

  /** Consumes one "apply then fail" for this route, if any is left. */
  takeApplyThenFail(method: string, path: string): ApplyThenFailMode | null {
    if (this.applyThenFail.size === 0) return null;
    const key = this.applyThenFail.has(`${method} ${path}`) ? `${method} ${path}` : path;
    const rule = this.applyThenFail.get(key);
    if (!rule) return null;
    rule.remaining--;
    if (rule.remaining <= 0) this.applyThenFail.delete(key);
    return rule.mode;
  }
}
