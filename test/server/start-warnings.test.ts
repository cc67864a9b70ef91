import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/server/service.ts';
import { TEST_SECRETS_KEY } from '../e2e/harness.ts';

/** `serve` says at start when events (no write key) or operators (no admin token) cannot get in. */

const dir = mkdtempSync(join(tmpdir(), 'start-warnings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function warningsOf(env: Record<string, string>, db: string): Promise<string[]> {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, db)}`, ...env });
  const service = await startService(config, { ingest: true, delivery: false }, { logger });
  await service.stop();
  return lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40).map((l) => l.msg);
}

describe('start warnings', () => {
  it('warns when no write key and no admin token are set', async () => {
    const warnings = await warningsOf({}, 'none.db');
    expect(warnings).toEqual([
      'No write key: every event is refused (401 INGEST_UNKNOWN_WRITE_KEY). Set WRITE_KEYS, or create a key in the console (Settings, then a destination).',
      'No ADMIN_TOKEN (nor ADMIN_TOKENS): the console and the admin API answer 403 until one is set.',
    ]);
  });

  it("says nothing when both are there (a key already in the database counts too)", async () => {
    expect(await warningsOf({ WRITE_KEYS: 'wk-start-1', SAILTHRU_API_KEY: 'k', SAILTHRU_SECRET: 's', SECRETS_KEY: TEST_SECRETS_KEY, ADMIN_TOKEN: 'start-admin-token' }, 'both.db')).toEqual([]);
    expect(await warningsOf({ ADMIN_TOKENS: 'ops:viewer:start-viewer-token', SECRETS_KEY: TEST_SECRETS_KEY }, 'both.db')).toEqual([]);
  });
});
