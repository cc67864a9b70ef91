import { Command, Option } from 'commander';
import { eventFileOf, problemText, readEventText } from './event-file.ts';
import { sendEventFile, type EntryProblem, type SendSummary } from './event-sender.ts';
import { bar, count, LiveLine, plural } from './live-line.ts';
import { CliError, integerOption, runAction, serverUrlOption } from './options.ts';

interface SendFlags {
  url: string;
  writeKey?: string;
  batchSize: number;
  quiet?: boolean;
}

/** Problems listed one per line; a file with thousands of bad lines still ends in a readable summary. */
const MAX_LISTED = 50;

export function sendCommand(): Command {
  return new Command('send')
    .description(
      'Post Segment events from a file to a server in batches: NDJSON (one event a line), a JSON array, ' +
        'or a batch body {"batch": [...]}. Bad lines are reported by line number and the rest is still sent.',
    )
    .argument('<file>', 'the events file, or - for standard input')
    .addOption(serverUrlOption())
    .addOption(new Option('-k, --write-key <key>', 'a write key of the destination').env('WRITE_KEY'))
    .addOption(new Option('-b, --batch-size <n>', 'events per request (each request stays under 500 KB)').default(100).argParser(integerOption(1, 2500)))
    .addOption(new Option('-q, --quiet', 'no progress bar'))
    .addHelpText(
      'after',
      `
Exit status: 0 when every event was accepted; 1 when any was rejected by the server, any line was
not valid JSON, or sending stopped early (the summary says which); 2 for a usage error.

Examples:
  $ sailthru-destination send events.ndjson --write-key "$WRITE_KEY"
  $ cat export.json | sailthru-destination send - --url http://segment-in.internal:8080`,
    )
    .action((file: string, flags: SendFlags) => runAction(() => send(file, flags)));
}

async function send(path: string, flags: SendFlags): Promise<number> {
  if (!flags.writeKey) throw new CliError('a write key is needed: --write-key KEY or the WRITE_KEY environment variable');
  let text: string;
  try {
    text = await readEventText(path);
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const file = eventFileOf(text);
  const name = path === '-' ? 'standard input' : path;
  if (file.total === 0) {
    process.stdout.write(`${name} holds no events; nothing sent.\n`);
    return 0;
  }

  const live = new LiveLine(process.stderr);
  const show = !flags.quiet && live.tty;
  const summary = await sendEventFile(file, {
    url: flags.url,
    writeKey: flags.writeKey,
    batchSize: flags.batchSize,
    retry: { onWait: (reason, ms) => show && live.update(`waiting ${Math.ceil(ms / 1000)} s: ${reason}`, true) },
    onProgress: (p) => {
      if (!show) return;
      const issues = p.rejected + p.invalid > 0 ? `  rejected ${count(p.rejected)}  invalid ${count(p.invalid)}` : '';
      live.update(`${bar(p.done, p.total)} ${count(p.done)}/${count(p.total)}  accepted ${count(p.accepted)}${issues}`, p.done === p.total);
    },
  });
  if (show) live.finish();
  process.stdout.write(report(name, flags.url, summary));
  return summary.rejected.length + summary.invalid.length + summary.notSent > 0 || summary.stopped ? 1 : 0;
}

export function report(name: string, url: string, s: SendSummary): string {
  const out: string[] = [];
  const parts = [`${count(s.accepted)} accepted`, `${count(s.rejected.length)} rejected`, `${count(s.invalid.length)} invalid`];
  if (s.notSent > 0) parts.push(`${count(s.notSent)} not sent`);
  out.push(`${name}: ${plural(s.total, 'event')} to ${url} in ${plural(s.requests, 'request')}: ${parts.join(', ')}.`);
  list(out, 'Rejected by the server:', s.rejected);
  list(out, 'Invalid (not sent):', s.invalid);
  if (s.stopped) {
    out.push(`Stopped early: ${s.stopped}. ${plural(s.notSent, 'event was', 'events were')} not sent.`);
    out.push('Sending the file again is safe for events with a messageId: the server stores each messageId once.');
  }
  if (s.rejected.length + s.invalid.length + s.notSent > 0) {
    out.push('Not everything was accepted (exit status 1).');
  }
  return `${out.join('\n')}\n`;
}

function list(out: string[], title: string, problems: EntryProblem[]): void {
  if (problems.length === 0) return;
  out.push(title);
  for (const p of problems.slice(0, MAX_LISTED)) out.push(`  ${problemText(p.where, p.reason)}`);
  if (problems.length > MAX_LISTED) out.push(`  … and ${count(problems.length - MAX_LISTED)} more`);
}
