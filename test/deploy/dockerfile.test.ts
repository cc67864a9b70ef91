import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/delivery/open-store.ts';
import { baseEnv, logicalLines, readRepoFile, run } from './support.ts';

// The instructions as written: the commands are the README's, and the CMD, environment and
// HEALTHCHECK, run as they are written, start a server that answers the health check and stops
// gracefully on STOPSIGNAL. test/deploy/container.test.ts builds and runs the image itself.

interface Instruction {
  keyword: string;
  args: string;
}

const dockerfile = readRepoFile('Dockerfile');
const instructions: Instruction[] = logicalLines(dockerfile).map((line) => {
  const space = line.indexOf(' ');
  return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
});
const finalStage = instructions.slice(instructions.map((i) => i.keyword).lastIndexOf('FROM'));
const readme = readRepoFile('README.md');
const bin = (JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> }).bin['sailthru-destination'];

function only(keyword: string, stage: Instruction[] = finalStage): string {
  const found = stage.filter((i) => i.keyword === keyword);
  expect(found, keyword).toHaveLength(1);
  return found[0]!.args;
}

/** `ENV A=1 B=2` lines of the final stage. */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of finalStage.filter((i) => i.keyword === 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return env;
}

const scratch = mkdtempSync(join(tmpdir(), 'st-dockerfile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('Dockerfile', () => {
  it('installs with `npm ci` on the BASE image (node:20-bookworm-slim unless told), builds dist/, keeps no dev dependencies', () => {
    expect(instructions[0]).toEqual({ keyword: 'ARG', args: 'BASE=node:20-bookworm-slim' });
    expect(instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args)).toEqual(['${BASE} AS build', '${BASE}']);
    // RUN lines that run npm (the first stage's apt line only installs Debian's npm package).
    const npmRuns = instructions.filter((i) => i.keyword === 'RUN' && /(^|&& )npm /.test(i.args)).map((i) => i.args);
    expect(npmRuns).toHaveLength(3);
    // Dependencies from the lock file, as the README's `npm ci`; the one install script the server needs.
    expect(npmRuns[0]).toMatch(/&& npm ci --ignore-scripts\b.*&& npm rebuild better-sqlite3$/);
    expect(readme).toContain('npm ci');
    // package.json's build (the `prepare` that `npm ci` runs on a clone), then the dev dependencies go.
    expect(npmRuns[1]).toBe('npm run build');
    expect((JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }).scripts.build).toBe('node scripts/build.js');
    expect(npmRuns[2]).toMatch(/^npm prune --omit=dev\b/);
    // The final stage takes the build's results, not its tools.
    const copied = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copied).toEqual(['--from=build /app/package.json ./', '--from=build /app/node_modules ./node_modules', '--from=build /app/dist ./dist', 'bin ./bin']);
  });

  it('runs the README\'s `npx sailthru-destination serve`: the package bin, with node, as CMD', () => {
    const cmd = JSON.parse(only('CMD')) as string[];
    expect(readme).toContain('npx sailthru-destination serve');
    // npx runs package.json's bin for that name; the image runs the same file with node itself.
    expect(cmd).toEqual(['node', bin, 'serve']);
    expect(finalStage.some((i) => i.keyword === 'ENTRYPOINT')).toBe(false);
  });

  it('runs as a non-root user, keeps its SQLite database in the /data volume, exposes 8080, stops on SIGTERM', () => {
    expect(only('USER')).toBe('node');
    expect(only('EXPOSE')).toBe('8080');
    expect(only('STOPSIGNAL')).toBe('SIGTERM');
    expect(JSON.parse(only('VOLUME'))).toEqual(['/data']);
    const env = imageEnv();
    expect(parseDatabaseUrl(env.DATABASE_URL!)).toEqual({ kind: 'sqlite', path: '/data/sailthru-destination.db' });
    expect(env.PORT).toBe('8080');
    expect(env.HOST).toBe('0.0.0.0');
    expect(finalStage.some((i) => i.keyword === 'RUN' && i.args.includes('chown node:node /data'))).toBe(true);
  });

  it('sends the build context it copies: nothing COPY needs is in .dockerignore', () => {
    const ignored = new Set(logicalLines(readRepoFile('.dockerignore')));
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    // build-ca.pe[m]: copied when the context has one (a proxy's certificate authority, for npm).
    expect(sources).toEqual(['package.json', 'package-lock.json', 'build-ca.pe[m]', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src', 'bin']);
    for (const source of sources) expect(ignored.has(source), source).toBe(false);
    for (const secretOrLocal of ['node_modules', 'dist', 'data', '*.db', '*.db-wal', '*.env', '.git']) expect(ignored.has(secretOrLocal)).toBe(true);
  });

  it('its CMD, run with the image\'s environment, serves /healthz to the HEALTHCHECK and exits 0 on SIGTERM', async () => {
    const cmd = JSON.parse(only('CMD')) as string[];
    const healthcheck = only('HEALTHCHECK');
    const healthCmd = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    expect(healthCmd.join(' ')).toContain('/healthz');

    const env = {
      ...baseEnv(),
      ...imageEnv(),
      // The volume is a temporary directory here, and the port a free one.
      DATABASE_URL: `sqlite:${join(scratch, 'sailthru-destination.db')}`,
      PORT: '0',
      WRITE_KEYS: 'docker-check-key',
      SAILTHRU_API_KEY: 'k',
      SAILTHRU_SECRET: 'docker-check-secret',
      SECRETS_KEY: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    };
    const server = run(cmd[0] === 'node' ? process.execPath : cmd[0]!, cmd.slice(1), env);
    try {
      const [, port] = await server.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      const check = run(process.execPath, healthCmd.slice(1), { ...baseEnv(), PORT: port! });
      expect((await check.exited).code, check.output()).toBe(0);

      server.process.kill('SIGTERM');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.output()).toContain('shutting down: finishing in-flight deliveries');
    } finally {
      if (server.process.exitCode === null) server.process.kill('SIGKILL');
    }
  }, 90_000);

  it('the HEALTHCHECK fails when nothing answers', async () => {
    const healthcheck = only('HEALTHCHECK');
    const healthCmd = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    // Port 9 (discard) on loopback: nothing listens there.
    const check = run(process.execPath, healthCmd.slice(1), { ...baseEnv(), PORT: '9' });
    expect((await check.exited).code).toBe(1);
  }, 30_000);
});
