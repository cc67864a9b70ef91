import { Command, Option } from 'commander';
import type { DestinationSettings } from '../destination/settings.ts';
import type { BulkUpdateReport, JobReport } from './bulk-update.ts';
import { eventFileOf, problemText, readEventText, type EventFile } from './event-file.ts';
import type { EntryProblem } from './event-sender.ts';
import { count, LiveLine, plural } from './live-line.ts';
import { CliError, httpUrl, integerOption, positiveNumberOption, runAction } from './options.ts';

interface BackfillFlags {
  apiKey?: string;
  secret?: string;
  apiUrl?: string;
  list?: string;
  optout?: string;
  productBaseUrl?: string;
  linesPerJob: number;
  poll: number;
  serveHost: string;
  servePort: number;
  fileUrlBase?: string;
  dryRun?: boolean;
  quiet?: boolean;
}

const MAX_LISTED = 50;

/** Setting → the flag and env var that give it, for messages. */
const FLAG_OF: Record<string, string> = {
  apiKey: '--api-key / SAILTHRU_API_KEY',
  sharedSecret: '--secret / SAILTHRU_SECRET',
  apiUrl: '--api-url / SAILTHRU_API_URL',
  defaultListName: '--list / SAILTHRU_DEFAULT_LIST',
  optoutValue: '--optout / SAILTHRU_OPTOUT',
  productBaseUrl: '--product-base-url / SAILTHRU_PRODUCT_BASE_URL',
};

export function backfillCommand(): Command {
  return new Command('backfill')
    .description(
      'Load a file of identify and Order Completed events into Sailthru as bulk jobs (POST /job): identifies ' +
        'as update jobs (one line per user, mapped as identify maps traits), orders as purchase_import jobs ' +
        '(one line per order, mapped as Order Completed is), instead of one API call each, and follow the jobs to the end.',
    )
    .argument('<file>', 'identify and Order Completed events: NDJSON, a JSON array or {"batch": [...]}; - for standard input')
    .addOption(new Option('--api-key <key>', 'Sailthru API key').env('SAILTHRU_API_KEY'))
    .addOption(new Option('--secret <secret>', 'Sailthru API secret').env('SAILTHRU_SECRET'))
    .addOption(new Option('--api-url <url>', 'Sailthru API base (the emulator\'s URL to try it out)').env('SAILTHRU_API_URL').argParser(httpUrl))
    .addOption(new Option('--list <name>', 'list every user joins, as the defaultListName setting').env('SAILTHRU_DEFAULT_LIST'))
    .addOption(new Option('--optout <value>', 'optout_email for every user: none, all, basic, blast (as the optoutValue setting)').env('SAILTHRU_OPTOUT'))
    .addOption(
      new Option('--product-base-url <url>', 'last fallback for an item url, as the productBaseUrl setting').env('SAILTHRU_PRODUCT_BASE_URL').argParser(httpUrl),
    )
    .addOption(new Option('--lines-per-job <n>', 'users or orders per job').default(50_000).argParser(integerOption(1, 1_000_000)))
    .addOption(new Option('--poll <seconds>', 'pause between job status checks').default(5).argParser(positiveNumberOption))
    .addOption(new Option('--serve-host <host>', 'address the job files are served on').default('127.0.0.1'))
    .addOption(new Option('--serve-port <port>', 'port the job files are served on (0: a free one)').default(0).argParser(integerOption(0, 65535)))
    .addOption(
      new Option('--file-url-base <url>', 'the URL Sailthru reaches the file server by (a tunnel or proxy to --serve-host:--serve-port)').argParser(httpUrl),
    )
    .addOption(new Option('--dry-run', 'print the update lines (NDJSON) instead of creating jobs'))
    .addOption(new Option('-q, --quiet', 'no progress line'))
    .addHelpText(
      'after',
      `
How the lines reach Sailthru: an update job names a file by URL and Sailthru downloads it. This
command serves the job files itself on a short-lived HTTP server (--serve-host, --serve-port) under
an unguessable path, and stops it when every job is finished. The emulator fetches them over
loopback; real Sailthru must reach that server from the internet: run it behind a tunnel or proxy
and give its public address as --file-url-base (e.g. https://files.example.com), or use --dry-run
to write the lines and host them yourself.

Each identify becomes {"extid": userId, "email", "vars", "lists", "optout_email"} exactly as the
live identify maps it; the anonymousId merge of a live identify does not happen in bulk.

Each Order Completed becomes one purchase_import line: the POST /purchase the live mapping sends
(items in cents, adjustments, date, purchase_keys, message_id, vars) without send_template (no
receipts for old orders). It needs its own timestamp (it keeps its date) and an email: its own
(context.traits.email…) or the one an identify in the same file gave that user. Purchase jobs
start once the update jobs have finished. Other events, or events switched off for Sailthru, are
skipped and listed.

Exit status: 0 when every line was applied; 1 when lines were invalid, Sailthru failed lines or a
job, or it stopped early; 2 for a usage error. --dry-run prints the update lines, then the
purchase lines (the ones with "items").

Examples:
  $ sailthru-destination backfill users.ndjson --list "Newsletter"
  $ sailthru-destination backfill users-and-orders.ndjson --product-base-url https://shop.example.com/p
  $ sailthru-destination backfill users.ndjson --api-url http://127.0.0.1:4010 --api-key demo-api-key --secret demo-secret`,
    )
    .action((file: string, flags: BackfillFlags) => runAction(() => backfill(file, flags)));
}

async function settingsOf(flags: BackfillFlags): Promise<DestinationSettings> {
  // The settings' schema (TypeBox) loads when a backfill runs, not with the CLI.
  const { validateSettings } = await import('../destination/settings.ts');
  const raw: Record<string, unknown> = { apiKey: flags.apiKey, sharedSecret: flags.secret };
  if (flags.apiUrl) raw.apiUrl = flags.apiUrl;
  if (flags.list) raw.defaultListName = flags.list;
  if (flags.optout) raw.optoutValue = flags.optout;
  if (flags.productBaseUrl) raw.productBaseUrl = flags.productBaseUrl;
  const checked = validateSettings(raw);
  if (!checked.ok) {
    const problems = checked.errors.map((e) => {
      const field = e.split(' ')[0] as string;
      return FLAG_OF[field] ? `${e} (${FLAG_OF[field]})` : e;
    });
    throw new CliError(problems.join('; '));
  }
  return checked.settings;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

async function backfill(path: string, flags: BackfillFlags): Promise<number> {
  const settings = await (flags.dryRun ? dryRunSettings(flags) : settingsOf(flags));
  if (!flags.dryRun && !flags.fileUrlBase && !isLoopback(settings.apiUrl)) {
    throw new CliError(
      `Sailthru at ${new URL(settings.apiUrl).host} cannot download job files from ${flags.serveHost}: expose the file server ` +
        '(--serve-host, --serve-port) and give its public URL as --file-url-base, or use --dry-run and host the lines yourself',
    );
  }
  let file: EventFile;
  try {
    file = eventFileOf(await readEventText(path));
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const name = path === '-' ? 'standard input' : path;
  if (flags.dryRun) return dryRun(name, file, settings);

  const live = new LiveLine(process.stderr);
  const show = !flags.quiet;
  // The Sailthru client (undici) loads only when jobs are really sent.
  const { runBulkUpdate } = await import('./bulk-update.ts');
  const report = await runBulkUpdate(file, {
    settings,
    linesPerJob: flags.linesPerJob,
    pollMs: flags.poll * 1000,
    fileServer: { host: flags.serveHost, port: flags.servePort, ...(flags.fileUrlBase ? { publicBase: flags.fileUrlBase } : {}) },
    onServing: (url) => show && live.print(`Serving the job files on ${url}${flags.fileUrlBase ? ` (Sailthru fetches them through ${flags.fileUrlBase})` : ''}`),
    onProgress: (p) =>
      show && live.update(`jobs ${count(p.finished)}/${count(p.jobs)} finished  lines processed ${count(p.processed)}/${count(p.lines)}`),
  });
  if (show) live.finish();
  process.stdout.write(reportText(name, report));
  const failedLines = report.jobs.reduce((sum, j) => sum + (j.failed ?? 0), 0);
  const bad = report.invalid.length > 0 || failedLines > 0 || report.stopped !== undefined || report.jobs.some((j) => j.status !== 'completed');
  return bad ? 1 : 0;
}

/** Without credentials: the mapping needs only the list and optout settings. */
function dryRunSettings(flags: BackfillFlags): Promise<DestinationSettings> {
  return settingsOf({ ...flags, apiKey: flags.apiKey || 'dry-run', secret: flags.secret || 'dry-run' });
}

async function dryRun(name: string, file: EventFile, settings: DestinationSettings): Promise<number> {
  // The mapping (and the settings' schema under it) loads when a backfill runs, not with the CLI.
  const { updateLineOf } = await import('./backfill-lines.ts');
  const { isOrderCompleted, purchaseLineOf } = await import('./backfill-purchases.ts');
  const receivedAt = new Date();
  const skipped: EntryProblem[] = [];
  const invalid: EntryProblem[] = [];
  const emails = new Map<string, string>();
  const orders: Array<{ where: string; value: unknown }> = [];
  let lines = 0;
  for (const entry of file.entries) {
    if (!entry.ok) {
      invalid.push({ where: entry.where, reason: entry.error });
      continue;
    }
    if (isOrderCompleted(entry.value)) {
      orders.push(entry);
      continue;
    }
    const mapped = updateLineOf(entry.value, settings, receivedAt);
    if (mapped.kind === 'line') {
      process.stdout.write(`${JSON.stringify(mapped.line)}\n`);
      if (mapped.line.email !== undefined) emails.set(mapped.line.extid, mapped.line.email);
      lines++;
    } else {
      (mapped.kind === 'skipped' ? skipped : invalid).push({ where: entry.where, reason: mapped.reason });
    }
  }
  let purchases = 0;
  for (const entry of orders) {
    const mapped = purchaseLineOf(entry.value, settings, receivedAt, (extid) => emails.get(extid));
    if (mapped.kind === 'line') {
      process.stdout.write(`${JSON.stringify(mapped.line)}\n`);
      purchases++;
    } else {
      (mapped.kind === 'skipped' ? skipped : invalid).push({ where: entry.where, reason: mapped.reason });
    }
  }
  const purchasePart = purchases > 0 ? `, ${plural(purchases, 'purchase line')}` : '';
  const out = [`${name}: ${plural(file.total, 'entry', 'entries')} → ${plural(lines, 'update line')}${purchasePart} (dry run, nothing sent).`];
  listProblems(out, 'Skipped:', skipped);
  listProblems(out, 'Invalid:', invalid);
  process.stderr.write(`${out.join('\n')}\n`);
  return invalid.length > 0 ? 1 : 0;
}

export function reportText(name: string, r: BulkUpdateReport): string {
  const out: string[] = [];
  const jobsOf = (kind: JobReport['kind']) => r.jobs.filter((j) => j.kind === kind).length;
  const purchases = r.purchaseLines > 0 ? `, ${plural(r.purchaseLines, 'purchase line')} in ${plural(jobsOf('purchase_import'), 'job')}` : '';
  out.push(
    `${name}: ${plural(r.total, 'entry', 'entries')} → ${plural(r.lines, 'update line')} in ${plural(jobsOf('update'), 'job')}${purchases}` +
      `; ${count(r.skipped.length)} skipped, ${count(r.invalid.length)} invalid.`,
  );
  for (const job of r.jobs) out.push(jobLine(job));
  listProblems(out, 'Skipped (not sent):', r.skipped);
  listProblems(out, 'Invalid (not sent):', r.invalid);
  listProblems(out, 'Warnings:', r.warnings);
  if (r.stopped) out.push(`Stopped early: ${r.stopped}.`);
  return `${out.join('\n')}\n`;
}

function jobLine(job: JobReport): string {
  const id = job.jobId === null ? '' : ` ${job.jobId}`;
  const counts = job.processed !== null || job.failed !== null ? `, ${count(job.processed ?? 0)} processed, ${count(job.failed ?? 0)} failed` : '';
  const what = job.kind === 'update' ? plural(job.lines, 'user') : `${plural(job.lines, 'purchase')}, purchase_import`;
  const lines = [`job ${job.number}${id} (${job.from} to ${job.to}, ${what}): ${job.status}${counts}`];
  if (job.errormsg) lines.push(`  ${job.errormsg}`);
  if (job.status === 'error' && job.fetches === 0) lines.push('  Sailthru never downloaded the job file: is --file-url-base reachable from the internet?');
  for (const e of job.errors) lines.push(`  ${e}`);
  if (job.failed !== null && job.failed > job.errors.length) lines.push(`  … Sailthru reported the first ${job.errors.length} of ${count(job.failed)} failed lines`);
  return lines.join('\n');
}

function listProblems(out: string[], title: string, problems: EntryProblem[]): void {
  if (problems.length === 0) return;
  out.push(title);
  for (const p of problems.slice(0, MAX_LISTED)) out.push(`  ${problemText(p.where, p.reason)}`);
  if (problems.length > MAX_LISTED) out.push(`  … and ${count(problems.length - MAX_LISTED)} more`);
}
