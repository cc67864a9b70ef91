import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/delivery/sqlite-store.ts';
import { SmallDisk } from './support/small-disk.ts';

// Issue 15 item 9: a database the process cannot write stops `serve` (and `migrate`) at start with
// exit code 1 and one line naming the database and the cause, no stack trace. Two honest ways to
// make the database unwritable, whoever runs the tests: a tmpfs remounted read-only (root only),
// and files owned by root opened by a process running as `nobody` (as root; as anyone else, the
// files' write bits are simply removed).
const BIN = fileURLToPath(new URL('../../bin/sailthru-destination.js', import.meta.url));
const isRoot = process.getuid?.() === 0;

/**
 * As root the files variant runs the product as `nobody`, which needs to reach the checkout: a
 * clone inside a private directory (mktemp -d is mode 700) cannot be run by `nobody`, and root
 * itself writes whatever the permissions say, so there the read-only volume variant alone is honest.
 */
function othersCanRun(file: string): boolean {
  if ((statSync(file).mode & 0o004) === 0) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}
const filesVariantRuns = !isRoot || othersCanRun(BIN);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], databasePath: string, asNobody: boolean): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DATABASE_URL: `sqlite:${databasePath}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    // A server that did start is a failure of this test: stop it so the test can say so.
    child.stdout.on('data', () => /listening on/.test(stdout) && child.kill('SIGTERM'));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOneLineRefusal(result: Run, path: string): void {
  expect(result.stdout, 'the server must not start').not.toMatch(/listening on/);
  expect(result.code).toBe(1);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^sailthru-destination: cannot open the database sqlite:${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(readonly|read-only|unable to open).*\\(SQLITE_[A-Z_]+\\)`));
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

describe('a read-only database at start', () => {
  it.skipIf(!filesVariantRuns)('files the process may not write: exit 1, one line (serve and migrate)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-ro-perm-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'events.db');
    await (await openSqliteStore({ path })).close();
    if (!isRoot) {
      chmodSync(path, 0o444);
      chmodSync(dir, 0o555);
      cleanups.push(() => chmodSync(dir, 0o755));
    } else {
      chmodSync(dir, 0o755);
    }
    expectOneLineRefusal(await run(['serve'], path, isRoot), path);
    expectOneLineRefusal(await run(['migrate'], path, isRoot), path);
  }, 120_000);

  it.skipIf(!isRoot)('a volume mounted read-only: exit 1, one line', async () => {
    const disk = SmallDisk.mount(16 * 1024 * 1024);
    if (!disk) throw new Error('cannot mount a tmpfs as root');
    cleanups.push(() => disk.unmount());
    const path = join(disk.dir, 'events.db');
    await (await openSqliteStore({ path })).close();
    disk.setReadOnly(true);
    cleanups.push(() => disk.setReadOnly(false));
    expectOneLineRefusal(await run(['serve'], path, false), path);
  }, 120_000);
});
