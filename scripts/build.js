#!/usr/bin/env node
// Compiles src/ into dist/ (tsconfig.build.json): what bin/sailthru-destination.js and the package
// run. package.json runs it from `prepare` (so `npm ci` on a clone and `npm pack` build) and as the
// first step of `npm run demo`; the tests run it once before they start (test/global-setup.ts).
//
//   node scripts/build.js             # always: dist/ removed and compiled again
//   node scripts/build.js --if-stale  # only when a file in src/ or a tsconfig is newer than dist/
//
// dist/ is emptied first so that a source deleted or renamed leaves nothing behind to be shipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
// Written last: its time is when dist/ was complete.
const stamp = join(dist, '.built');

if (process.argv.includes('--if-stale') && existsSync(stamp) && newestSource() <= statSync(stamp).mtimeMs) process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('scripts/build.js: TypeScript is not installed: run `npm ci` (with dev dependencies) first\n');
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write('scripts/build.js: tsc failed; dist/ is incomplete\n');
  process.exit(result.status ?? 1);
}
writeFileSync(stamp, '');

function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  visit(join(root, 'src'));
  for (const name of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) visit(join(root, name));
  return newest;
}
