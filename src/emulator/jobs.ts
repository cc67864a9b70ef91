import { rfc2822 } from './dates.ts';
import { isPlainObject, isTruthyFlag, optionalObject, optionalText, requiredText, type Payload } from './payload.ts';
import { applyUserUpdate } from './profile-update.ts';
import type { JobRecord } from './records.ts';
import { missingParameter, otherError, SailthruApiError } from './sailthru-error.ts';
import type { EmulatorState } from './state.ts';

type JobSource =
  | { kind: 'emails'; emails: string[] }
  | { kind: 'data'; lines: unknown[] }
  | { kind: 'url'; url: string };

interface PendingJob {
  record: JobRecord;
  source: JobSource;
  update: Record<string, unknown> | undefined;
  timer: NodeJS.Timeout | undefined;
}

const MAX_REPORTED_ERRORS = 20;
const URL_TIMEOUT_MS = 30_000;

function emailList(value: unknown): string[] {
  const parts = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return parts.map((e) => e.trim()).filter(Boolean);
}

function ndjsonLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

function sourceOf(payload: Payload): JobSource {
  if (payload.file !== undefined) {
    throw otherError('The emulator does not accept multipart file uploads; give the lines as url (NDJSON) or data');
  }
  const url = optionalText(payload, 'url');
  if (url !== undefined) {
    if (!/^https?:\/\//i.test(url)) throw otherError(`Invalid url: ${url}`);
    return { kind: 'url', url };
  }
  if (payload.data !== undefined) {
    if (Array.isArray(payload.data)) return { kind: 'data', lines: payload.data };
    if (typeof payload.data === 'string') return { kind: 'data', lines: ndjsonLines(payload.data) };
    throw otherError('Invalid data: expected an array of lines or an NDJSON string');
  }
  if (payload.emails !== undefined && payload.emails !== '') return { kind: 'emails', emails: emailList(payload.emails) };
  throw missingParameter('emails, url or data');
}

/** Sailthru update-file lines name the user by id+key, or by extid, email or sid. */
function lineToUserUpdate(line: Record<string, unknown>, update: Record<string, unknown> | undefined): Payload {
  const { email, extid, sid, id, key, vars, lists, keys, ...rest } = line;
  const payload: Payload = { ...update, ...rest };
  const extraKeys: Record<string, unknown> = { ...(isPlainObject(keys) ? keys : {}) };
  if (id !== undefined) {
    payload.id = id;
    payload.key = key ?? 'email';
    if (extid !== undefined) extraKeys.extid = extid;
    if (email !== undefined) extraKeys.email = email;
  } else if (extid !== undefined) {
    payload.id = extid;
    payload.key = 'extid';
    if (email !== undefined) extraKeys.email = email;
  } else if (email !== undefined) {
    payload.id = email;
    payload.key = 'email';
  } else if (sid !== undefined) {
    payload.id = sid;
    payload.key = 'sid';
  } else {
    throw otherError('line names no user (id+key, extid, email or sid)');
  }
  if (Object.keys(extraKeys).length > 0) payload.keys = extraKeys;
  const jobVars = isPlainObject(update?.vars) ? update.vars : undefined;
  if (jobVars || vars !== undefined) payload.vars = { ...jobVars, ...(isPlainObject(vars) ? vars : {}) };
  const jobLists = isPlainObject(update?.lists) ? update.lists : undefined;
  if (jobLists || lists !== undefined) payload.lists = { ...jobLists, ...(isPlainObject(lists) ? lists : {}) };
  return payload;
}

/** Records one completed purchase as POST /purchase does, or throws its SailthruApiError. */
export type PurchaseApplier = (payload: Payload, nowMs: number) => unknown;

const JOB_NAMES: Record<JobRecord['job'], string> = { update: 'Bulk Update', import: 'List Import', purchase_import: 'Purchase Import' };

/**
 * Bulk jobs (POST /job): answered at once with status pending, applied after `delayMs`, then
 * completed (or error when the url cannot be read). Lines that fail are counted and reported on
 * the job; the others still apply, as Sailthru's update jobs do.
 */
export class JobRunner {
  private readonly pending = new Map<string, PendingJob>();
  private readonly running = new Set<Promise<void>>();
  private generation = 0;

  constructor(
    private readonly state: EmulatorState,
    private delayMs: number,
    private readonly applyPurchase: PurchaseApplier,
  ) {}

  submit(payload: Payload, nowMs: number): JobRecord {
    const job = requiredText(payload, 'job');
    if (job !== 'update' && job !== 'import' && job !== 'purchase_import') {
      throw otherError(`Job type '${job}' is not supported by the emulator (update, import and purchase_import are)`);
    }
    const list = job === 'import' ? requiredText(payload, 'list') : undefined;
    const update = job === 'update' ? optionalObject(payload, 'update') : undefined;
    const source = sourceOf(payload);
    if (job === 'purchase_import' && source.kind === 'emails') throw otherError('purchase_import takes url (NDJSON purchases) or data, not emails');
    const record: JobRecord = {
      job_id: this.state.ids.next(nowMs),
      name: list === undefined ? JOB_NAMES[job] : `${JOB_NAMES[job]}: ${list}`,
      job,
      status: 'pending',
      start_time: rfc2822(nowMs),
      processed: 0,
      failed: 0,
      errors: [],
    };
    if (list !== undefined) record.list = list;
    if (source.kind === 'url') record.url = source.url;
    this.state.jobs.set(record.job_id, record);
    const pending: PendingJob = { record, source, update, timer: undefined };
    this.pending.set(record.job_id, pending);
    pending.timer = setTimeout(() => this.start(pending), this.delayMs);
    return record;
  }

  /** Runs every pending job now and waits until all have finished. */
  async runPending(): Promise<void> {
    for (const pending of [...this.pending.values()]) {
      clearTimeout(pending.timer);
      this.start(pending);
    }
    await Promise.all([...this.running]);
  }

  setDelay(delayMs: number): void {
    this.delayMs = delayMs;
  }

  /** Forgets pending jobs (reset/close); jobs already reading their url finish into nothing. */
  cancelAll(): void {
    this.generation++;
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }

  private start(pending: PendingJob): void {
    if (!this.pending.delete(pending.record.job_id)) return;
    const run = this.run(pending, this.generation).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async run(pending: PendingJob, generation: number): Promise<void> {
    const { record, source } = pending;
    let lines: unknown[];
    try {
      lines = await this.readLines(source);
    } catch (error) {
      if (generation !== this.generation) return;
      record.status = 'error';
      record.errormsg = `Could not read ${record.url}: ${error instanceof Error ? error.message : String(error)}`;
      record.end_time = rfc2822(Date.now());
      return;
    }
    if (generation !== this.generation) return;
    const nowMs = Date.now();
    lines.forEach((line, index) => {
      try {
        this.applyLine(record, pending.update, line, nowMs);
        record.processed++;
      } catch (error) {
        record.failed++;
        if (record.errors.length < MAX_REPORTED_ERRORS) {
          const reason = error instanceof SailthruApiError || error instanceof Error ? error.message : String(error);
          record.errors.push(`line ${index + 1}: ${reason}`);
        }
      }
    });
    record.status = 'completed';
    record.end_time = rfc2822(Date.now());
  }

  private async readLines(source: JobSource): Promise<unknown[]> {
    if (source.kind === 'emails') return source.emails;
    if (source.kind === 'data') return source.lines;
    const response = await fetch(source.url, { signal: AbortSignal.timeout(URL_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return ndjsonLines(await response.text());
  }

  private applyLine(record: JobRecord, update: Record<string, unknown> | undefined, raw: unknown, nowMs: number): void {
    let line = raw;
    if (typeof line === 'string' && line.startsWith('{')) line = JSON.parse(line) as unknown;
    if (record.job === 'import') {
      const email = typeof line === 'string' ? line : isPlainObject(line) ? line.email : undefined;
      if (typeof email !== 'string' || email === '') throw new Error('no email');
      applyUserUpdate(this.state, { id: email, key: 'email', lists: { [record.list!]: 1 } }, nowMs);
      return;
    }
    if (record.job === 'purchase_import') {
      if (!isPlainObject(line)) throw new Error('expected a JSON object (one purchase, as POST /purchase takes it)');
      if (isTruthyFlag(line.incomplete)) throw new Error('incomplete purchases (carts) cannot be imported');
      this.applyPurchase(line, nowMs);
      return;
    }
    if (typeof line === 'string') line = { email: line };
    if (!isPlainObject(line)) throw new Error('expected a JSON object');
    applyUserUpdate(this.state, lineToUserUpdate(line, update), nowMs);
  }
}
