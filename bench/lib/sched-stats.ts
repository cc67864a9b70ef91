import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the scheduler saw of a process, summed over its threads (/proc/PID/task/*): seconds on a
 * CPU, seconds runnable but waiting for one (run-queue wait: CPU starvation, not idleness), and
 * context switches, voluntary (it blocked: waiting for I/O, a wake-up per message) and
 * involuntary (preempted). Linux only; null when the process is gone or unreadable.
 */
export interface SchedSample {
  runSeconds: number;
  waitSeconds: number;
  voluntary: number;
  involuntary: number;
}

export function schedOf(pid: number): SchedSample | null {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const sum: SchedSample = { runSeconds: 0, waitSeconds: 0, voluntary: 0, involuntary: 0 };
  for (const tid of tasks) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      sum.runSeconds += (run ?? 0) / 1e9;
      sum.waitSeconds += (wait ?? 0) / 1e9;
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      sum.voluntary += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      sum.involuntary += Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return sum;
}

/** Samples of several processes by pid (those gone are left out). */
export function schedOfAll(pids: number[]): Map<number, SchedSample> {
  const out = new Map<number, SchedSample>();
  for (const pid of pids) {
    const s = schedOf(pid);
    if (s) out.set(pid, s);
  }
  return out;
}

/** Sum of what each process did between two samples (one new since the first counts from its start). */
export function schedDelta(before: Map<number, SchedSample>, after: Map<number, SchedSample>): SchedSample {
  const sum: SchedSample = { runSeconds: 0, waitSeconds: 0, voluntary: 0, involuntary: 0 };
  for (const [pid, a] of after) {
    const b = before.get(pid) ?? { runSeconds: 0, waitSeconds: 0, voluntary: 0, involuntary: 0 };
    sum.runSeconds += a.runSeconds - b.runSeconds;
    sum.waitSeconds += a.waitSeconds - b.waitSeconds;
    sum.voluntary += a.voluntary - b.voluntary;
    sum.involuntary += a.involuntary - b.involuntary;
  }
  return sum;
}
