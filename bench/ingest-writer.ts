/**
 * What each index on `events` costs the SQLite writer at ingest: the writer's own work
 * (appendWrites, group commits of 15 batches of 100 events, WAL, synchronous=FULL) on one thread
 * with no HTTP and no parsing, first with the full schema, then with one index dropped at a time,
 * then with none. CPU µs per event, and WAL frames (pages written) per event with checkpoints
 * held off. Issue 19 item 5: it says which index maintenance is worth taking out.
 *
 *   npx tsx bench/ingest-writer.ts [--quick] [--batches 1500] [--rounds 2]
 *
 * Each variant runs in its own database, variants alternate within a round (the machine is
 * shared), and the figures of every round are printed and written to bench/results/.
 */
import { join } from 'node:path';
import { batchBodies } from './lib/batch-bodies.ts';
import { parseArgs } from './lib/args.ts';
import { printTable, round, writeResult } from './lib/report.ts';
import { scratchDir } from './lib/stack.ts';
import { batchColumns } from '../src/delivery/sql/append-rows.ts';
import { openSqliteConnection } from '../src/delivery/sqlite/connection.ts';
import { migrateSqlite } from '../src/delivery/sqlite/migrate.ts';
import { appendWrites, type AppendRows } from '../src/delivery/sqlite/writes/append.ts';
import { normalizeTrackingBody } from '../src/segment/normalize.ts';

const args = parseArgs();
const batchesPerRun = args.number('batches', args.quick ? 400 : 1500);
const rounds = args.number('rounds', args.quick ? 1 : 2);
const BATCHES_PER_COMMIT = 15;
const EVENTS_PER_BATCH = 100;

const EVENT_INDEXES = ['events_message', 'events_lane', 'events_status', 'events_event_name_folded', 'events_anonymous_id'];
const VARIANTS: Array<{ name: string; drop: string[] }> = [
  { name: 'all indexes', drop: [] },
  ...EVENT_INDEXES.map((index) => ({ name: `without ${index}`, drop: [index] })),
  { name: 'no index on events', drop: EVENT_INDEXES },
];

const bodies = batchBodies({ templates: 64, eventsPerBody: EVENTS_PER_BATCH });
const templates = Array.from({ length: 64 }, (_, i) => {
  const result = normalizeTrackingBody(JSON.parse(bodies.body(i).toString('utf8')), 'batch', new Date());
  if (!result.ok) throw new Error(result.error);
  return result.accepted;
});

/** Batch k's rows, with messageIds unique to k (as random as the bench's templates make them). */
function rowsOf(k: number): AppendRows {
  const accepted = templates[k % templates.length]!.map((e, i) => ({ ...e, messageId: `w-${(k * 7919) % 100_003}-${k}-${i}` }));
  const { accepted: columns, rejected } = batchColumns({ destinationId: 'default', accepted, rejected: [], receivedAt: new Date() });
  return { destinationId: 'default', receivedAt: Date.now(), now: Date.now(), accepted: columns, rejected };
}

interface VariantRun {
  variant: string;
  round: number;
  cpuMicrosPerEvent: number;
  walFramesPerEvent: number;
}

function runVariant(variant: (typeof VARIANTS)[number], roundNumber: number): VariantRun {
  const scratch = scratchDir('ingest-writer');
  const db = openSqliteConnection(join(scratch.path, 'writer.db'));
  try {
    migrateSqlite(db);
    for (const index of variant.drop) db.exec(`DROP INDEX ${index}`);
    db.pragma('wal_autocheckpoint = 0');
    const writes = appendWrites(db);
    const rows = Array.from({ length: batchesPerRun + BATCHES_PER_COMMIT * 10 }, (_, k) => rowsOf(k));
    let next = 0;
    const commit = () =>
      db.transaction(() => {
        for (let j = 0; j < BATCHES_PER_COMMIT; j++) writes.append(rows[next++]!);
      }).immediate();
    for (let c = 0; c < 10; c++) commit();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const cpu = process.cpuUsage();
    for (let c = 0; c < batchesPerRun / BATCHES_PER_COMMIT; c++) commit();
    const used = process.cpuUsage(cpu);
    const [wal] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
    const events = batchesPerRun * EVENTS_PER_BATCH;
    return { variant: variant.name, round: roundNumber, cpuMicrosPerEvent: (used.user + used.system) / events, walFramesPerEvent: (wal?.log ?? 0) / events };
  } finally {
    db.close();
    scratch.dispose();
  }
}

const runs: VariantRun[] = [];
for (let r = 1; r <= rounds; r++) for (const variant of VARIANTS) runs.push(runVariant(variant, r));
printTable(
  runs.map((r) => ({ round: r.round, variant: r.variant, 'writer CPU us/event': round(r.cpuMicrosPerEvent, 1), 'WAL frames/event': round(r.walFramesPerEvent, 2) })),
  `SQLite writer alone: ${batchesPerRun} batches of ${EVENTS_PER_BATCH}, ${BATCHES_PER_COMMIT} per commit`,
);
writeResult({
  name: 'ingest-writer',
  quick: args.quick,
  parameters: { batchesPerRun, rounds, batchesPerCommit: BATCHES_PER_COMMIT, eventsPerBatch: EVENTS_PER_BATCH },
  figures: { runs: runs.map((r) => ({ ...r, cpuMicrosPerEvent: round(r.cpuMicrosPerEvent, 2), walFramesPerEvent: round(r.walFramesPerEvent, 3) })) },
  targets: [],
  notes: ['CPU of this one thread (process.cpuUsage) over the measured commits; WAL frames counted with autocheckpoint off.'],
});
