import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { parseDatabaseUrl } from '../../src/delivery/open-store.ts';
import { DEFAULT_RATE_LIMITS } from '../../src/delivery/rate-limiter.ts';
import { validateSettings } from '../../src/destination/settings.ts';
import { ROOT, baseEnv, logicalLines, readRepoFile, run } from './support.ts';

const UNIT_PATH = 'deploy/sailthru-destination.service';
const unit = readRepoFile(UNIT_PATH);
const envExample = readRepoFile('deploy/sailthru-destination.env.example');
const bin = (JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> }).bin['sailthru-destination'];

/** `[Section]` → key → values (a key may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const line of logicalLines(text)) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    current!.set(key, [...(current!.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/** What systemd's EnvironmentFile= (and `docker run --env-file`) reads: KEY=VALUE lines, `#` comments. */
function parseEnvFile(text: string, uncommentDefaults = false): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = uncommentDefaults && /^#[A-Z_]+=/.test(raw) ? raw.slice(1) : raw;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

const service = parseUnit(unit).get('Service')!;
const value = (key: string): string => {
  const values = service.get(key);
  expect(values, key).toHaveLength(1);
  return values![0]!;
};

const scratch = mkdtempSync(join(tmpdir(), 'st-systemd-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/sailthru-destination.service', () => {
  it('runs `serve` of the package bin from WorkingDirectory, as a dedicated user, with the env file', () => {
    const [node, ...args] = value('ExecStart').split(/\s+/);
    expect(node).toMatch(/^\/.+\/node$/);
    expect(args).toEqual([bin, 'serve']);
    expect(value('WorkingDirectory')).toBe('/opt/sailthru-destination');
    expect(value('User')).toBe('sailthru-destination');
    expect(value('EnvironmentFile')).toBe('/etc/sailthru-destination.env');
  });

  it('stops gracefully, restarts on failure but not on a configuration error (exit 2)', () => {
    expect(value('KillSignal')).toBe('SIGTERM');
    expect(value('KillMode')).toBe('mixed');
    expect(Number(value('TimeoutStopSec'))).toBeGreaterThanOrEqual(60);
    expect(value('Restart')).toBe('on-failure');
    expect(value('RestartPreventExitStatus')).toBe('2');
  });

  it('is hardened, and the database of the env example is in its only writable directory', () => {
    expect(value('NoNewPrivileges')).toBe('yes');
    expect(value('ProtectSystem')).toBe('strict');
    expect(value('PrivateTmp')).toBe('yes');
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    const location = parseDatabaseUrl(parseEnvFile(envExample).DATABASE_URL!);
    expect(location.kind).toBe('sqlite');
    const dataDir = dirname((location as { path: string }).path);
    expect(value('ReadWritePaths')).toBe(dataDir);
    expect(`/var/lib/${value('StateDirectory')}`).toBe(dataDir);
  });

  it.runIf(spawnSync('systemd-analyze', ['--version']).status === 0 && existsSync(value('ExecStart').split(' ')[0]!))(
    'passes `systemd-analyze verify`',
    () => {
      const result = spawnSync('systemd-analyze', ['verify', join(ROOT, UNIT_PATH)], { encoding: 'utf8' });
      expect(result.stderr + result.stdout).toBe('');
      expect(result.status).toBe(0);
    },
  );
});

describe('deploy/sailthru-destination.env.example', () => {
  it('loads as the service\'s environment once the blanks are filled, and its settings validate', () => {
    const env = { ...parseEnvFile(envExample), ADMIN_TOKEN: 'a'.repeat(32), WRITE_KEYS: 'wk-1', SAILTHRU_API_KEY: 'k', SAILTHRU_SECRET: 's' };
    const config = loadConfig(env);
    expect(config.host).toBe('127.0.0.1');
    expect(config.trustProxy).toBe('127.0.0.1');
    expect(config.destinations).toHaveLength(1);
    expect(validateSettings(config.destinations[0]!.settings).ok).toBe(true);
  });

  it('shows the true defaults in its commented lines', () => {
    const withDefaults: Record<string, string> = { ...parseEnvFile(envExample, true), SAILTHRU_API_KEY: 'k', SAILTHRU_SECRET: 's' };
    // The PostgreSQL and Redis lines are alternatives, not defaults.
    delete withDefaults.REDIS_URL;
    withDefaults.DATABASE_URL = parseEnvFile(envExample).DATABASE_URL!;
    const declared = loadConfig(withDefaults);
    const defaults = loadConfig({ DATABASE_URL: withDefaults.DATABASE_URL, HOST: '127.0.0.1', TRUST_PROXY: '127.0.0.1' });
    const { destinations: _declaredDestinations, rateLimits, ...rest } = declared;
    const { destinations: _defaultDestinations, rateLimits: defaultRateLimits, ...defaultRest } = defaults;
    expect(rest).toEqual(defaultRest);
    expect(defaultRateLimits).toEqual({});
    expect(rateLimits).toEqual(DEFAULT_RATE_LIMITS);
    const settings = validateSettings(declared.destinations[0]!.settings);
    expect(settings.ok && settings.settings.apiUrl).toBe('https://api.sailthru.com');
    expect(settings.ok && settings.settings.trackUrl).toBe('https://api.sail-track.com');
    expect(settings.ok && settings.settings.optoutValue).toBe('none');
    expect(declared.destinations[0]!.id).toBe('default');
    expect(declared.destinations[0]!.name).toBe('Sailthru');
  });

  it('starts the server as the unit would, and the server stops on the unit\'s KillSignal', async () => {
    const env = {
      ...baseEnv(),
      ...parseEnvFile(envExample),
      DATABASE_URL: `sqlite:${join(scratch, 'sailthru-destination.db')}`,
      PORT: '0',
      WRITE_KEYS: 'wk-1',
      SAILTHRU_API_KEY: 'k',
      SAILTHRU_SECRET: 'systemd-check-secret',
      SECRETS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    };
    const [node, ...args] = value('ExecStart').split(/\s+/);
    expect(node).toMatch(/node$/);
    const server = run(process.execPath, args, env);
    try {
      const [, url] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
      server.process.kill(value('KillSignal') as NodeJS.Signals);
      expect(await server.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (server.process.exitCode === null) server.process.kill('SIGKILL');
    }
  }, 90_000);
});
