/**
 * The ingest benchmark's yardstick: a fastify server whose /v1/batch only parses the JSON body
 * and answers 200, run in its own process like the real server. The ratio of the real ingest
 * rate to this one says how much of the cost is ours (normalising, storing, fsync) rather than
 * HTTP and JSON parsing. Run: `node --import tsx bench/lib/noop-server.ts`.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
let events = 0;
app.post('/v1/batch', async (request) => {
  const body = request.body as { batch?: unknown[] } | null;
  events += Array.isArray(body?.batch) ? body.batch.length : 0;
  return { success: true };
});
app.get('/stats', async () => ({ events }));

const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`no-op server listening on ${url}\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
