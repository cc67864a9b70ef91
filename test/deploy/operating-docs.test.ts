import { RefusalMonitor } from '../../src/server/ingest-refusals.ts';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_URL, loadConfig, type AppConfig } from '../../src/config.ts';
import { BacklogForecaster } from '../../src/delivery/backlog-forecaster.ts';
import { DeliveryMetrics } from '../../src/delivery/metrics.ts';
import { DEFAULT_RATE_LIMITS } from '../../src/delivery/rate-limiter.ts';
import { flatten } from '../../src/destination/flatten.ts';
import { OVERRIDE_KEYS } from '../../src/destination/overrides.ts';
import { RESERVED_EVENT_NAMES } from '../../src/destination/actions/track-event.ts';
import { NOTHING_TO_REMOVE } from '../../src/destination/actions/cart-change.ts';
import { LAST_MESSAGE_ID_VAR } from '../../src/destination/cart.ts';
import { SETTINGS, validateSettings } from '../../src/destination/settings.ts';
import { ROOT, readRepoFile } from './support.ts';

const operating = readRepoFile('docs/operating.md');
const migrating = readRepoFile('docs/migrating-from-segment.md');
const OWN_DOCS = ['docs/operating.md', 'docs/troubleshooting.md', 'docs/migrating-from-segment.md'];

/** The text of a `## Heading` section, up to the next heading of the same level. */
function section(doc: string, heading: string): string {
  const start = doc.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** Table rows whose first cell is `NAME`, by name. */
function tableRows(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\| `([A-Z][A-Z0-9_]+)` \|/.exec(line);
    if (m) rows.set(m[1]!, line.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, '')));
  }
  return rows;
}

/**
 * Every environment variable src/config.ts (or the launcher in bin/) reads, found in its source,
 * and the destination settings' env vars, which config.ts reads as the settings declare them.
 */
function configVariables(): Set<string> {
  const source = readRepoFile('src/config.ts');
  const names = new Set<string>();
  for (const m of source.matchAll(/\be\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
  for (const m of source.matchAll(/(?:int|num)\(e, '([A-Z][A-Z0-9_]+)'/g)) names.add(m[1]!);
  for (const [, schema] of SETTINGS) if (schema.env !== undefined) names.add(schema.env);
  // The launcher reads the V8 settings before the application (and src/config.ts) loads.
  for (const m of readRepoFile('bin/sailthru-destination.js').matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)) {
    if (m[1] !== 'NODE_OPTIONS') names.add(m[1]!);
  }
  return names;
}

const scratch = mkdtempSync(join(tmpdir(), 'st-docs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('docs/operating.md: configuration', () => {
  const config = section(operating, 'Configuration');
  const rows = tableRows(config);

  it('has a row for every variable src/config.ts reads, and for no other', () => {
    const read = configVariables();
    expect(read.size).toBeGreaterThan(25);
    // PORT and HOST share a row in the README; here each has its own.
    expect([...rows.keys()].sort()).toEqual([...read].sort());
  });

  it('names every variable `serve --help` lists', () => {
    const help = readRepoFile('src/server/command.ts');
    const start = help.indexOf('`', help.indexOf('const ENV_HELP'));
    const block = help.slice(start, help.indexOf('`;', start));
    const listed = new Set([...block.matchAll(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]+|PORT|HOST)\b/g)].map((m) => m[1]!));
    expect(listed.size).toBeGreaterThan(20);
    for (const name of listed) expect(rows.has(name), name).toBe(true);
  });

  it('names the setting each setting variable sets', () => {
    for (const [key, schema] of SETTINGS) {
      if (schema.env === undefined) continue;
      expect(rows.get(schema.env)?.[1], schema.env).toBe(`\`${key}\``);
    }
  });

  it('gives the defaults loadConfig applies', () => {
    const defaults = loadConfig({});
    const expected: Array<[string, keyof AppConfig]> = [
      ['PORT', 'port'],
      ['HOST', 'host'],
      ['DATABASE_URL', 'databaseUrl'],
      ['LOG_LEVEL', 'logLevel'],
      ['MAX_BACKLOG', 'maxBacklog'],
      ['DELIVERY_CONCURRENCY', 'concurrency'],
      ['RETRY_WINDOW_HOURS', 'retryWindowHours'],
      ['RETRY_BASE_MS', 'retryBaseMs'],
      ['LEASE_MS', 'leaseMs'],
      ['DELIVERY_WINDOW', 'deliveryWindow'],
      ['SETTLE_DELAY_MS', 'settleDelayMs'],
      ['RETENTION_DAYS', 'retentionDays'],
    ];
    expect(defaults.databaseUrl).toBe(DEFAULT_DATABASE_URL);
    for (const [name, field] of expected) {
      const cells = rows.get(name)!;
      expect(cells[cells.length - 1], name).toBe(`\`${String(defaults[field])}\``);
    }
    const limits = rows.get('SAILTHRU_RATE_LIMITS')!.at(-1)!;
    for (const [key, perSecond] of Object.entries(DEFAULT_RATE_LIMITS)) expect(limits, key).toContain(`\`${key}\` ${perSecond}`);
    for (const [name, text] of [
      ['DESTINATION_ID', '`default`'],
      ['DESTINATION_NAME', '`Sailthru`'],
      ['SAILTHRU_OPTOUT', '`none`'],
      ['SAILTHRU_API_URL', '`https://api.sailthru.com`'],
      ['SAILTHRU_TRACK_URL', '`https://api.sail-track.com`'],
    ] as const) {
      expect(rows.get(name)!.at(-1), name).toBe(text);
    }
    const declared = loadConfig({ SAILTHRU_API_KEY: 'k', SAILTHRU_SECRET: 's' }).destinations[0]!;
    expect([declared.id, declared.name]).toEqual(['default', 'Sailthru']);
  });

  it('shows a config file that loads, with settings that validate', () => {
    const block = /### The config file[\s\S]*?```json\n([\s\S]*?)```/.exec(config)![1]!;
    const file = join(scratch, 'destinations.json');
    writeFileSync(file, block);
    const loaded = loadConfig({ CONFIG_FILE: file });
    expect(loaded.destinations.map((d) => d.id)).toEqual(['shop-eu', 'shop-us']);
    for (const d of loaded.destinations) {
      const checked = validateSettings(d.settings);
      expect(checked.ok, JSON.stringify(checked)).toBe(true);
      expect(d.writeKeys.length).toBeGreaterThan(0);
    }
    expect(loaded.destinations[0]!.webhookSecret).toBe('EU_WEBHOOK_SECRET');
  });
});

describe('docs/operating.md: metrics', () => {
  const metrics = new DeliveryMetrics({ log: { backlogByDestination: async () => [] } });
  // The ingest's refusal counter registers on the same registry (src/server/app.ts).
  new RefusalMonitor({ registry: metrics.registry, logger: { warn: () => undefined } });
  // And the backlog forecast's gauges (src/server/admin.ts).
  new BacklogForecaster({
    store: { queuedKinds: async () => ({ total: 0, kinds: [], sampled: false }), backlogByDestination: async () => [], listDestinations: async () => [] },
    registry: { gateFor: () => ({ pointsPerSecond: () => 1 }) },
    warnHorizonSeconds: 3_600,
  }).registerGauges(metrics.registry);
  const registered = metrics.registry.getMetricsAsArray().map((m) => m.name);

  it('lists every metric the server registers', () => {
    expect(registered.length).toBeGreaterThan(10);
    for (const name of registered) expect(operating, name).toContain(`| \`${name}\` |`);
  });

  it('alerts only on metrics that exist', () => {
    const used = new Set([...operating.matchAll(/\b(sailthru_destination_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, '')));
    for (const name of used) expect(registered, name).toContain(name);
    const rules = /```yaml\n([\s\S]*?)```/.exec(section(operating, 'Metrics and alerts'))![1]!;
    expect(rules.match(/- alert: /g)).toHaveLength(8);
  });
});

describe('docs/migrating-from-segment.md', () => {
  it('names every override key, the reserved names, the cart marker and the fixed messages', () => {
    for (const key of Object.values(OVERRIDE_KEYS).flat()) expect(migrating, key).toContain(`\`${key}\``);
    for (const name of RESERVED_EVENT_NAMES) expect(migrating, name).toContain(`\`${name}\``);
    for (const text of [LAST_MESSAGE_ID_VAR, NOTHING_TO_REMOVE]) expect(migrating).toContain(text);
  });

  it('flattens its example as the code does', () => {
    const example = /```json\n(\{"levels"[\s\S]*?)\n```/.exec(migrating)![1]!;
    const { vars } = flatten(JSON.parse(example), 'traits');
    const names = Object.keys(vars).map((k) => `\`${k}\``);
    expect(names).toEqual(['`levels_0`', '`levels_1`', '`levels_2`', '`arcade_galaxy_coordinates`', '`arcade_games_0`']);
    expect(migrating).toContain(`becomes ${names.slice(0, -1).join(', ')}, ${names.at(-1)}.`);
  });
});

describe('links in the docs this area owns', () => {
  it('point at files and headings that exist', () => {
    for (const path of OWN_DOCS) {
      const doc = readRepoFile(path);
      for (const [, target] of doc.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(target!)) continue;
        const [file, anchor] = target!.split('#');
        const resolved = file === '' ? path : join('docs', file!);
        expect(existsSync(join(ROOT, resolved)), `${path} → ${target}`).toBe(true);
        if (anchor !== undefined && resolved.endsWith('.md')) {
          const slugs = [...readRepoFile(resolved).matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
          expect(slugs, `${path} → ${target}`).toContain(anchor);
        }
      }
    }
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}
