/**
 * The emulator in its own process for the benchmarks, reporting what it receives to the parent
 * over the IPC channel: every `reportMs`, the requests since the last report, either one by one
 * as [arrival epoch ms, route index, status] or counted per (second, route, status). Its own
 * process keeps its arrival times free of the stalls of the process under test.
 *
 * Started by startEmulatorHost() below with BENCH_EMULATOR_OPTIONS (JSON EmulatorOptions) and
 * BENCH_EMULATOR_REPORT ("raw" or "per-second").
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorOptions } from '../../src/emulator/index.ts';
import { startScript, type ServiceProcess } from './service-process.ts';

export type ArrivalReport =
  | { kind: 'raw'; routes: string[]; arrivals: Array<[number, number, number]> }
  | { kind: 'per-second'; routes: string[]; counts: Array<[number, number, number, number]> };

export interface EmulatorHost {
  process: ServiceProcess;
  url: string;
  /** Route names by index, as the reports use them. */
  routes: string[];
  /** Called with every report, in order. */
  onReport(listener: (report: ArrivalReport) => void): void;
  /** Asks for a report now and resolves once it has arrived (so nothing received is missed). */
  flush(): Promise<void>;
  setLimits(limits: { windowMs?: number; limits?: Record<string, number> }): Promise<void>;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

export async function startEmulatorHost(options: EmulatorOptions, report: 'raw' | 'per-second', reportMs = 250): Promise<EmulatorHost> {
  const proc = await startScript(
    SELF,
    { BENCH_EMULATOR_OPTIONS: JSON.stringify(options), BENCH_EMULATOR_REPORT: report, BENCH_EMULATOR_REPORT_MS: String(reportMs) },
    { listeningPattern: /emulator host listening on (http:\/\/\S+)/, ipc: true },
  );
  const child = proc.child as ChildProcess;
  const listeners: Array<(r: ArrivalReport) => void> = [];
  const routes: string[] = [];
  const flushes: Array<() => void> = [];
  child.on('message', (message: ArrivalReport & { flushed?: boolean }) => {
    routes.splice(0, routes.length, ...message.routes);
    for (const l of listeners) l(message);
    if (message.flushed) flushes.shift()?.();
  });
  return {
    process: proc,
    url: proc.url,
    routes,
    onReport: (l) => listeners.push(l),
    flush: () =>
      new Promise<void>((resolve) => {
        flushes.push(resolve);
        child.send('flush');
      }),
    async setLimits(limits) {
      const res = await fetch(`${proc.url}/_emulator/limits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(limits) });
      if (!res.ok) throw new Error(`emulator refused the limits: ${res.status} ${await res.text()}`);
    },
    stop: () => proc.stop(5000),
  };
}

async function main(): Promise<void> {
  const { startEmulator } = await import('../../src/emulator/index.ts');
  const options = JSON.parse(process.env.BENCH_EMULATOR_OPTIONS ?? '{}') as EmulatorOptions;
  const mode = process.env.BENCH_EMULATOR_REPORT === 'per-second' ? 'per-second' : 'raw';
  const reportMs = Number(process.env.BENCH_EMULATOR_REPORT_MS ?? 250);
  const routes: string[] = [];
  const routeIndex = new Map<string, number>();
  const indexOf = (route: string): number => {
    let i = routeIndex.get(route);
    if (i === undefined) {
      i = routes.length;
      routes.push(route);
      routeIndex.set(route, i);
    }
    return i;
  };
  let raw: Array<[number, number, number]> = [];
  let counts = new Map<string, number>();
  const emulator = await startEmulator({
    ...options,
    onRequest(entry) {
      const t = Date.parse(entry.time);
      const r = indexOf(`${entry.method} ${entry.path}`);
      if (mode === 'raw') raw.push([t, r, entry.status]);
      else {
        const key = `${Math.floor(t / 1000)},${r},${entry.status}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    },
  });
  const send = (flushed: boolean) => {
    if (mode === 'raw') {
      process.send!({ kind: 'raw', routes, arrivals: raw, flushed });
      raw = [];
    } else {
      const out = [...counts.entries()].map(([k, n]) => [...k.split(',').map(Number), n]);
      process.send!({ kind: 'per-second', routes, counts: out, flushed });
      counts = new Map();
    }
  };
  const timer = setInterval(() => send(false), reportMs);
  process.on('message', (m) => {
    if (m === 'flush') send(true);
  });
  process.stdout.write(`emulator host listening on ${emulator.url}\n`);
  const stop = () => {
    clearInterval(timer);
    void emulator.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

if (process.argv[1] === SELF) await main();
