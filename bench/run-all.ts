/**
 * Runs every benchmark in turn, each in its own process (`npm run bench`, or
 * `npx tsx bench/run-all.ts [--quick] [--only ingest,delivery] [--skip postgres]`), then prints
 * the targets of issue 8 from the result files they wrote.
 *
 * PostgreSQL mode is benchmarked last and only when DATABASE_URL's server answers
 * (default postgres://postgres@127.0.0.1:5432/test; BENCH_DATABASE_URL overrides it).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parseArgs } from './lib/args.ts';
import { BENCH_DIR, printTable, RESULTS_DIR, type BenchResult } from './lib/report.ts';

const BENCHMARKS = ['mapping', 'calls-per-event', 'ingest', 'latency', 'delivery', 'bound', 'memory', 'startup', 'postgres'] as const;

const args = parseArgs();
const only = args.get('only')?.split(',');
const skip = args.get('skip')?.split(',') ?? [];
const selected = BENCHMARKS.filter((b) => (only ? only.includes(b) : true) && !skip.includes(b));
const passThrough = args.quick ? ['--quick'] : [];

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function run(name: string): Promise<number> {
  return new Promise((resolve) => {
    process.stdout.write(`\n=== ${name} ${'='.repeat(Math.max(0, 70 - name.length))}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`), ...passThrough], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const outcomes: Array<{ benchmark: string; exit: number | string }> = [];
for (const name of selected) {
  if (name === 'postgres' && !(await postgresReachable())) {
    process.stdout.write('\n=== postgres: skipped (PostgreSQL is not reachable)\n');
    outcomes.push({ benchmark: name, exit: 'skipped' });
    continue;
  }
  outcomes.push({ benchmark: name, exit: await run(name) });
}

const rows = [];
for (const name of selected) {
  const file = join(RESULTS_DIR, `${name}${args.quick ? '.quick' : ''}.json`);
  if (!existsSync(file)) continue;
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  for (const t of result.targets) {
    rows.push({ benchmark: name, figure: t.figure, target: t.target, measured: t.measured, met: t.met === null ? 'n/a' : t.met ? 'yes' : 'NO', 'load 1m': `${result.load.atStart}->${result.load.atEnd}` });
  }
}
printTable(outcomes, 'Runs');
printTable(rows, `Targets of issue 8 (${args.quick ? 'quick runs' : 'full runs'}; figures in bench/results/)`);
process.exitCode = outcomes.some((o) => typeof o.exit === 'number' && o.exit !== 0) ? 1 : 0;
