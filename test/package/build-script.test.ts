import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// scripts/build.js on a copy of the sources, so that rebuilding never touches the dist/ that the
// other tests' child processes run. A CI run once failed because a needless rebuild (decided by
// file times) emptied dist/ while a child server was starting.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('scripts/build.js', () => {
  let copy: string;
  const build = (...args: string[]) => spawnSync(process.execPath, ['scripts/build.js', ...args], { cwd: copy, encoding: 'utf8', timeout: 300_000 });

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'st-build-'));
    for (const name of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src']) cpSync(join(ROOT, name), join(copy, name), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const first = build();
    expect(first.status, first.stderr).toBe(0);
  }, 300_000);
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('--if-stale does not rebuild when only file times changed (a clone or copy sets them arbitrarily)', () => {
    const stamp = join(copy, 'dist/.built');
    const before = statSync(stamp);
    const future = new Date(Date.now() + 3_600_000);
    for (const file of allFiles(join(copy, 'src'))) utimesSync(file, future, future);
    const again = build('--if-stale');
    expect(again.status, again.stderr).toBe(0);
    const after = statSync(stamp);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('--if-stale rebuilds when a source changed, and dist/ is never missing while it does', async () => {
    appendFileSync(join(copy, 'src/index.ts'), '\nexport const BUILD_SCRIPT_TEST_MARKER = 42;\n');
    const child = spawn(process.execPath, ['scripts/build.js', '--if-stale'], { cwd: copy, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    let checks = 0;
    let missing = 0;
    while (!done) {
      checks++;
      if (!existsSync(join(copy, 'dist/cli.js'))) missing++;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await exited, err).toBe(0);
    expect(checks).toBeGreaterThan(10);
    expect(missing).toBe(0);
    expect(readFileSync(join(copy, 'dist/index.js'), 'utf8')).toContain('BUILD_SCRIPT_TEST_MARKER');
    // Nothing of the swap is left beside dist/.
    expect(readdirSync(copy).filter((n) => n.startsWith('dist'))).toEqual(['dist']);
  }, 300_000);
});
