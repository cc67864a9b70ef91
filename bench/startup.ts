/**
 * Start-up time, as a ratio to `node -e 0` measured in the same run (so a busy machine moves both):
 * `sailthru-destination --help` to its exit, and `serve` from spawn to the first 200 of /readyz
 * (SQLite in a fresh temporary folder: the schema is created). Interleaved rounds, medians.
 * For comparison, `--help` as it ran before the build step: the TypeScript CLI through tsx. Also
 * `serve`'s resident memory 2 s after it is ready (first three rounds).
 *
 *   npx tsx bench/startup.ts [--quick] [--rounds 15]
 *
 * Runs dist/: build it first (npm run build).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from './lib/args.ts';
import { printTable, printTargets, REPO_DIR, round, writeResult, type TargetCheck } from './lib/report.ts';
import { scratchDir } from './lib/stack.ts';
import { percentile, sortedCopy, sleep } from './lib/stats.ts';

const args = parseArgs();
const rounds = args.number('rounds', args.quick ? 5 : 15);
const BIN = join(REPO_DIR, 'bin', 'sailthru-destination.js');
if (!existsSync(join(REPO_DIR, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');

/** Milliseconds from spawn to exit of `node ...args`; throws when it fails. */
function timedExit(argv: string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd: REPO_DIR, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resident memory (MiB) of a process, from /proc. */
function rssMib(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

const idleRss: number[] = [];

/**
 * Milliseconds from spawn of `serve` to its first 200 on /readyz, polled every 5 ms. With
 * `measureIdle`, its RSS 2 s later, nothing sent (no destination configured: bench/memory.ts's
 * idle figure has one, and an emulator to deliver to).
 */
async function timedServe(measureIdle = false): Promise<number> {
  const dir = scratchDir('startup');
  const port = await freePort();
  const start = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: REPO_DIR,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir.path, 'startup.db')}`, LOG_LEVEL: 'warn' },
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode} before /readyz answered`);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
      if (res?.status === 200) {
        const ms = performance.now() - start;
        if (measureIdle) {
          await sleep(2000);
          idleRss.push(rssMib(child.pid!));
        }
        return ms;
      }
      await sleep(5);
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    dir.dispose();
  }
}

const samples = { node: [] as number[], help: [] as number[], helpTsx: [] as number[], serve: [] as number[] };
// One warm-up of each (the file-system cache), not counted.
timedExit(['-e', '0']);
timedExit([BIN, '--help']);
timedExit(['--import', 'tsx', 'src/cli.ts', '--help']);
await timedServe();
for (let i = 0; i < rounds; i++) {
  samples.node.push(timedExit(['-e', '0']));
  samples.help.push(timedExit([BIN, '--help']));
  samples.helpTsx.push(timedExit(['--import', 'tsx', 'src/cli.ts', '--help']));
  samples.serve.push(await timedServe(i < 3));
}

const median = (values: number[]) => percentile(sortedCopy(values), 50);
const node = median(samples.node);
const rows = [
  { what: 'node -e 0', ms: node },
  { what: 'sailthru-destination --help (dist/)', ms: median(samples.help) },
  { what: 'serve until /readyz 200 (dist/, new SQLite file)', ms: median(samples.serve) },
  { what: '--help through tsx (src/, as before the build step)', ms: median(samples.helpTsx) },
].map((r) => ({ what: r.what, 'median ms': round(r.ms, 0), 'x node -e 0': round(r.ms / node, 1) }));
printTable(rows, `Start-up, medians of ${rounds} interleaved rounds`);
const idleMedian = median(idleRss);
process.stdout.write(`serve idle RSS 2 s after /readyz (no destination): ${round(idleMedian, 1)} MiB (median of ${idleRss.length})\n`);

const helpRatio = median(samples.help) / node;
const serveRatio = median(samples.serve) / node;
const targets: TargetCheck[] = [
  { figure: '--help start-up', target: 'as a ratio to node -e 0 (report)', measured: `${round(helpRatio, 1)}x (${round(median(samples.help), 0)} ms)`, met: null },
  { figure: 'serve until /readyz', target: 'as a ratio to node -e 0 (report)', measured: `${round(serveRatio, 1)}x (${round(median(samples.serve), 0)} ms)`, met: null },
];
printTargets(targets);

const path = writeResult({
  name: 'startup',
  quick: args.quick,
  parameters: { rounds, order: 'interleaved: node -e 0, --help, --help through tsx, serve; one warm-up each first', servePoll: '/readyz every 5 ms' },
  figures: {
    nodeMs: round(node, 1),
    helpMs: round(median(samples.help), 1),
    helpRatio: round(helpRatio, 2),
    serveReadyMs: round(median(samples.serve), 1),
    serveReadyRatio: round(serveRatio, 2),
    serveIdleRssMib: round(idleMedian, 1),
    helpThroughTsxMs: round(median(samples.helpTsx), 1),
    helpThroughTsxRatio: round(median(samples.helpTsx) / node, 2),
    samplesMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => round(x, 1))])),
  },
  targets,
  notes: [],
});
process.stdout.write(`${path}\n`);
