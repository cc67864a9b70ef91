import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The commands that open an SQLite database, do one thing and end (`migrate`,
 * `rotate-secrets-key`, a `serve` refused at start) end with the status and the line
 * docs/operating.md gives. Closing the store used to leave nothing holding the event loop while
 * the writer thread exited, so Node ended the process with status 13 and nothing printed.
 */
const BIN = fileURLToPath(new URL('../../bin/sailthru-destination.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sd-one-shot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
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

describe('one-shot commands on SQLite', () => {
  it('migrate creates the schema, says so and exits 0', async () => {
    const result = await run(['migrate', '--database', `sqlite:${join(dir, 'migrate.db')}`], {});
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: 'schema is up to date\n' });
  });

  it('rotate-secrets-key re-seals, says so and exits 0', async () => {
    const result = await run(['rotate-secrets-key', '--database', `sqlite:${join(dir, 'rotate.db')}`], {
      NEW_SECRETS_KEY: randomBytes(32).toString('base64'),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^re-sealed the secrets of 0 destination\(s\) under NEW_SECRETS_KEY/);
  });

  it('serve asked to keep a secret without SECRETS_KEY exits 1 with one line', async () => {
    const result = await run(['serve'], {
      DATABASE_URL: `sqlite:${join(dir, 'serve.db')}`,
      SAILTHRU_API_KEY: 'key',
      SAILTHRU_SECRET: 'secret',
    });
    expect(result.stdout, 'the server must not start').not.toMatch(/listening on/);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sailthru-destination: SECRETS_KEY is required to keep a Sailthru sharedSecret in the database: /);
    expect(result.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});
