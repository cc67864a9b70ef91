import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthOptions {
  /** Ready means: an append would be taken now, and the process is not shutting down. Throws or false when not. */
  isReady: () => Promise<boolean>;
  metrics: Registry;
  /** A readiness check still running after this long answers "not ready" (default 2 s: probes time out). */
  readyTimeoutMs?: number;
  /** Told when readiness changes, with the reason it was lost. */
  onReadinessChange?: (ready: boolean, reason?: string) => void;
}

/** Liveness, readiness and Prometheus metrics: unauthenticated, as scrapers and probes expect. */
export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  const timeoutMs = options.readyTimeoutMs ?? 2000;
  let wasReady: boolean | null = null;

  app.get('/healthz', async () => ({ status: 'ok' }));

  // The reason stays in the log: this route is open to anyone, and database errors name paths.
  app.get('/readyz', async (_request, reply) => {
    let ready = false;
    let reason: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the database did not take a write within ${timeoutMs} ms (locked by another process?)`)), timeoutMs);
      });
      ready = await Promise.race([options.isReady(), late]);
      if (!ready) reason = 'shutting down';
    } catch (error) {
      ready = false;
      reason = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
    if (ready !== wasReady) {
      wasReady = ready;
      options.onReadinessChange?.(ready, reason);
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await options.metrics.metrics();
    return reply.header('content-type', options.metrics.contentType).send(text);
  });
}
