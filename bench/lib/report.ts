import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What every benchmark records next to its figures: the machine, the code and the parameters,
 * so a number in bench/results/ can always be traced to where and how it was measured.
 */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryMb: number;
  node: string;
  platform: string;
}

/** The 1-minute load average when this module was first imported (the start of the run). */
const LOAD_AT_START = loadavg()[0]!;

export interface BenchResult {
  name: string;
  machine: MachineInfo;
  /**
   * 1-minute load averages at the start and end of the run: on this shared VM other work runs
   * at the same time, and a load above the core count means processes waited for a CPU.
   */
  load: { atStart: number; atEnd: number };
  /** ISO-8601, when the run finished. */
  date: string;
  /** HEAD at the time of the run; `dirty` when the work tree had uncommitted changes. */
  git: { commit: string; dirty: boolean };
  quick: boolean;
  parameters: Record<string, unknown>;
  figures: Record<string, unknown>;
  /** Each target of issue 8 this script measures, with the figure it is judged on. */
  targets: TargetCheck[];
  notes: string[];
}

export interface TargetCheck {
  figure: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    totalMemoryMb: Math.round(totalmem() / 1048576),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_DIR, encoding: 'utf8' }).trim();
    // Only tracked files count: other engineers' untracked work in progress is not this code.
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_DIR, encoding: 'utf8' });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

/** Writes bench/results/<name>.json (through a .tmp file, so a crash never leaves half a file). */
export function writeResult(result: Omit<BenchResult, 'machine' | 'load' | 'date' | 'git'>): string {
  const full: BenchResult = {
    name: result.name,
    machine: machineInfo(),
    load: { atStart: round(LOAD_AT_START, 2), atEnd: round(loadavg()[0]!, 2) },
    date: new Date().toISOString(),
    git: gitState(),
    quick: result.quick,
    parameters: result.parameters,
    figures: result.figures,
    targets: result.targets,
    notes: result.notes,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  process.stdout.write(`\nload average (1 min): ${full.load.atStart} at the start, ${full.load.atEnd} at the end, on ${full.machine.cores} cores\n`);
  const path = join(RESULTS_DIR, `${result.name}${result.quick ? '.quick' : ''}.json`);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(full, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

type Cell = string | number | boolean | null | undefined;

/** A plain-text table, right-aligning numbers. */
export function table(rows: Array<Record<string, Cell>>, title?: string): string {
  if (rows.length === 0) return title ? `${title}\n(no rows)\n` : '(no rows)\n';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const text = (v: Cell): string => (v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: string[], numeric: boolean[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const numeric = columns.map((c) => rows.every((r) => typeof r[c] === 'number' || r[c] === undefined || r[c] === null));
  const out = [
    ...(title ? [title] : []),
    line(columns, numeric.map(() => false)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(columns.map((c) => text(r[c])), numeric)),
  ];
  return `${out.join('\n')}\n`;
}

export function printTable(rows: Array<Record<string, Cell>>, title?: string): void {
  process.stdout.write(`\n${table(rows, title)}`);
}

export function printTargets(targets: TargetCheck[]): void {
  printTable(
    targets.map((t) => ({ figure: t.figure, target: t.target, measured: t.measured, met: t.met === null ? 'n/a' : t.met ? 'yes' : 'NO' })),
    'Targets (issue 8)',
  );
}

/** Numbers as measured: integers as they are, others to 3 significant decimals at most. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 4;
  return String(Number(n.toFixed(digits)));
}

/** Rounds for the JSON (the tables print the same values). */
export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
