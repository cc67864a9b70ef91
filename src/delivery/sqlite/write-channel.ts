import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import { durabilityOf, type SqliteDurability } from './connection.ts';
import { GroupCommit } from './group-commit.ts';
import { runWrite, sqliteWrites, type SqliteWrites, type WriteArgs, type WriteOp, type WriteResult } from './writes.ts';

/** Where the store's writes run: on the main thread, or on a writer thread of their own. */
export interface WriteChannel {
  call<K extends WriteOp>(op: K, ...args: WriteArgs<K>): Promise<WriteResult<K>>;
  /** Group commits so far (tests and benchmarks check that commits are shared). */
  readonly commits: number;
  /** The durability settings of the writing connection. */
  readonly durability: SqliteDurability;
  close(): Promise<void>;
}

/** Writes on the calling thread's connection, group-committed. For `:memory:` and small tools. */
export class InlineWriteChannel implements WriteChannel {
  private readonly writes: SqliteWrites;
  private readonly group: GroupCommit;
  readonly durability: SqliteDurability;

  constructor(db: Database, groupCommitDelayMs: number) {
    this.writes = sqliteWrites(db);
    this.group = new GroupCommit(db, groupCommitDelayMs);
    this.durability = durabilityOf(db);
  }

  get commits(): number {
    return this.group.commits;
  }

  call<K extends WriteOp>(op: K, ...args: WriteArgs<K>): Promise<WriteResult<K>> {
    return this.group.run(() => runWrite(this.writes, op, args));
  }

  async close(): Promise<void> {
    this.group.close();
  }
}

export interface WriterThreadData {
  path: string;
  groupCommitDelayMs: number;
}

export interface ThreadWriteChannelOptions extends WriterThreadData {
  /** The writer thread died: every write from now on fails; the process should restart. */
  onError?: (error: Error) => void;
}

export interface WriterRequest {
  id: number;
  op: WriteOp | 'close';
  args: unknown[];
}

export type WriterReply =
  | { id: number; ok: true; value: unknown; commits: number }
  | { id: number; ok: false; error: { message: string; code?: string | undefined }; commits: number };

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Writes on a writer thread with its own connection: inserts, commits, fsyncs and checkpoints
 * leave the main thread free to parse requests meanwhile, so ingest uses two cores. Requests are
 * messages; each promise settles when the writer's group commit holding it is on disk.
 */
export class ThreadWriteChannel implements WriteChannel {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private stopped: Error | null = null;
  private commitCount = 0;

  private constructor(
    private readonly worker: Worker,
    readonly durability: SqliteDurability,
    private readonly onError: ((error: Error) => void) | undefined,
  ) {
    worker.on('message', (reply: WriterReply) => this.receive(reply));
    worker.on('error', (error) => this.fail(new Error(`the SQLite writer thread failed: ${error.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`the SQLite writer thread exited (code ${code})`)));
    // Idle, the writer must not keep the process alive; with requests in flight it must.
    worker.unref();
  }

  static async start(options: ThreadWriteChannelOptions): Promise<ThreadWriteChannel> {
    const data: WriterThreadData = { path: options.path, groupCommitDelayMs: options.groupCommitDelayMs };
    const tsx = tsxRegistration();
    const entry = new URL(tsx === null ? './writer-thread.js' : './writer-thread.ts', import.meta.url);
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { ...data, entry: tsx === null ? entry.href : fileURLToPath(entry), tsx },
      // The writer holds no more than one group of rows at a time: a young generation of 2 x 4 MB
      // semi-spaces instead of V8's default 2 x 16 MB keeps its heap small under a full ingest.
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    const durability = await new Promise<SqliteDurability>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`the SQLite writer thread could not start: ${error.message}`));
      worker.once('error', onError);
      worker.once('message', (reply: WriterReply) => {
        worker.off('error', onError);
        if (reply.ok) resolve(reply.value as SqliteDurability);
        else reject(new Error(`the SQLite writer thread could not start: ${reply.error.message}`));
      });
    });
    return new ThreadWriteChannel(worker, durability, options.onError);
  }

  get commits(): number {
    return this.commitCount;
  }

  call<K extends WriteOp>(op: K, ...args: WriteArgs<K>): Promise<WriteResult<K>> {
    return this.request(op, args) as Promise<WriteResult<K>>;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    const closing = this.request('close', []);
    // Anything asked from now on would reach a thread that has stopped listening.
    this.stopped = new Error('the event store is closed');
    await closing;
    // The close reply unref'd the thread, so the cap is what holds the event loop until it
    // exits: unref'd too, a process with nothing else pending (migrate, a refused start) ended
    // mid-await with status 13, printing nothing.
    await new Promise<void>((resolve) => {
      const cap = setTimeout(resolve, 1000);
      this.worker.once('exit', () => {
        clearTimeout(cap);
        resolve();
      });
    });
  }

  private request(op: WriteOp | 'close', args: unknown[]): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref();
      const message: WriterRequest = { id, op, args };
      this.worker.postMessage(message);
    });
  }

  private receive(reply: WriterReply): void {
    this.commitCount = Math.max(this.commitCount, reply.commits);
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.ok) {
      waiting.resolve(reply.value);
      return;
    }
    const error = new Error(reply.error.message) as Error & { code?: string };
    if (reply.error.code !== undefined) error.code = reply.error.code;
    waiting.reject(error);
  }

  private fail(error: Error): void {
    if (!this.stopped) {
      this.stopped = error;
      this.onError?.(error);
    }
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}

/** See the Worker options above; measured in bench/memory.ts (bench/README.md, memory). */
const WRITER_YOUNG_GENERATION_MB = 12;

/**
 * The thread's entry is TypeScript, and neither the `tsx` command's loader nor the vitest runner
 * reaches worker threads: the thread registers tsx itself before loading it. It registers tsx's
 * CommonJS hook, which compiles on the thread itself, rather than its ESM loader, which would
 * start a second loader-hooks thread (a whole V8 isolate, about 20 MB resident) for the writer's
 * small modules (writes.ts, writes/, and the shared rules in ../sql/ they use). Keep their imports
 * to node:, better-sqlite3 and types: test/delivery/sqlite-writer-imports.test.ts checks it.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx) {
  require(workerData.tsx).register();
  require(workerData.entry);
} else {
  import(workerData.entry);
}
`;

/** The CommonJS entry of tsx's API when this module itself runs as TypeScript, else null. */
function tsxRegistration(): string | null {
  if (!import.meta.url.endsWith('.ts')) return null;
  return createRequire(import.meta.url).resolve('tsx/cjs/api');
}
