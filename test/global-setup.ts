import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Tests import the sources, but those that start bin/sailthru-destination.js (the demo, the
 * deployment files, child servers) run dist/: build it first when a source changed, so no test
 * runs yesterday's compiled code.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const build = spawnSync(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`scripts/build.js failed:\n${build.stdout}${build.stderr}`);
}
