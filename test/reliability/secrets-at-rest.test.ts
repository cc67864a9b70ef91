import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/delivery/open-store.ts';
import { SecretsKeyError } from '../../src/delivery/settings-seal.ts';
import { rotateSecretsKey } from '../../src/server/secrets-rotation.ts';
import { startService } from '../../src/server/service.ts';
import { SETTINGS, tempDir } from '../delivery/helpers.ts';
import { TestSchema } from '../delivery/postgres-helpers.ts';

// Issue 15 item 10: the Sailthru shared secret is sealed at rest under SECRETS_KEY. The raw SQLite
// file (with its WAL) and the raw PostgreSQL table hold no secret, whether it came from the
// environment, the admin API, or a plaintext row of an older version sealed on the first start
// with a key; without the key, or with another, the server does not start; rotation re-seals.
const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('hex');
const ENV_SECRET = 'env-secret-Zq81mW3x';
const API_SECRET = 'api-secret-Lp02vB7y';
const OLD_SECRET = 'plaintext-secret-Hk55tR2u';
const silent = pino({ level: 'silent' });

const schema = new TestSchema();
const tmp = tempDir('secrets-at-rest-');
afterAll(async () => {
  await schema.dispose();
  tmp.remove();
});

function env(databaseUrl: string, extra: Record<string, string> = {}) {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    ADMIN_TOKEN: 'secrets-admin-token',
    SAILTHRU_API_KEY: 'k',
    SAILTHRU_SECRET: ENV_SECRET,
    SAILTHRU_API_URL: 'http://127.0.0.1:9',
    SAILTHRU_TRACK_URL: 'http://127.0.0.1:9',
    ...extra,
  });
}

/** What a thief with the database (or a backup of it) reads. */
async function rawDatabase(kind: 'sqlite' | 'postgres', dir: string): Promise<string> {
  if (kind === 'sqlite') {
    return readdirSync(dir)
      .filter((f) => f.startsWith('events.db'))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('\n');
  }
  const { rows } = await schema.admin.query<{ row: string }>(`SELECT d::text AS row FROM ${schema.name}.destinations d`);
  return rows.map((r) => r.row).join('\n');
}

describe.each(['sqlite', 'postgres'] as const)('secrets at rest (%s)', (kind) => {
  const dir = join(tmp.dir, kind);
  const url = kind === 'sqlite' ? `sqlite:${join(dir, 'events.db')}` : schema.url();

  it('an older plaintext row is sealed at the first start with a key; env and API secrets are sealed too', async () => {
    // A row as an older version (or any store without a key) kept it: in plaintext.
    const old = await openStore(url);
    await old.createDestination({ id: 'legacy', name: 'Legacy', settings: { ...SETTINGS, apiKey: 'k2', sharedSecret: OLD_SECRET } });
    await old.close();
    expect(await rawDatabase(kind, dir)).toContain(OLD_SECRET);

    // Without SECRETS_KEY the server refuses to start, naming the variable.
    await expect(startService(env(url), { ingest: true, delivery: false }, { logger: silent })).rejects.toThrow(SecretsKeyError);
    await expect(startService(env(url), { ingest: true, delivery: false }, { logger: silent })).rejects.toThrow(/SECRETS_KEY is required/);

    const service = await startService(env(url, { SECRETS_KEY: KEY }), { ingest: true, delivery: false }, { logger: silent });
    try {
      const res = await fetch(`${service.url}/api/destinations`, {
        method: 'POST',
        headers: { authorization: 'Bearer secrets-admin-token', 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'from-api', name: 'API', settings: { apiKey: 'k3', sharedSecret: API_SECRET } }),
      });
      expect(res.status).toBe(201);
      // The service reads them back opened.
      expect((await service.store.getDestination('legacy'))?.settings.sharedSecret).toBe(OLD_SECRET);
      expect((await service.store.getDestination('default'))?.settings.sharedSecret).toBe(ENV_SECRET);
      expect((await service.store.getDestination('from-api'))?.settings.sharedSecret).toBe(API_SECRET);
    } finally {
      await service.stop();
    }
    const raw = await rawDatabase(kind, dir);
    for (const secret of [OLD_SECRET, ENV_SECRET, API_SECRET]) expect(raw, secret).not.toContain(secret);
    // The check sees what is there: the sealed values and the other settings.
    expect(raw).toContain('sealed:v1:');
    expect(raw).toContain('k3');
  }, 60_000);

  it('another key does not start the server; rotation re-seals every row under the new key', async () => {
    await expect(startService(env(url, { SECRETS_KEY: OTHER_KEY }), { ingest: true, delivery: false }, { logger: silent })).rejects.toThrow(/sealed with another key/);
    const before = await rawDatabase(kind, dir);
    expect(await rotateSecretsKey(url, Buffer.from(KEY, 'base64'), Buffer.from(OTHER_KEY, 'hex'))).toBe(3);
    expect(await rotateSecretsKey(url, Buffer.from(KEY, 'base64'), Buffer.from(OTHER_KEY, 'hex'))).toBe(0);
    const after = await rawDatabase(kind, dir);
    expect(after).not.toBe(before);
    await expect(startService(env(url, { SECRETS_KEY: KEY }), { ingest: true, delivery: false }, { logger: silent })).rejects.toThrow(/sealed with another key/);
    const service = await startService(env(url, { SECRETS_KEY: OTHER_KEY }), { ingest: true, delivery: false }, { logger: silent });
    try {
      expect((await service.store.getDestination('legacy'))?.settings.sharedSecret).toBe(OLD_SECRET);
      expect((await service.store.getDestination('from-api'))?.settings.sharedSecret).toBe(API_SECRET);
    } finally {
      await service.stop();
    }
    const raw = await rawDatabase(kind, dir);
    for (const secret of [OLD_SECRET, ENV_SECRET, API_SECRET]) expect(raw, secret).not.toContain(secret);
  }, 60_000);
});
