import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_DIR } from './report.ts';

/**
 * The CLI under test: this checkout's, or another build's (BENCH_BIN, e.g. a worktree of main
 * with its own dist/), so A/B runs drive both with the same benchmark code.
 */
const BIN = process.env.BENCH_BIN ?? join(REPO_DIR, 'bin', 'sailthru-destination.js');

/**
 * A `serve`, `worker` or `emulator` process started as an operator would (the real CLI), so the
 * load generator and the process under test never share an event loop.
 */
export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (graceful), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Node flags before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Printed line that carries the URL. */
  listeningPattern?: RegExp;
  timeoutMs?: number;
  /** Open an IPC channel (process.send in the child). */
  ipc?: boolean;
}

const OUTPUT_KEEP = 64 * 1024;

/** `sailthru-destination <args>` (serve, worker, emulator). */
export function startCli(args: string[], env: Record<string, string>, options: StartOptions = {}): Promise<ServiceProcess> {
  return startNode([BIN, ...args], args[0] ?? 'sailthru-destination', env, options);
}

/** A TypeScript script of bench/ in its own node process (through tsx). */
export function startScript(path: string, env: Record<string, string> = {}, options: StartOptions = {}): Promise<ServiceProcess> {
  return startNode(['--import', 'tsx', path], path, env, options);
}

async function startNode(argv: string[], label: string, env: Record<string, string>, options: StartOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...argv], {
    cwd: REPO_DIR,
    env: { ...process.env, ...env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  // Only the tail is kept: a long run's logs must not grow the load generator's memory.
  let out = '';
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > OUTPUT_KEEP * 2) out = out.slice(-OUTPUT_KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pattern = options.listeningPattern ?? /listening on (http:\/\/\S+)/;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${label} exited before listening:\n${out}`));
    });
  });
  let stopping: Promise<void> | null = null;
  return {
    child,
    pid: child.pid!,
    url,
    output: () => out,
    exited,
    stop(graceMs = 30_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Resident memory of a process from /proc (Linux): current, peak (high-water mark) and its parts, MB. */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number; anonMb: number; fileMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    // RssAnon is the heap (V8, SQLite's cache, malloc); RssFile the mapped binary, libraries and files.
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024 };
  } catch {
    return null;
  }
}

/** CPU time (user + system) a process has used so far, seconds (Linux /proc/<pid>/stat). */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return null;
  }
}

/** Reads Prometheus samples from /metrics, summed over labels that match `labels`. */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return sumSamples(text, name, labels);
}

export function sumSamples(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/**
 * Scheduler figures of a process's main thread (Linux /proc/<pid>/schedstat): seconds on a CPU
 * and seconds runnable but waiting for one. On a shared VM the second says how much of a slow
 * figure was the machine rather than the code.
 */
export function schedOf(pid: number | 'self'): { onCpuSeconds: number; waitingSeconds: number } | null {
  try {
    const [onCpu, waiting] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { onCpuSeconds: onCpu! / 1e9, waitingSeconds: waiting! / 1e9 };
  } catch {
    return null;
  }
}

/** Tracks a process's main thread between start() and stop(): cores used and share of time starved of a CPU. */
export function schedMeter(pid: number | 'self'): { stop(): { cores: number; starvedShare: number } | null } {
  const before = schedOf(pid);
  const t0 = performance.now();
  return {
    stop() {
      const after = schedOf(pid);
      const wall = (performance.now() - t0) / 1000;
      if (!before || !after || wall <= 0) return null;
      return { cores: (after.onCpuSeconds - before.onCpuSeconds) / wall, starvedShare: (after.waitingSeconds - before.waitingSeconds) / wall };
    },
  };
}
