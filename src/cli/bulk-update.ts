import { SailthruClient } from '../sailthru/client.ts';
import type { SailthruResult } from '../sailthru/types.ts';
import type { DestinationSettings } from '../destination/settings.ts';
import { updateLineOf } from './backfill-lines.ts';
import { isOrderCompleted, purchaseLineOf } from './backfill-purchases.ts';
import type { EventFile } from './event-file.ts';
import type { EntryProblem } from './event-sender.ts';
import { startFileServer, type FileServerOptions } from './file-server.ts';

/**
 * The bulk path: every identify becomes one line of a Sailthru `update` job and every Order
 * Completed one line of a `purchase_import` job (POST /job), `linesPerJob` lines a job, instead
 * of one call per user or order. The job files are served over HTTP for Sailthru to fetch (its
 * `url` source), then each job is polled (GET /job) until it is completed or in error. Purchase
 * jobs are posted once the update jobs have finished: a purchase names its buyer by email, and
 * an import that created that profile first would make the update's extid + email a conflict.
 */

export interface BulkUpdateOptions {
  settings: DestinationSettings;
  /** default 50 000 */
  linesPerJob?: number;
  /** Between two rounds of GET /job. default 5000 ms */
  pollMs?: number;
  fileServer?: FileServerOptions;
  /** A client to use (tests); default one built from the settings. */
  client?: SailthruClient;
  /** Told when the files are served (before any job is posted). */
  onServing?: (localUrl: string) => void;
  onProgress?: (progress: BulkProgress) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface BulkProgress {
  jobs: number;
  finished: number;
  lines: number;
  processed: number;
}

export type JobStatus = 'pending' | 'completed' | 'error' | 'not submitted';
export type JobKind = 'update' | 'purchase_import';

export interface JobReport {
  /** 1-based: update jobs in file order, then purchase jobs. */
  number: number;
  kind: JobKind;
  jobId: string | null;
  /** The first and last file entries in this job (`line 1`, `line 50000`). */
  from: string;
  to: string;
  lines: number;
  status: JobStatus;
  processed: number | null;
  failed: number | null;
  /** Sailthru's reasons, with its line numbers turned into the file's (`line 7: Invalid email`). */
  errors: string[];
  errormsg?: string;
  /** How often Sailthru fetched the job's file (0 = it never came for it). */
  fetches: number;
}

export interface BulkUpdateReport {
  total: number;
  /** Update lines (identify). */
  lines: number;
  /** purchase_import lines (Order Completed). */
  purchaseLines: number;
  skipped: EntryProblem[];
  invalid: EntryProblem[];
  warnings: EntryProblem[];
  jobs: JobReport[];
  /** Why it stopped early (credentials refused, Sailthru unreachable). */
  stopped?: string;
}

interface Chunk {
  kind: JobKind;
  lines: string[];
  wheres: string[];
}

/** Entries with what became of them, in file order, whichever pass mapped them. */
type Sorted = { at: number; problem: EntryProblem };

const SUBMIT_TRIES = 5;
/** Polls that may fail in a row (network, 5xx) before giving up on the status. */
const POLL_FAILURES = 10;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runBulkUpdate(file: EventFile, options: BulkUpdateOptions): Promise<BulkUpdateReport> {
  const linesPerJob = options.linesPerJob ?? 50_000;
  const pollMs = options.pollMs ?? 5000;
  const sleep = options.sleep ?? sleepFor;
  const report: BulkUpdateReport = { total: file.total, lines: 0, purchaseLines: 0, skipped: [], invalid: [], warnings: [], jobs: [] };
  const chunks = mapEntries(file, options.settings, linesPerJob, report);
  if (chunks.length === 0) return report;

  report.jobs = chunks.map((c, i) => ({
    number: i + 1,
    kind: c.kind,
    jobId: null,
    from: c.wheres[0] as string,
    to: c.wheres[c.wheres.length - 1] as string,
    lines: c.lines.length,
    status: 'not submitted',
    processed: null,
    failed: null,
    errors: [],
    fetches: 0,
  }));

  const client =
    options.client ??
    new SailthruClient({ apiKey: options.settings.apiKey, sharedSecret: options.settings.sharedSecret, apiUrl: options.settings.apiUrl });
  const server = await startFileServer(options.fileServer);
  options.onServing?.(server.localUrl);
  const names = chunks.map((c, i) => `${c.kind === 'update' ? 'update' : 'purchases'}-${i + 1}.ndjson`);
  const progress = () => {
    const finished = report.jobs.filter((j) => j.status === 'completed' || j.status === 'error').length;
    const processed = report.jobs.reduce((sum, j) => sum + (j.processed ?? 0), 0);
    options.onProgress?.({ jobs: report.jobs.length, finished, lines: report.lines + report.purchaseLines, processed });
  };

  /** Posts the jobs of one kind, then follows them until none is pending; false when it had to stop. */
  async function runKind(kind: JobKind): Promise<boolean> {
    for (const [i, chunk] of chunks.entries()) {
      if (chunk.kind !== kind) continue;
      const job = report.jobs[i] as JobReport;
      const url = server.add(names[i] as string, `${chunk.lines.join('\n')}\n`);
      const posted = await withRetries(() => client.postJob({ job: kind, url }), SUBMIT_TRIES, pollMs, sleep);
      if (!posted.ok) {
        report.stopped = `POST /job for job ${job.number} failed: ${posted.message}`;
        return false;
      }
      job.jobId = String(posted.body.job_id);
      job.status = 'pending';
      progress();
    }

    let failuresInARow = 0;
    while (report.jobs.some((j) => j.status === 'pending')) {
      await sleep(pollMs);
      for (const [i, job] of report.jobs.entries()) {
        if (job.status !== 'pending' || job.jobId === null) continue;
        const answer = await client.getJob({ job_id: job.jobId });
        if (!answer.ok) {
          if (answer.class !== 'retryable' || ++failuresInARow >= POLL_FAILURES) {
            report.stopped = `GET /job ${job.jobId} failed: ${answer.message}; look the job up in Sailthru's job list`;
            return false;
          }
          continue;
        }
        failuresInARow = 0;
        applyStatus(job, answer.body, (chunks[i] as Chunk).wheres);
        job.fetches = server.fetches(names[i] as string);
      }
      progress();
    }
    return true;
  }

  try {
    if (await runKind('update')) await runKind('purchase_import');
  } finally {
    await server.close();
    if (options.client === undefined) await client.close();
  }
  return report;
}

/**
 * Maps every entry to its job line. Identifies first, so an order later in the file, or earlier,
 * finds the email its buyer was identified with; problems are reported in file order.
 */
function mapEntries(file: EventFile, settings: DestinationSettings, linesPerJob: number, report: BulkUpdateReport): Chunk[] {
  const receivedAt = new Date();
  const skipped: Sorted[] = [];
  const invalid: Sorted[] = [];
  const warnings: Sorted[] = [];
  const emails = new Map<string, string>();
  const orders: Array<{ at: number; where: string; value: unknown }> = [];
  const chunks: Chunk[] = [];
  const filling: Partial<Record<JobKind, Chunk>> = {};
  const add = (kind: JobKind, line: unknown, where: string) => {
    let chunk = filling[kind];
    if (chunk === undefined || chunk.lines.length >= linesPerJob) chunks.push((chunk = filling[kind] = { kind, lines: [], wheres: [] }));
    chunk.lines.push(JSON.stringify(line));
    chunk.wheres.push(where);
  };

  let at = -1;
  for (const entry of file.entries) {
    at++;
    if (!entry.ok) {
      invalid.push({ at, problem: { where: entry.where, reason: entry.error } });
      continue;
    }
    if (isOrderCompleted(entry.value)) {
      orders.push({ at, where: entry.where, value: entry.value });
      continue;
    }
    const mapped = updateLineOf(entry.value, settings, receivedAt);
    if (mapped.kind === 'skipped') skipped.push({ at, problem: { where: entry.where, reason: mapped.reason } });
    if (mapped.kind === 'invalid') invalid.push({ at, problem: { where: entry.where, reason: mapped.reason } });
    if (mapped.kind !== 'line') continue;
    for (const w of mapped.warnings) warnings.push({ at, problem: { where: entry.where, reason: w } });
    if (mapped.line.email !== undefined) emails.set(mapped.line.extid, mapped.line.email);
    add('update', mapped.line, entry.where);
    report.lines++;
  }
  for (const entry of orders) {
    const at = entry.at;
    const mapped = purchaseLineOf(entry.value, settings, receivedAt, (extid) => emails.get(extid));
    if (mapped.kind === 'skipped') skipped.push({ at, problem: { where: entry.where, reason: mapped.reason } });
    if (mapped.kind === 'invalid') invalid.push({ at, problem: { where: entry.where, reason: mapped.reason } });
    if (mapped.kind !== 'line') continue;
    for (const w of mapped.warnings) warnings.push({ at, problem: { where: entry.where, reason: w } });
    add('purchase_import', mapped.line, entry.where);
    report.purchaseLines++;
  }
  const inFileOrder = (list: Sorted[]) => list.sort((a, b) => a.at - b.at).map((s) => s.problem);
  report.skipped = inFileOrder(skipped);
  report.invalid = inFileOrder(invalid);
  report.warnings = inFileOrder(warnings);
  // Update jobs run first (see above); their numbers come first too.
  return [...chunks.filter((c) => c.kind === 'update'), ...chunks.filter((c) => c.kind === 'purchase_import')];
}

async function withRetries<T>(call: () => Promise<SailthruResult<T>>, tries: number, pauseMs: number, sleep: (ms: number) => Promise<void>): Promise<SailthruResult<T>> {
  let result = await call();
  for (let attempt = 1; !result.ok && result.class === 'retryable' && attempt < tries; attempt++) {
    await sleep(result.retryAfterMs ?? pauseMs);
    result = await call();
  }
  return result;
}

function applyStatus(job: JobReport, body: Record<string, unknown>, wheres: string[]): void {
  const status = body.status;
  if (status === 'completed' || status === 'error') job.status = status;
  if (typeof body.processed === 'number') job.processed = body.processed;
  if (typeof body.failed === 'number') job.failed = body.failed;
  if (typeof body.errormsg === 'string') job.errormsg = body.errormsg;
  if (Array.isArray(body.errors)) {
    job.errors = body.errors.map((e) => String(e).replace(/^line (\d+):/, (whole, n: string) => `${wheres[Number(n) - 1] ?? whole.slice(0, -1)}:`));
  }
}
