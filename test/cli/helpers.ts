import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { startService, type Service } from '../../src/server/service.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = 'bin/sailthru-destination.js';

export const ADMIN_TOKEN = 'cli-admin-token-0123456789abcdef';
export const WRITE_KEY = 'cli-write-key-0123456789';
export const API_KEY = 'cli-api-key';
export const SECRET = 'cli-shared-secret-abcdef';
export const CUSTOMER_ID = 'cli-customer';

/** The emulator and a real service (SQLite in a temp folder, ephemeral port), in this process. */
export interface Stack {
  emulator: RunningEmulator;
  service: Service;
  url: string;
  dir: string;
  /** Writes a file in the stack's temp folder; returns its path. */
  file(name: string, content: string): string;
  stop(): Promise<void>;
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const emulator = await startEmulator({ port: 0, apiKey: API_KEY, secret: SECRET, customerId: CUSTOMER_ID, jobDelayMs: 20 });
  const dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'events.db')}`,
    ADMIN_TOKEN,
    WRITE_KEYS: WRITE_KEY,
    SAILTHRU_API_KEY: API_KEY,
    SAILTHRU_SECRET: SECRET,
    SECRETS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    SAILTHRU_CUSTOMER_ID: CUSTOMER_ID,
    SAILTHRU_API_URL: emulator.url,
    SAILTHRU_TRACK_URL: emulator.url,
    ...env,
  });
  const service = await startService(config, { ingest: true, delivery: true }, { logger: pino({ level: 'silent' }) });
  return {
    emulator,
    service,
    url: service.url,
    dir,
    file(name, content) {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    async stop() {
      await service.stop();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real command line in a child process. Asynchronous on purpose: the server it talks to
 * runs in this process, and a blocking spawnSync would stop it from answering.
 */
export function runCli(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    // A clean environment: the developer's ADMIN_TOKEN, WRITE_KEY or SAILTHRU_* must not leak in.
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** Polls until `check` gives a value (the test's timeout bounds the wait). */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, intervalMs = 50): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function ndjson(events: unknown[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
