#!/usr/bin/env node
// Compiles src/ into dist/ (tsconfig.build.json): what bin/sailthru-destination.js and the package
// run. package.json runs it from `prepare` (so `npm ci` on a clone and `npm pack` build) and as the
// first step of `npm run demo`; the tests run it once before they start (test/global-setup.ts).
//
//   node scripts/build.js             # always: compiled again
//   node scripts/build.js --if-stale  # only when the sources' contents differ from what dist/ was built from
//
// Staleness is decided by a fingerprint of the sources' contents, never by file times: a clone, a
// copy or a restore sets times arbitrarily, and a needless rebuild while other processes run dist/
// (the demo started by a test beside child servers) must not happen.
//
// The new build is compiled beside dist/ and swapped in with two renames, so dist/ is never seen
// half-built or missing by a process starting meanwhile; a source deleted or renamed leaves nothing
// behind, because the whole directory is replaced.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
// Written last: the fingerprint of the sources dist/ was compiled from.
const STAMP = '.built';

const fingerprint = sourcesFingerprint();
if (process.argv.includes('--if-stale') && readStamp() === fingerprint) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('scripts/build.js: TypeScript is not installed: run `npm ci` (with dev dependencies) first\n');
  process.exit(1);
}
// Same depth as dist/, so the source maps' relative paths are the same after the swap.
const fresh = join(root, `dist.new-${process.pid}`);
const old = join(root, `dist.old-${process.pid}`);
rmSync(fresh, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', fresh], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(fresh, { recursive: true, force: true });
  process.stderr.write('scripts/build.js: tsc failed; dist/ was left as it was\n');
  process.exit(result.status ?? 1);
}
writeFileSync(join(fresh, STAMP), fingerprint);
if (existsSync(dist)) renameSync(dist, old);
renameSync(fresh, dist);
rmSync(old, { recursive: true, force: true });

function readStamp() {
  try {
    return readFileSync(join(dist, STAMP), 'utf8');
  } catch {
    return '';
  }
}

function sourcesFingerprint() {
  const hash = createHash('sha256');
  const visit = (path) => {
    if (!existsSync(path)) return;
    const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) visit(full);
      else add(full);
    }
  };
  const add = (file) => {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  };
  visit(join(root, 'src'));
  for (const name of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) if (existsSync(join(root, name))) add(join(root, name));
  return hash.digest('hex');
}
