#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by scripts/build.js: `npm ci` and `npm pack` build it).
// Never tsx: its loader thread is a whole V8 isolate (~30 MB) and compiling at start-up took
// seconds (bench/README.md, start-up).
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// V8 defaults that keep the server's peak memory down (bench/memory.ts; bench/README.md, memory).
// V8 reads both when it needs them (at each full collection, at each WebAssembly compilation),
// so setting them here, before the application is loaded, works as on the command line. A flag
// given on the command line or in NODE_OPTIONS, in either form (--no-liftoff-only too), wins.
const V8_DEFAULTS = [
  // The live JavaScript heap stays near 30 MB even under a deep backlog, but V8's default growth
  // (up to 4x what survived the last full collection) let the main thread's heap reach ~140 MB,
  // mostly garbage, before collecting: the largest part of the peak. Growing by at most 1.5x
  // caps it near 80 MB, for a full collection every second or so under full ingest. That costs
  // ingest CPU (interleaved runs of bench/ingest.ts: about a quarter fewer events/s), so
  // HEAP_GROWING_PERCENT=0 hands the choice back to V8 where memory is plentiful.
  ['heap-growing-percent', `--heap-growing-percent=${heapGrowingPercent()}`],
  // undici's HTTP parser is WebAssembly; V8's optimizing tier recompiled its one large function
  // once deliveries got going, taking ~35 MB for a fraction of a second. The baseline tier
  // (Liftoff) parses Sailthru's small responses well enough.
  ['liftoff-only', '--liftoff-only'],
];
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').replace(/_/g, '-');
for (const [name, flag] of V8_DEFAULTS) {
  if (!given.includes(`--${name}`) && !given.includes(`--no-${name}`)) setFlagsFromString(flag);
}

/** HEAP_GROWING_PERCENT: 50 by default, 0 for V8's own growth; anything else is refused. */
function heapGrowingPercent() {
  const raw = process.env.HEAP_GROWING_PERCENT;
  if (raw === undefined || raw === '') return 50;
  if (!/^\d{1,4}$/.test(raw)) {
    process.stderr.write(`HEAP_GROWING_PERCENT must be a whole number from 0 to 9999 (got "${raw}")\n`);
    process.exit(2);
  }
  return Number(raw);
}

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('sailthru-destination: dist/ is missing: run `npm run build` (or `npm ci`, which builds it) first\n');
  process.exit(1);
}
await import(cli.href);
