/**
 * Prints the targets of every full-run result in bench/results/ as a Markdown table, for
 * bench/README.md (so the README quotes the files rather than retyping them).
 *
 *   npx tsx bench/lib/summary.ts [--quick]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from './args.ts';
import { RESULTS_DIR, type BenchResult } from './report.ts';

const NAMES = ['ingest', 'delivery', 'calls-per-event', 'memory', 'mapping', 'latency', 'postgres'];

const args = parseArgs();
const lines = ['| benchmark | figure | target | measured | met | run (UTC), commit, load 1 min start→end |', '|---|---|---|---|---|---|'];
for (const name of NAMES) {
  const file = join(RESULTS_DIR, `${name}${args.quick ? '.quick' : ''}.json`);
  if (!existsSync(file)) continue;
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const when = `${r.date.slice(0, 16).replace('T', ' ')}, ${r.git.commit.slice(0, 7)}${r.git.dirty ? '+' : ''}, ${r.load.atStart}→${r.load.atEnd}`;
  for (const t of r.targets) {
    const met = t.met === null ? 'report' : t.met ? 'yes' : '**no**';
    lines.push(`| ${name} | ${t.figure} | ${t.target.replace(/\|/g, '\\|')} | ${t.measured.replace(/\|/g, '\\|')} | ${met} | ${when} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
