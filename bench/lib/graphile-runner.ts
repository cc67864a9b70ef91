/**
 * One graphile-worker process for bench/postgres.ts: the peer our PostgreSQL mode is measured
 * beside. It runs a no-op task (ours maps each event and calls the emulator), with the queue
 * the bench gave each job (one per user: per-user order, as our lanes keep).
 *
 *   GW_URL, GW_SCHEMA, GW_CONCURRENCY, GW_POOL_MAX
 */
import { Logger, run } from 'graphile-worker';

const runner = await run({
  connectionString: process.env.GW_URL!,
  schema: process.env.GW_SCHEMA!,
  concurrency: Number(process.env.GW_CONCURRENCY ?? 16),
  maxPoolSize: Number(process.env.GW_POOL_MAX ?? 17),
  pollInterval: 1000,
  noHandleSignals: true,
  // Its per-job log lines would cost it CPU that ours does not spend.
  logger: new Logger(() => () => {}),
  taskList: { noop: async () => {} },
});
process.stdout.write('graphile-worker listening on (ready)\n');
const stop = () => {
  void runner.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await runner.promise;
