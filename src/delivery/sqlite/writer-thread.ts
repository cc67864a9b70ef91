import { parentPort, workerData } from 'node:worker_threads';
import { durabilityOf, openSqliteConnection } from './connection.ts';
import { GroupCommit } from './group-commit.ts';
import { runWrite, sqliteWrites, type WriteOp } from './writes.ts';
import type { WriterReply, WriterRequest, WriterThreadData } from './write-channel.ts';

/**
 * The SQLite writer thread: owns the only writing connection, runs every write the main thread
 * sends inside the group commit, and answers each once its transaction is on disk. Commits and
 * their fsyncs (and checkpoints) happen here, never on the thread that serves HTTP.
 */
const port = parentPort!;
const data = workerData as WriterThreadData;
const db = openSqliteConnection(data.path);
const writes = sqliteWrites(db);
const group = new GroupCommit(db, data.groupCommitDelayMs);

port.on('message', (request: WriterRequest) => {
  if (request.op === 'close') {
    group.close();
    db.close();
    const reply: WriterReply = { id: request.id, ok: true, value: null, commits: group.commits };
    port.postMessage(reply);
    port.close();
    return;
  }
  group.run(() => runWrite(writes, request.op as WriteOp, request.args as never)).then(
    (value) => {
      const reply: WriterReply = { id: request.id, ok: true, value, commits: group.commits };
      port.postMessage(reply);
    },
    (error: unknown) => {
      const reply: WriterReply = {
        id: request.id,
        ok: false,
        error: { message: error instanceof Error ? error.message : String(error), code: codeOf(error) },
        commits: group.commits,
      };
      port.postMessage(reply);
    },
  );
});

port.postMessage({ id: 0, ok: true, value: durabilityOf(db), commits: 0 } satisfies WriterReply);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
