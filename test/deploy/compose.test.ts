import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support.ts';

// compose.yaml is not run here (its PostgreSQL image would come from a registry none can reach);
// Compose itself validates it, and its services are checked to be what docs/scaling.md describes.

const scratch = mkdtempSync(join(tmpdir(), 'st-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
copyFileSync(join(ROOT, 'compose.yaml'), join(scratch, 'compose.yaml'));
copyFileSync(join(ROOT, 'deploy/sailthru-destination.env.example'), join(scratch, 'sailthru-destination.env'));

/** `docker compose` (v2) or `docker-compose` (v1, Debian's package), whichever runs. */
function composeCommand(): string[] | null {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    if (spawnSync(command[0]!, [...command.slice(1), 'version'], { encoding: 'utf8' }).status === 0) return command;
  }
  return null;
}
const compose = composeCommand();

interface Service {
  image?: string;
  build?: { context: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  ports?: string[];
}

/** The file as Compose reads it (YAML anchors and merge keys resolved), through Python's YAML. */
function parsed(): { services: Record<string, Service> } {
  const r = spawnSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', join(scratch, 'compose.yaml')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 with PyYAML is needed to read compose.yaml: ${r.stderr}`);
  return JSON.parse(r.stdout) as { services: Record<string, Service> };
}

describe('compose.yaml', () => {
  it.skipIf(compose === null)(`is valid for Compose (${compose?.join(' ') ?? 'no docker compose or docker-compose here'})`, () => {
    const env = { ...process.env, POSTGRES_PASSWORD: 'compose-check' };
    const ok = spawnSync(compose![0]!, [...compose!.slice(1), 'config', '-q'], { cwd: scratch, env, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    // Without the database password it refuses to start rather than run with an empty one.
    const { POSTGRES_PASSWORD: _, ...withoutPassword } = env;
    const refused = spawnSync(compose![0]!, [...compose!.slice(1), 'config', '-q'], { cwd: scratch, env: withoutPassword, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('POSTGRES_PASSWORD');
  });

  it('runs serve (no delivery) and workers from the image, on the PostgreSQL service, stopping gracefully', () => {
    const { services } = parsed();
    expect(Object.keys(services).sort()).toEqual(['postgres', 'serve', 'worker']);
    const { serve, worker, postgres } = services as Record<'serve' | 'worker' | 'postgres', Service>;
    expect(serve.build?.context).toBe('.');
    expect(serve.build?.args?.BASE).toBe('${BASE:-node:20-bookworm-slim}');
    expect(serve.command).toEqual(['node', 'bin/sailthru-destination.js', 'serve', '--no-delivery']);
    expect(worker.command).toEqual(['node', 'bin/sailthru-destination.js', 'worker']);
    for (const app of [serve, worker]) {
      expect(app.image).toBe('sailthru-destination');
      expect(app.environment?.DATABASE_URL).toMatch(/^postgres:\/\/sailthru:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/sailthru\b/);
      expect(app.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(app.stop_grace_period).toBe('2m');
    }
    expect(postgres.environment?.POSTGRES_DB).toBe('sailthru');
    expect(serve.ports).toEqual(['127.0.0.1:8080:8080']);
  });
});
