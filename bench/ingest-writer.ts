/**
 * What each index on `events` costs the SQLite writer at ingest: the writer's own work
 * (appendWrites, group commits of 15 batches of 100 events, WAL, synchronous=FULL) on one thread
 * with no HTTP and no parsing. CPU µs per event, and WAL frames (pages written) per event with
 * checkpoints held off. Issue 19 item 5: it says which index maintenance is worth taking out.
 *
 *   npx tsx bench/ingest-writer.ts [--quick] [--batches 1500] [--rounds 2] [--each-index]
 *                                  [--history 300000] [--settle-lag 4]
 *
 * By default it compares the two layouts of a lane's index: `events_lane` (migrations 2–9, one
 * index over every status) and the split of migration 10 (unsettled-only head index, settled-only
 * log index). `--each-index` instead drops one index at a time from the full schema, then all.
 * `--history N` first fills the database with N settled events of the same lanes (a log kept for
 * the retention period), so the measured inserts meet an index of realistic size. `--settle-lag C`
 * settles, after each measured commit, the events committed C commits earlier (one UPDATE per event
 * shaped as the settle's, in its own transaction, as delivery keeping C commits behind would), and
 * reports that work apart.
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

const eachIndex = args.has('each-index');
const history = args.number('history', 0);
const settleLag = args.has('settle-lag') ? args.number('settle-lag', 4) : null;

const EVENT_INDEXES = ['events_message', 'events_lane_head', 'events_lane_settled', 'events_status', 'events_event_name_folded', 'events_anonymous_id'];
/** Migrations 2–9's one lane index over every status, in place of migration 10's two. */
const SINGLE_LANE_INDEX = [
  'DROP INDEX events_lane_head',
  'DROP INDEX events_lane_settled',
  'CREATE INDEX events_lane ON events (lane_key, destination_id, status, id)',
];
const VARIANTS: Array<{ name: string; drop: string[]; sql?: string[] }> = eachIndex
  ? [
      { name: 'all indexes', drop: [] },
      ...EVENT_INDEXES.map((index) => ({ name: `without ${index}`, drop: [index] })),
      { name: 'no index on events', drop: EVENT_INDEXES },
    ]
  : [
      { name: 'events_lane (one index, main)', drop: [], sql: SINGLE_LANE_INDEX },
      { name: 'head + settled (migration 10)', drop: [] },
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
  /** With --settle-lag: the settles' share of the above. */
  settleCpuMicrosPerEvent: number | null;
}

const SETTLE = `UPDATE events SET status = 'delivered', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, @now),
  next_attempt_at = NULL, last_error = NULL, updated_at = @now, settled_at = @now, outcome = '{}'
  WHERE id = @id AND status IN ('pending', 'retrying')`;

function runVariant(variant: (typeof VARIANTS)[number], roundNumber: number): VariantRun {
  const scratch = scratchDir('ingest-writer');
  const db = openSqliteConnection(join(scratch.path, 'writer.db'));
  try {
    migrateSqlite(db);
    for (const index of variant.drop) db.exec(`DROP INDEX ${index}`);
    for (const sql of variant.sql ?? []) db.exec(sql);
    db.pragma('wal_autocheckpoint = 0');
    const writes = appendWrites(db);
    const settle = db.prepare(SETTLE);
    const historyBatches = Math.ceil(history / EVENTS_PER_BATCH);
    const rows = Array.from({ length: historyBatches + batchesPerRun + BATCHES_PER_COMMIT * 10 }, (_, k) => rowsOf(k));
    let next = 0;
    /** The id range each commit appended, for the settles that follow it. */
    const committed: Array<[number, number]> = [];
    const lastId = () => (db.prepare('SELECT coalesce(max(id), 0) AS id FROM events').get() as { id: number }).id;
    const commit = (batches = BATCHES_PER_COMMIT) => {
      const first = lastId() + 1;
      db.transaction(() => {
        for (let j = 0; j < batches && next < rows.length; j++) writes.append(rows[next++]!);
      }).immediate();
      committed.push([first, lastId()]);
    };
    if (historyBatches > 0) {
      for (let c = 0; c < historyBatches; c += 100) commit(Math.min(100, historyBatches - c));
      db.prepare("UPDATE events SET status = 'delivered', settled_at = updated_at").run();
      committed.length = 0;
    }
    for (let c = 0; c < 10; c++) commit();
    // The warm-up's events are settled too (as delivery would have), so the measured run starts
    // with a backlog of settleLag commits at most.
    if (settleLag !== null) db.prepare("UPDATE events SET status = 'delivered', settled_at = updated_at WHERE status = 'pending'").run();
    committed.length = 0;
    db.pragma('wal_checkpoint(TRUNCATE)');
    let settleMicros = 0;
    const cpu = process.cpuUsage();
    for (let c = 0; c < batchesPerRun / BATCHES_PER_COMMIT; c++) {
      commit();
      if (settleLag === null || committed.length <= settleLag) continue;
      const [from, to] = committed[committed.length - 1 - settleLag]!;
      const before = process.cpuUsage();
      const now = Date.now();
      db.transaction(() => {
        for (let id = from; id <= to; id++) settle.run({ id, now });
      }).immediate();
      const used = process.cpuUsage(before);
      settleMicros += used.user + used.system;
    }
    const used = process.cpuUsage(cpu);
    const [wal] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
    const events = batchesPerRun * EVENTS_PER_BATCH;
    return {
      variant: variant.name,
      round: roundNumber,
      cpuMicrosPerEvent: (used.user + used.system) / events,
      walFramesPerEvent: (wal?.log ?? 0) / events,
      settleCpuMicrosPerEvent: settleLag === null ? null : settleMicros / events,
    };
  } finally {
    db.close();
    scratch.dispose();
  }
}

const runs: VariantRun[] = [];
for (let r = 1; r <= rounds; r++) for (const variant of VARIANTS) runs.push(runVariant(variant, r));
printTable(
  runs.map((r) => ({
    round: r.round,
    variant: r.variant,
    'writer CPU us/event': round(r.cpuMicrosPerEvent, 1),
    ...(settleLag === null ? {} : { 'of which settles': round(r.settleCpuMicrosPerEvent ?? 0, 1) }),
    'WAL frames/event': round(r.walFramesPerEvent, 2),
  })),
  `SQLite writer alone: ${batchesPerRun} batches of ${EVENTS_PER_BATCH}, ${BATCHES_PER_COMMIT} per commit, history ${history}, ` +
    (settleLag === null ? 'no settles' : `settled ${settleLag} commits behind`),
);
writeResult({
  name: `ingest-writer${eachIndex ? '' : '-layouts'}${history > 0 ? '-history' : ''}${settleLag === null ? '' : '-settle'}`,
  quick: args.quick,
  parameters: { batchesPerRun, rounds, batchesPerCommit: BATCHES_PER_COMMIT, eventsPerBatch: EVENTS_PER_BATCH, eachIndex, history, settleLag },
  figures: {
    runs: runs.map((r) => ({
      ...r,
      cpuMicrosPerEvent: round(r.cpuMicrosPerEvent, 2),
      walFramesPerEvent: round(r.walFramesPerEvent, 3),
      settleCpuMicrosPerEvent: r.settleCpuMicrosPerEvent === null ? null : round(r.settleCpuMicrosPerEvent, 2),
    })),
  },
  targets: [],
  notes: ['CPU of this one thread (process.cpuUsage) over the measured commits (and settles); WAL frames counted with autocheckpoint off.'],
});
