import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalLines, readRepoFile, ROOT } from './support.ts';

// The image built from the Dockerfile and run: it answers /healthz (and its own HEALTHCHECK),
// takes a batch and delivers it to an emulator container, runs as a non-root user without dev
// dependencies, keeps its database in /data, and stops gracefully. Skipped only when no
// container engine runs here (.ci/run installs and starts one, as
// ../shared/reference/containers.md describes). The first build takes minutes (Debian's nodejs,
// compiling better-sqlite3); later ones reuse the engine's layer cache.

const BASE = process.env.CONTAINER_BASE_IMAGE ?? 'local/debian-trixie';
const IMAGE = 'sailthru-destination:test';
const id = `st-test-${process.pid}`;
const names = { network: id, emulator: `${id}-emulator`, service: `${id}-service`, volume: `${id}-data` };
const CREDS = { apiKey: 'container-api-key', secret: 'container-shared-secret-0123' };
const WRITE_KEY = 'container-write-key';
// The service keeps the shared secret sealed in its database (issue 15): it needs a key for it.
const SECRETS_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

function docker(args: string[], timeoutMs = 120_000) {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: (r.stdout ?? '').trim(), error: r.error };
}

function mustDocker(args: string[], timeoutMs?: number): string {
  const r = docker(args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code ?? r.error?.message}):\n${r.out.slice(-4000)}`);
  return r.stdout;
}

/** null when an engine answers, else why not. */
function engineProblem(): string | null {
  const info = docker(['info', '--format', '{{.ServerVersion}}'], 20_000);
  if (info.error) return `no container engine: docker cannot be run (${info.error.message})`;
  if (info.code !== 0) return `no container engine: docker info failed: ${info.out.trim().split('\n').pop()}`;
  return null;
}

const problem = engineProblem();

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The build context as a user's clone sends it: what the Dockerfile copies, and a CA bundle for npm. */
function buildContext(): string {
  const dir = mkdtempSync(join(tmpdir(), 'st-image-'));
  const sources = logicalLines(readRepoFile('Dockerfile'))
    .filter((line) => /^COPY\s/i.test(line) && !/--from/.test(line))
    .flatMap((line) => line.split(/\s+/).slice(1, -1))
    .filter((source) => !source.includes('['));
  for (const source of ['Dockerfile', '.dockerignore', ...sources]) cpSync(join(ROOT, source), join(dir, source), { recursive: true });
  // HTTPS here goes through a proxy with its own authority (containers.md); npm in the build
  // stage trusts it through build-ca.pem. The final image does not contain it.
  if (existsSync('/etc/ssl/certs/ca-certificates.crt')) copyFileSync('/etc/ssl/certs/ca-certificates.crt', join(dir, 'build-ca.pem'));
  return dir;
}

function hostPort(container: string, port: number): string {
  return mustDocker(['port', container, `${port}/tcp`]).split('\n')[0]!.trim();
}

describe.skipIf(problem !== null)(`the container image (${problem ?? `built on ${BASE}`})`, () => {
  let context: string;
  let serviceUrl: string;
  let emulatorUrl: string;

  beforeAll(() => {
    if (docker(['image', 'inspect', BASE]).code !== 0) {
      // deploy/debian-base-image.sh builds it (root and debootstrap needed); .ci/run does it first.
      const built = spawnSync(join(ROOT, 'deploy/debian-base-image.sh'), [BASE], { encoding: 'utf8', timeout: 900_000 });
      if (built.status !== 0) throw new Error(`no base image ${BASE}, and deploy/debian-base-image.sh failed:\n${built.stdout}${built.stderr}`);
    }
    context = buildContext();
    // The build stage is tagged too, so that pruning dangling images keeps its layers (npm ci
    // and better-sqlite3's compile, the slow part) for the next run; the second build reuses them.
    mustDocker(['build', '--build-arg', `BASE=${BASE}`, '--target', 'build', '-t', `${IMAGE}-build`, context], 1_800_000);
    mustDocker(['build', '--build-arg', `BASE=${BASE}`, '-t', IMAGE, context], 1_800_000);
    mustDocker(['network', 'create', names.network]);
    // The image's HEALTHCHECK is the service's (/healthz on PORT): not the emulator's.
    mustDocker(['run', '-d', '--name', names.emulator, '--network', names.network, '-p', '127.0.0.1::4000', '--no-healthcheck', IMAGE,
      'node', 'bin/sailthru-destination.js', 'emulator', '--host', '0.0.0.0', '--port', '4000', '--api-key', CREDS.apiKey, '--secret', CREDS.secret]);
    mustDocker(['run', '-d', '--name', names.service, '--network', names.network, '-p', '127.0.0.1::8080', '-v', `${names.volume}:/data`,
      // The image's own HEALTHCHECK, checked every second instead of every 30 s.
      '--health-interval', '1s', '--health-start-period', '0s',
      '-e', `WRITE_KEYS=${WRITE_KEY}`, '-e', `SAILTHRU_API_KEY=${CREDS.apiKey}`, '-e', `SAILTHRU_SECRET=${CREDS.secret}`, '-e', `SECRETS_KEY=${SECRETS_KEY}`,
      '-e', `SAILTHRU_API_URL=http://${names.emulator}:4000`, '-e', `SAILTHRU_TRACK_URL=http://${names.emulator}:4000`, IMAGE]);
    serviceUrl = `http://${hostPort(names.service, 8080)}`;
    emulatorUrl = `http://${hostPort(names.emulator, 4000)}`;
  }, 2_400_000);

  afterAll(() => {
    docker(['rm', '-f', '-v', names.service, names.emulator]);
    docker(['network', 'rm', names.network]);
    docker(['volume', 'rm', names.volume]);
    if (context) rmSync(context, { recursive: true, force: true });
    // The image stays: the next run's build reuses its layers.
  });

  it('serves /healthz, and its HEALTHCHECK reports healthy', async () => {
    const status = await until('/healthz', async () => {
      // Docker's port proxy accepts connections before the server listens: never wait long on one.
      const res = await fetch(`${serviceUrl}/healthz`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
      return res?.status === 200 ? res.status : undefined;
    });
    expect(status).toBe(200);
    const health = await until('the HEALTHCHECK', () => {
      const state = mustDocker(['inspect', '-f', '{{.State.Health.Status}}', names.service]);
      return state === 'healthy' || state === 'unhealthy' ? state : undefined;
    });
    expect(health).toBe('healthy');
  }, 180_000);

  it('accepts a batch and delivers it to the emulator container', async () => {
    const res = await fetch(`${serviceUrl}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
      body: JSON.stringify({
        batch: [
          { type: 'identify', userId: 'container-user', traits: { email: 'container@example.com' } },
          { type: 'track', userId: 'container-user', event: 'Shipped In A Container', properties: { size: 'small' } },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const events = await until('the delivery', async () => {
      const state = (await (await fetch(`${emulatorUrl}/_emulator/state?key=extid&id=container-user`, { signal: AbortSignal.timeout(5000) })).json()) as { events: Array<{ event: string }>; profiles: Array<{ keys: { email?: string } }> };
      return state.events.length > 0 ? state : undefined;
    });
    expect(events.events.map((e) => e.event)).toEqual(['Shipped In A Container']);
    expect(events.profiles[0]?.keys.email).toBe('container@example.com');
  }, 180_000);

  it('runs as a non-root user, with its database in the /data volume and no dev dependencies', () => {
    expect(mustDocker(['exec', names.service, 'id', '-u'])).not.toBe('0');
    expect(mustDocker(['exec', names.service, 'ls', '/data'])).toContain('sailthru-destination.db');
    const mounts = JSON.parse(mustDocker(['inspect', '-f', '{{json .Mounts}}', names.service])) as Array<{ Destination: string; Name?: string }>;
    expect(mounts.find((m) => m.Destination === '/data')?.Name).toBe(names.volume);
    for (const dev of ['typescript', 'tsx', 'vitest', 'eslint']) {
      expect(docker(['exec', names.service, 'test', '-e', `node_modules/${dev}`]).code, dev).not.toBe(0);
    }
    // The build stage's certificate authority and the sources stay out of the image.
    expect(docker(['exec', names.service, 'sh', '-c', 'ls /app/build-ca.pem /app/src 2>&1']).code).not.toBe(0);
  }, 60_000);

  it('stops gracefully on docker stop (exit 0)', () => {
    mustDocker(['stop', '-t', '60', names.service], 90_000);
    expect(mustDocker(['inspect', '-f', '{{.State.ExitCode}}', names.service])).toBe('0');
    expect(docker(['logs', names.service]).out).toContain('shutting down: finishing in-flight deliveries');
  }, 120_000);
});
