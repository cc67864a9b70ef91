/**
 * Where a worker's CPU goes, by area: each sample of a V8 .cpuprofile is charged to the first
 * frame, from the leaf up, that belongs to a known area (the PostgreSQL driver, our store, the
 * HTTP client, the Sailthru client, mapping, ...), so a socket write inside `pg` counts as `pg`.
 * Start-up (module loading) and idle are shown apart, so the shares of the rest are per-event work.
 *
 *   npx tsx bench/lib/profile-areas.ts FILE.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { printTable, round } from './report.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
}

const AREAS: Array<[string, (url: string, fn: string) => boolean]> = [
  ['idle', (_u, f) => f === '(idle)'],
  ['garbage collector', (_u, f) => f === '(garbage collector)'],
  ['start-up (module loading)', (u) => /modules\/(cjs|esm)|bootstrap\/realm/.test(u)],
  ['pg driver (incl. its socket writes)', (u) => /node_modules\/pg(-pool|-protocol)?\//.test(u)],
  ['our PostgreSQL store', (u) => /\/delivery\/postgres/.test(u)],
  ['HTTP client (undici)', (u) => /node_modules\/undici/.test(u)],
  ['Sailthru client (signing, records)', (u) => /\/sailthru\//.test(u)],
  ['mapping and destination', (u) => /\/(destination|mapping)\//.test(u)],
  ['metrics', (u) => /prom-client|metric/.test(u)],
  ['rate limits', (u) => /rate-limit|limiter/.test(u)],
  ['worker loop', (u) => /\/delivery\/(worker|lane-run)/.test(u)],
  ['other of ours', (u) => /\/(dist|src)\//.test(u)],
];

export function profileAreas(profile: { nodes: ProfileNode[] }): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<string, number>();
  for (const n of profile.nodes) {
    if (!n.hitCount) continue;
    let area = 'node internals, other';
    find: for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      for (const [name, test] of AREAS) {
        if (test(frame.url, frame.functionName)) {
          area = name;
          break find;
        }
      }
    }
    hits.set(area, (hits.get(area) ?? 0) + n.hitCount);
  }
  return hits;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv.slice(2).find((a) => a.endsWith('.cpuprofile'));
  if (!file) throw new Error('usage: profile-areas.ts FILE.cpuprofile');
  const hits = profileAreas(JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] });
  const total = [...hits.values()].reduce((a, b) => a + b, 0);
  const work = total - (hits.get('idle') ?? 0) - (hits.get('start-up (module loading)') ?? 0);
  printTable(
    [...hits]
      .sort((a, b) => b[1] - a[1])
      .map(([area, n]) => ({ area, '% of samples': round((100 * n) / total, 1), '% of work': /^(idle|start-up)/.test(area) ? '' : round((100 * n) / work, 1) })),
    'CPU profile by area (work: all but idle and start-up)',
  );
}
