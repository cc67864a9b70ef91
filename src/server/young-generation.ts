import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** The server's cap on each of the main thread's two semi-spaces, MiB (a power of two). */
export const SERVER_SEMI_SPACE_MB = 8;

/**
 * Caps this process's young generation at `semiSpaceMb` per semi-space, from inside the process.
 *
 * Why: under a deep backlog V8 grows the main thread's young generation to its default 2 x 16 MiB,
 * all of it resident, about a sixth of the server's peak (bench/README.md, memory). The flag
 * that sets its size, --max-semi-space-size, is read once when the heap is created, so neither
 * `bin/` nor the service can set it. V8 does read --semi-space-growth-factor each time it grows
 * the young generation (doubling it by default): this sets the factor to 1 (no growth) once the
 * young generation has reached the cap, checked after every collection, and back to 2 when V8
 * has shrunk it (idle), so it may grow again up to the cap. Growth doubles, hence a power of two.
 *
 * Returns a function that stops the observer and restores V8's default growth.
 */
export function capYoungGeneration(semiSpaceMb: number): () => void {
  if (!Number.isInteger(Math.log2(semiSpaceMb))) throw new RangeError(`semiSpaceMb must be a power of two (got ${semiSpaceMb})`);
  // V8 reports the new space as both semi-spaces together.
  const capBytes = 2 * semiSpaceMb * 1024 * 1024;
  let factor = 0;
  const check = () => {
    const want = newSpaceBytes() >= capBytes ? 1 : 2;
    if (want === factor) return;
    factor = want;
    setFlagsFromString(`--semi-space-growth-factor=${want}`);
  };
  check();
  const observer = new PerformanceObserver(check);
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    setFlagsFromString('--semi-space-growth-factor=2');
  };
}

/** The young generation's size now (both semi-spaces), bytes. */
export function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Whether the young generation is left to V8: HEAP_GROWING_PERCENT=0 (V8's own heap sizing, for
 * machines with memory to spare) or a --max-semi-space-size given on the command line or in
 * NODE_OPTIONS, which then decides.
 */
export function youngGenerationLeftToV8(env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
  if (env.HEAP_GROWING_PERCENT === '0') return true;
  const given = [...execArgv, env.NODE_OPTIONS ?? ''].join(' ').replace(/_/g, '-');
  return given.includes('--max-semi-space-size') || given.includes('--semi-space-growth-factor');
}
