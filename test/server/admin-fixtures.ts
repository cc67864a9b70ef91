import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { startService, type Service } from '../../src/server/service.ts';
import { TEST_SECRETS_KEY } from '../e2e/harness.ts';

/** Secrets the admin tests look for in every response: none may ever appear. */
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const SHARED_SECRET = 'shared-secret-for-tests-abcdefXY';
export const API_KEY = 'api-key-for-tests-1234';
export const WRITE_KEY = 'declared-write-key-for-tests-777';
export const CUSTOMER_ID = 'customer-for-tests';

export interface AdminHarness {
  emulator: RunningEmulator;
  service: Service;
  url: string;
  /** Every response body the harness saw, for the "no secret in any response" checks. */
  seen: string[];
  api(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; json: Record<string, unknown>; text: string }>;
  /** Resolves when `check` returns a value other than undefined (polling; the caller's timeout bounds it). */
  until<T>(check: () => Promise<T | undefined>, what: string): Promise<T>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  adminToken?: string | null;
  env?: Record<string, string>;
  /** Keep the server's log lines (level info) here, to check what they carry. */
  logLines?: string[];
}

export async function startAdminHarness(options: HarnessOptions = {}): Promise<AdminHarness> {
  const emulator = await startEmulator({ port: 0, apiKey: API_KEY, secret: SHARED_SECRET, customerId: CUSTOMER_ID, jobDelayMs: 10 });
  const dir = mkdtempSync(join(tmpdir(), 'admin-test-'));
  const adminToken = options.adminToken === undefined ? ADMIN_TOKEN : options.adminToken;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'events.db')}`,
    ...(adminToken ? { ADMIN_TOKEN: adminToken } : {}),
    SAILTHRU_API_KEY: API_KEY,
    SAILTHRU_SECRET: SHARED_SECRET,
    SECRETS_KEY: TEST_SECRETS_KEY,
    SAILTHRU_CUSTOMER_ID: CUSTOMER_ID,
    SAILTHRU_API_URL: emulator.url,
    SAILTHRU_TRACK_URL: emulator.url,
    WRITE_KEYS: WRITE_KEY,
    RETRY_BASE_MS: '50',
    ...options.env,
  });
  const lines = options.logLines;
  const logger = lines ? pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) : pino({ level: 'silent' });
  const service = await startService(config, { ingest: true, delivery: true }, { logger });
  const seen: string[] = [];
  const harness: AdminHarness = {
    emulator,
    service,
    url: service.url,
    seen,
    async api(method, path, body, token = ADMIN_TOKEN) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(service.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      seen.push(text);
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = {};
      }
      return { status: res.status, json, text };
    },
    async until(check, what) {
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (stopped) throw new Error(`harness stopped while waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      stopped = true;
      await service.stop();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  let stopped = false;
  return harness;
}

export function secretsIn(text: string): string[] {
  return [ADMIN_TOKEN, SHARED_SECRET, WRITE_KEY].filter((s) => text.includes(s));
}
