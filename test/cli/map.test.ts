import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { runCli } from './helpers.ts';

/** `sailthru-destination map` (the dry run) and CONFIG_FILE's destinations[].mappings. */

const dir = mkdtempSync(join(tmpdir(), 'map-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MAPPINGS = [
  { id: 'signup', name: 'Sign-ups', enabled: true, trigger: { types: ['track'], event: { equals: 'Signed Up' } }, action: 'list-subscribe', fields: { listName: { fixed: 'Welcome' } } },
  { id: 'quiet', name: 'Everything else', enabled: true, trigger: { types: ['track'] }, action: 'drop' },
];
const config = join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ destinations: [{ id: 'shop', settings: { apiKey: 'k', sharedSecret: 's' }, mappings: MAPPINGS }] }));

describe('map', () => {
  it('prints the default mapping taken and the exact calls, from standard input', async () => {
    const run = await runCli(['map'], { stdin: JSON.stringify({ type: 'track', userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } }) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Mapping: #12 custom-event (Custom events), action custom-event');
    expect(run.stdout).toContain('POST /event {"id":"u1","key":"extid","event":"Signed Up","vars":{"plan":"pro"}}');
  });

  it('uses the mappings of a CONFIG_FILE destination (--file, --json)', async () => {
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ type: 'track', userId: 'u1', event: 'Signed Up' }));
    const run = await runCli(['map', '--file', event, '--config', config, '--destination', 'shop', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ matched: { id: 'signup', index: 0 }, state: 'delivered', calls: [{ method: 'POST', endpoint: '/user', payload: { id: 'u1', key: 'extid', lists: { Welcome: 1 } } }] });
    const other = await runCli(['map', '--config', config], { stdin: JSON.stringify({ type: 'track', userId: 'u1', event: 'Clicked' }) });
    expect(other.stdout).toContain('#0 signup (Sign-ups): event name "Clicked" is not "Signed Up"');
    expect(other.stdout).toContain('Outcome: skipped: dropped by mapping "Everything else"');
    expect(other.stdout).toContain('Sailthru calls: none');
  });

  it('refuses invalid mappings naming the field', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ ...MAPPINGS[0], trigger: { types: ['track'], conditions: [{ path: 'properties.x', op: '>>' }] } }]));
    const run = await runCli(['map', '--mappings', bad], { stdin: '{"type":"track","userId":"u","event":"x"}' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('mappings[0].trigger.conditions[0].op: must be one of');
  });
});

describe('CONFIG_FILE mappings', () => {
  it('are validated at load and carried with the destination', () => {
    const loaded = loadConfig({ CONFIG_FILE: config, DATABASE_URL: `sqlite:${join(dir, 'x.db')}` });
    expect(loaded.destinations.find((d) => d.id === 'shop')?.mappings).toEqual(MAPPINGS);
    const bad = join(dir, 'bad-config.json');
    writeFileSync(bad, JSON.stringify({ destinations: [{ id: 'shop', mappings: [{ ...MAPPINGS[1], action: 'explode' }] }] }));
    expect(() => loadConfig({ CONFIG_FILE: bad, DATABASE_URL: `sqlite:${join(dir, 'x.db')}` })).toThrow(ConfigError);
    expect(() => loadConfig({ CONFIG_FILE: bad, DATABASE_URL: `sqlite:${join(dir, 'x.db')}` })).toThrow(/destinations\[0\]\.mappings\[0\]\.action: must be one of/);
  });
});
