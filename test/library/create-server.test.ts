import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createServer, startEmulator, type RunningEmulator } from '../../src/index.ts';
import { TEST_SECRETS_KEY } from '../e2e/harness.ts';

const CREDS = { apiKey: 'embed-api-key', secret: 'embed-shared-secret-0123' };
const silent = pino({ level: 'silent' });
let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, ...CREDS });
  dir = mkdtempSync(join(tmpdir(), 'st-embed-'));
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createServer', () => {
  it('runs the service in this process: ingest, store, delivery, then a graceful stop', async () => {
    const server = createServer({
      databaseUrl: `sqlite:${join(dir, 'embedded.db')}`,
      writeKeys: ['embed-key'],
      secretsKey: TEST_SECRETS_KEY,
      settings: { apiKey: CREDS.apiKey, sharedSecret: CREDS.secret, apiUrl: emulator.url, trackUrl: emulator.url },
      env: { RETRY_BASE_MS: '50' },
      logger: silent,
    });
    expect(() => server.url).toThrow('url is available once start() has resolved');
    const url = await server.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).toBe(url);
    const res = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('embed-key:').toString('base64')}` },
      body: JSON.stringify({ batch: [{ type: 'track', userId: 'embed-user', event: 'Embedded', messageId: 'embed-1' }] }),
    });
    expect(res.status).toBe(200);
    let status: string | undefined;
    for (let i = 0; i < 200 && status !== 'delivered'; i++) {
      status = (await server.store.search({ messageId: 'embed-1' })).events[0]?.status;
      if (status !== 'delivered') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('delivered');
    expect(emulator.state().events.some((e) => e.id === 'embed-user' && e.event === 'Embedded')).toBe(true);
    await server.stop();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('refuses options that contradict each other before anything listens, naming the problem', () => {
    expect(() => createServer({ settings: { apiKey: 'k' }, env: { SAILTHRU_API_KEY: 'k2' } })).toThrow(ConfigError);
    expect(() => createServer({ settings: { apiKey: 'k' }, env: { SAILTHRU_API_KEY: 'k2' } })).toThrow(/default destination/);
    expect(() => createServer({ env: { MAX_BACKLOG: 'lots' } })).toThrow(/MAX_BACKLOG/);
    expect(() => createServer({ writeKeys: ['a'], destinations: [{ id: 'default', name: 'x', settings: {}, writeKeys: [] }] })).toThrow('destination id "default" is declared twice');
  });

  it('starts with settings that are not valid, as serve does: a warning names the field, events wait', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const server = createServer({ databaseUrl: `sqlite:${join(dir, 'invalid.db')}`, settings: { apiKey: 'k', sharedSecret: 's', optoutValue: 'sometimes' }, secretsKey: TEST_SECRETS_KEY, logger });
    await server.start();
    try {
      const warning = lines.map((l) => JSON.parse(l) as { msg: string; problems?: string[] }).find((l) => l.msg.startsWith('destination settings are incomplete'));
      expect(warning?.problems?.join(' ')).toMatch(/optoutValue/);
    } finally {
      await server.stop();
    }
  });
});
