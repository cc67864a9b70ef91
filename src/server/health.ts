import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthOptions {
  /** Ready means: the store answers and the process is not shutting down. */
  isReady: () => Promise<boolean>;
  metrics: Registry;
}

/** Liveness, readiness and Prometheus metrics: unauthenticated, as scrapers and probes expect. */
export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    let ready = false;
    try {
      ready = await options.isReady();
    } catch {
      ready = false;
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await options.metrics.metrics();
    return reply.header('content-type', options.metrics.contentType).send(text);
  });
}
