import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The emulator account every benchmark uses (bench-only values, not secrets of anything real). */
export const BENCH_CREDENTIALS = { apiKey: 'bench-api-key', secret: 'bench-shared-secret', customerId: 'bench-customer' } as const;
export const BENCH_WRITE_KEY = 'bench-write-key';

/** A scratch directory for a benchmark's SQLite files, removed by `dispose`. */
export function scratchDir(label: string): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), `st-bench-${label}-`));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** The env of a `serve`/`worker` process pointed at the emulator, as an operator would set it. */
export function serviceEnv(options: { emulatorUrl: string; databaseUrl: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: options.databaseUrl,
    WRITE_KEYS: BENCH_WRITE_KEY,
    SAILTHRU_API_KEY: BENCH_CREDENTIALS.apiKey,
    SAILTHRU_SECRET: BENCH_CREDENTIALS.secret,
    SECRETS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    SAILTHRU_CUSTOMER_ID: BENCH_CREDENTIALS.customerId,
    SAILTHRU_API_URL: options.emulatorUrl,
    SAILTHRU_TRACK_URL: options.emulatorUrl,
    LOG_LEVEL: 'warn',
    ...options.extra,
  };
}

export function basicAuth(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}
