import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DATABASE_URL, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('has the documented defaults and no destination without settings or keys', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', databaseUrl: DEFAULT_DATABASE_URL, maxBacklog: 2_000_000, concurrency: 64, retryWindowHours: 4, retryBaseMs: 1000, sailthruTimeoutMs: 10_000, leaseMs: 30_000, retentionDays: 7, trustProxy: false });
    expect(c.destinations).toEqual([]);
  });

  it('waits in the rate gate with as many lanes as DELIVERY_CONCURRENCY unless DELIVERY_WAITING_LANES says otherwise', () => {
    expect(loadConfig({}).waitingLanes).toBe(64);
    expect(loadConfig({ DELIVERY_CONCURRENCY: '8' }).waitingLanes).toBe(8);
    expect(loadConfig({ DELIVERY_CONCURRENCY: '8', DELIVERY_WAITING_LANES: '0' }).waitingLanes).toBe(0);
    expect(() => loadConfig({ DELIVERY_WAITING_LANES: '-1' })).toThrow(ConfigError);
  });

  it('builds the default destination from SAILTHRU_* and WRITE_KEYS, flags overriding env', () => {
    const c = loadConfig(
      { SAILTHRU_API_KEY: 'k', SAILTHRU_SECRET: 's', SAILTHRU_CART_EXPIRY_HOURS: '12', WRITE_KEYS: 'a, b,,', PORT: '9000' },
      { PORT: '9100' },
    );
    expect(c.port).toBe(9100);
    expect(c.destinations).toEqual([{ id: 'default', name: 'Sailthru', settings: { apiKey: 'k', sharedSecret: 's', cartExpiryHours: 12 }, writeKeys: ['a', 'b'] }]);
  });

  it('reads ADMIN_TOKEN as the admin named "admin" and ADMIN_TOKENS as named tokens with roles', () => {
    expect(loadConfig({}).admins).toEqual([]);
    expect(loadConfig({ ADMIN_TOKEN: 't0' }).admins).toEqual([{ name: 'admin', role: 'admin', token: 't0' }]);
    expect(loadConfig({ ADMIN_TOKEN: 't0', ADMIN_TOKENS: ' alice:t1, victor:viewer:t2,ops:admin:t3,' }).admins).toEqual([
      { name: 'admin', role: 'admin', token: 't0' },
      { name: 'alice', role: 'admin', token: 't1' },
      { name: 'victor', role: 'viewer', token: 't2' },
      { name: 'ops', role: 'admin', token: 't3' },
    ]);
  });

  it('names the bad ADMIN_TOKENS entry without echoing its token', () => {
    const bad: Array<[string, RegExp]> = [
      ['alice', /entry 1 must be name:token or name:role:token/],
      ['alice:owner:secret-1', /entry 1 \("alice"\): the role must be admin or viewer \(got "owner"\)/],
      ['al ice:secret-1', /entry 1: the name "al ice" must be/],
      ['alice:secret-1,alice:secret-2', /entry 2: the name "alice" is used twice/],
      ['alice:secret-1,bob:viewer:secret-1', /entry 2 \("bob"\) has the same token as "alice"/],
      ['alice:', /entry 1 \("alice"\) has an empty token/],
      ['alice:a:b:c', /a token cannot contain ":"/],
    ];
    for (const [value, message] of bad) {
      expect(() => loadConfig({ ADMIN_TOKENS: value }), value).toThrow(ConfigError);
      expect(() => loadConfig({ ADMIN_TOKENS: value }), value).toThrow(message);
      try {
        loadConfig({ ADMIN_TOKENS: value });
      } catch (error) {
        expect((error as Error).message).not.toMatch(/secret-/);
      }
    }
    expect(() => loadConfig({ ADMIN_TOKEN: 't0', ADMIN_TOKENS: 'admin:t1' })).toThrow(/"admin" is used twice \(ADMIN_TOKEN is the admin named "admin"\)/);
  });

  it('parses SAILTHRU_RATE_LIMITS and names a bad entry', () => {
    expect(loadConfig({ SAILTHRU_RATE_LIMITS: 'POST /event=100, get=500,DELETE /user=10' }).rateLimits).toEqual({ 'POST /event': 100, GET: 500, 'DELETE /user': 10 });
    expect(() => loadConfig({ SAILTHRU_RATE_LIMITS: 'POST /event:100' })).toThrow(/"POST \/event:100" should look like/);
    // A limit of 0 would hold every such event forever (and the backlog forecast would say never): pausing is the way to stop.
    expect(() => loadConfig({ SAILTHRU_RATE_LIMITS: 'POST /event=0' })).toThrow('SAILTHRU_RATE_LIMITS: "POST /event=0": a limit must be more than 0 (to stop delivery, pause the destination)');
  });

  it('refuses a DATABASE_URL it cannot open, without echoing it', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' })).toThrow(/^DATABASE_URL must be sqlite:PATH or postgres:\/\/… \(got a mysql: URL\)$/);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db?schema=x' }).databaseUrl).toBe('postgres://u@h/db?schema=x');
  });

  it('reads CORS_ORIGINS as * (the default) or a list of origins as browsers send them, and refuses anything else', () => {
    expect(loadConfig({}).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: ' * ' }).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'https://Shop.Example.com/, http://localhost:3000,https://www.example.com:443' }).corsOrigins).toEqual([
      'https://shop.example.com',
      'http://localhost:3000',
      'https://www.example.com',
    ]);
    for (const bad of ['shop.example.com', 'https://shop.example.com/path', 'https://x.example?a=1', '*,https://x.example', 'https://user@x.example']) {
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS: .* is not an origin/);
    }
  });

  it('reads TRUST_PROXY as off, on, or a list of proxies', () => {
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1,10.0.0.1' }).trustProxy).toBe('127.0.0.1,10.0.0.1');
  });

  it('takes the LOG_LEVEL names operating.md lists and refuses another with one line', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    expect(loadConfig({}).logLevel).toBe('info');
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(new ConfigError('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'));
  });

  it('names the variable and the range of a bad number', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow('PORT must be a whole number from 0 to 65535 (got "eighty")');
    expect(() => loadConfig({ RETRY_WINDOW_HOURS: '-1' })).toThrow(/RETRY_WINDOW_HOURS must be a positive number/);
    expect(() => loadConfig({ SAILTHRU_TIMEOUT_MS: '50' })).toThrow('SAILTHRU_TIMEOUT_MS must be a whole number from 100 to 300000 (got "50")');
    expect(loadConfig({ SAILTHRU_TIMEOUT_MS: '2500' }).sailthruTimeoutMs).toBe(2500);
  });

  it('reads several destinations from a config file and refuses a clash with the env one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-config-'));
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ destinations: [{ id: 'eu', name: 'EU', settings: { apiKey: 'x' }, writeKeys: ['w1'] }, { id: 'us' }] }));
      const c = loadConfig({ CONFIG_FILE: file });
      expect(c.destinations.map((d) => [d.id, d.name, d.writeKeys])).toEqual([['eu', 'EU', ['w1']], ['us', 'us', []]]);
      expect(() => loadConfig({ CONFIG_FILE: file, SAILTHRU_API_KEY: 'k', DESTINATION_ID: 'eu' })).toThrow(/"eu" is also defined/);
      writeFileSync(file, JSON.stringify({ destinations: [{ id: 'bad id!' }] }));
      expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/destinations\[0\]\.id must be/);
      writeFileSync(file, '{nope');
      expect(() => loadConfig({ CONFIG_FILE: file })).toThrow(/Cannot read config file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every problem of a config file at once, and a list entry that is not an object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-config-'));
    try {
      const file = join(dir, 'c.json');
      const destinations = [
        { id: 'bad id!', writeKeys: [''] },
        null,
        { id: 'ok', settings: [], mappings: [{ id: 'm', name: 'M', enabled: true, action: 'teleport', trigger: { types: ['track'] } }] },
      ];
      writeFileSync(file, JSON.stringify({ destinations }));
      let message = '';
      try {
        loadConfig({ CONFIG_FILE: file });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message.split('\n')).toEqual([
        `${file}: destinations[0].id must be 1-64 letters, digits, "-" or "_"`,
        `${file}: destinations[0].writeKeys must be an array of non-empty strings`,
        `${file}: destinations[1] must be an object`,
        `${file}: destinations[2].settings must be an object`,
        expect.stringMatching(/^.*: destinations\[2\]\.mappings\[0\]\.action: must be one of /),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
