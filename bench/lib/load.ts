import { Pool } from 'undici';

/**
 * A closed-loop load generator: `connections` loops, each sending one request and waiting for
 * its answer before the next, over an undici Pool with that many keep-alive connections.
 */
export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  /** Requests before this many ms are not counted (warm-up). */
  warmupMs: number;
  durationMs: number;
  headers: Record<string, string>;
  body(requestNumber: number): Buffer;
  /** Units of work one successful request carries (events per batch). */
  unitsPerRequest: number;
  /** First request number (so successive runs against one store never repeat a messageId). */
  firstRequest?: number;
}

export interface LoadResult {
  connections: number;
  durationMs: number;
  requests: number;
  ok: number;
  /** Answers by status other than 200. */
  failures: Record<string, number>;
  unitsPerSecond: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Next unused request number. */
  nextRequest: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.url, { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 });
  let next = options.firstRequest ?? 0;
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  let requests = 0;
  let ok = 0;
  const failures: Record<string, number> = {};
  const latencies: number[] = [];

  const loop = async () => {
    for (;;) {
      const sentAt = performance.now();
      if (sentAt >= end) return;
      const body = options.body(next++);
      let status: number | string;
      try {
        const res = await pool.request({ path: options.path, method: 'POST', headers: options.headers, body });
        status = res.statusCode;
        await res.body.dump();
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error';
      }
      const doneAt = performance.now();
      // Throughput is completions per second: a request counts when it completes in the window.
      if (doneAt >= measureFrom && doneAt < end) {
        requests++;
        latencies.push(doneAt - sentAt);
        if (status === 200) ok++;
        else failures[String(status)] = (failures[String(status)] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? Number.NaN;
  const seconds = options.durationMs / 1000;
  return {
    connections: options.connections,
    durationMs: options.durationMs,
    requests,
    ok,
    failures,
    unitsPerSecond: (ok * options.unitsPerRequest) / seconds,
    requestsPerSecond: ok / seconds,
    latencyMs: { p50: at(50), p95: at(95), p99: at(99), max: latencies[latencies.length - 1] ?? Number.NaN },
    nextRequest: next,
  };
}
