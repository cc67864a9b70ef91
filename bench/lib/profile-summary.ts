/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the samples fall, by self time and
 * by inclusive time, so a missed target can be explained by what dominates.
 *
 *   npx tsx bench/lib/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from './args.ts';
import { REPO_DIR, printTable, round } from './report.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface FrameShare {
  frame: string;
  selfPercent: number;
  totalPercent: number;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.startsWith('file://') ? relative(REPO_DIR, new URL(url).pathname) : url;
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

export function summariseProfile(profile: CpuProfile): FrameShare[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totalHits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const name = frameName(n);
    self.set(name, (self.get(name) ?? 0) + hits);
    // Inclusive: every distinct frame on the stack of these samples gets them once.
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const f = frameName(byId.get(id)!);
      if (seen.has(f)) continue;
      seen.add(f);
      total.set(f, (total.get(f) ?? 0) + hits);
    }
  }
  return [...total.keys()]
    .map((frame) => ({
      frame,
      selfPercent: round((100 * (self.get(frame) ?? 0)) / totalHits, 1),
      totalPercent: round((100 * (total.get(frame) ?? 0)) / totalHits, 1),
    }))
    .sort((a, b) => b.selfPercent - a.selfPercent);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = parseArgs();
  const file = process.argv.slice(2).find((a) => a.endsWith('.cpuprofile'));
  if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N]');
  const top = args.number('top', 25);
  const shares = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  printTable(shares.slice(0, top).map((s) => ({ 'self %': s.selfPercent, 'total %': s.totalPercent, frame: s.frame })), 'By self time');
  printTable(
    [...shares].sort((a, b) => b.totalPercent - a.totalPercent).slice(0, top).map((s) => ({ 'total %': s.totalPercent, 'self %': s.selfPercent, frame: s.frame })),
    'By inclusive time',
  );
}
