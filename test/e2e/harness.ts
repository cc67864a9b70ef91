import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.ts';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/server/logger.ts';
import { startService, type Service, type ServiceRole } from '../../src/server/service.ts';

/**
 * A whole stack for end-to-end tests: the emulator and one service on a fresh SQLite file,
 * configured through the same env names an operator uses.
 */
export interface Stack {
  emulator: RunningEmulator;
  service: Service;
  writeKey: string;
  adminToken: string;
  dir: string;
  /** Every log line the service wrote (for secret scans). */
  logs: string[];
  stop(): Promise<void>;
}

/** SECRETS_KEY of the test servers (the shared secret is sealed under it in their databases). */
export const TEST_SECRETS_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

export const CREDENTIALS = { apiKey: 'e2e-api-key', secret: 'e2e-shared-secret-do-not-leak', customerId: 'e2e-customer' };

export function stackEnv(emulatorUrl: string, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'e2e.db')}`,
    WRITE_KEYS: 'e2e-write-key',
    ADMIN_TOKEN: 'e2e-admin-token',
    SECRETS_KEY: TEST_SECRETS_KEY,
    SAILTHRU_API_KEY: CREDENTIALS.apiKey,
    SAILTHRU_SECRET: CREDENTIALS.secret,
    SAILTHRU_CUSTOMER_ID: CREDENTIALS.customerId,
    SAILTHRU_API_URL: emulatorUrl,
    SAILTHRU_TRACK_URL: emulatorUrl,
    LOG_LEVEL: 'info',
    ...extra,
  };
}

export async function startStack(
  options: { emulator?: EmulatorOptions; env?: Record<string, string>; role?: ServiceRole } = {},
): Promise<Stack> {
  const emulator = await startEmulator({
    apiKey: CREDENTIALS.apiKey,
    secret: CREDENTIALS.secret,
    customerId: CREDENTIALS.customerId,
    ...options.emulator,
  });
  const dir = mkdtempSync(join(tmpdir(), 'st-e2e-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const config = loadConfig(stackEnv(emulator.url, dir, options.env));
  const service = await startService(config, options.role ?? { ingest: true, delivery: true }, {
    logger: createLogger('info', sink),
  });
  return {
    emulator,
    service,
    writeKey: 'e2e-write-key',
    adminToken: 'e2e-admin-token',
    dir,
    logs,
    async stop() {
      await service.stop();
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the store has no unsettled event left (or throws after timeoutMs). */
export async function waitForDrain(service: Pick<Service, 'store'>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const backlog = await service.store.backlogByDestination();
    const unsettled = backlog.reduce((n, b) => n + b.unsettled, 0);
    if (unsettled === 0) return;
    if (Date.now() > deadline) throw new Error(`still ${unsettled} unsettled events after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json: json as Record<string, unknown> | null };
}

export function basic(key: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` };
}
