import { Command, InvalidArgumentError, Option } from 'commander';
import { AdminClient, type DeadLetterFilter, type DeadLetterSelection, type ListedEvent } from './admin-client.ts';
import { count } from './live-line.ts';
import { adminTokenOption, CliError, integerOption, parseSince, runAction, serverUrlOption } from './options.ts';
import { table } from './table.ts';

/**
 * `deadletters list|retry|drop`: the events delivery gave up on (permanent errors, or retries
 * used up), through the server's admin API.
 */

interface ClientFlags {
  url: string;
  adminToken?: string;
}

interface FilterFlags extends ClientFlags {
  user?: string;
  event?: string;
  destination?: string;
  since?: Date;
  until?: Date;
}

interface ListFlags extends FilterFlags {
  limit: number;
  before?: number;
  json?: boolean;
}

interface ActFlags extends FilterFlags {
  all?: boolean;
}

function withFilters(cmd: Command): Command {
  return cmd
    .addOption(serverUrlOption())
    .addOption(adminTokenOption())
    .addOption(new Option('--user <userId>', 'only this user (userId or anonymousId)'))
    .addOption(new Option('--event <name>', 'only events of this name (track event or page name)'))
    .addOption(new Option('--destination <id>', 'only this destination'))
    .addOption(new Option('--since <when>', 'received at or after: 30m, 2h, 7d ago, or an ISO-8601 time').argParser((v) => parseSince(v)))
    .addOption(new Option('--until <when>', 'received before: 30m, 2h, 7d ago, or an ISO-8601 time').argParser((v) => parseSince(v)));
}

export function filterOf(flags: FilterFlags): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (flags.destination !== undefined) filter.destination = flags.destination;
  if (flags.user !== undefined) filter.userId = flags.user;
  if (flags.event !== undefined) filter.event = flags.event;
  if (flags.since !== undefined) filter.from = flags.since.toISOString();
  if (flags.until !== undefined) filter.to = flags.until.toISOString();
  return filter;
}

function clientOf(flags: ClientFlags): AdminClient {
  if (!flags.adminToken) throw new CliError('the admin API needs the server\'s token: --admin-token TOKEN or the ADMIN_TOKEN environment variable');
  return new AdminClient(flags.url, flags.adminToken);
}

function eventId(value: string, previous: number[] = []): number[] {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not an event id (a whole number, as \`deadletters list\` shows)`);
  return [...previous, n];
}

/** ids, or a filter, or --all: never everything by accident. */
function selectionOf(ids: string[], flags: ActFlags, verb: string): DeadLetterSelection {
  const filter = filterOf(flags);
  const filtered = Object.keys(filter).length > 0;
  if (ids.length > 0) {
    if (filtered || flags.all) throw new CliError(`give event ids or filters (--user, --event, …), not both`);
    return { ids: ids.reduce<number[]>((acc, id) => eventId(id, acc), []) };
  }
  if (!filtered && !flags.all) {
    throw new CliError(`say which dead letters to ${verb}: event ids, filters (--user, --event, --destination, --since, --until), or --all`);
  }
  return { filter };
}

export function deadlettersCommand(): Command {
  const cmd = new Command('deadletters').description(
    'List, retry or drop dead letters: events delivery gave up on (a permanent Sailthru error, or retries used up).',
  );

  cmd.addCommand(
    withFilters(new Command('list'))
      .description('List dead letters, newest first.')
      .addOption(new Option('-n, --limit <n>', 'how many').default(50).argParser(integerOption(1, 500)))
      .addOption(new Option('--before <id>', 'the page after this event id (as the last list said)').argParser(integerOption(1)))
      .addOption(new Option('--json', 'print the events as JSON'))
      .action((flags: ListFlags) => runAction(() => list(flags))),
  );

  cmd.addCommand(
    withFilters(new Command('retry'))
      .description('Put dead letters back at the head of their lanes, with a fresh retry window.')
      .argument('[ids...]', 'event ids (from `deadletters list`)')
      .addOption(new Option('--all', 'every dead letter (of --destination, when given)'))
      .action((ids: string[], flags: ActFlags) =>
        runAction(async () => {
          const selection = selectionOf(ids, flags, 'retry');
          const { n, refused } = await act(clientOf(flags), 'retry', selection);
          process.stdout.write(`${count(n)} dead letter${n === 1 ? '' : 's'} queued for delivery again.\n`);
          return refused;
        }),
      ),
  );

  cmd.addCommand(
    withFilters(new Command('drop'))
      .description('Drop dead letters: they are not delivered, and stay in the delivery log as dropped (with who and when) until retention.')
      .argument('[ids...]', 'event ids (from `deadletters list`)')
      .addOption(new Option('--all', 'every dead letter (of --destination, when given)'))
      .action((ids: string[], flags: ActFlags) =>
        runAction(async () => {
          const { n, refused } = await act(clientOf(flags), 'drop', selectionOf(ids, flags, 'drop'));
          process.stdout.write(`${count(n)} dead letter${n === 1 ? '' : 's'} dropped.\n`);
          return refused;
        }),
      ),
  );

  return cmd.addHelpText(
    'after',
    `
Examples:
  $ export ADMIN_TOKEN=…
  $ sailthru-destination deadletters list --since 2h
  $ sailthru-destination deadletters retry 1042 1043
  $ sailthru-destination deadletters retry --event "Order Completed" --since 1d
  $ sailthru-destination deadletters drop --user user-17`,
  );
}

/**
 * By filter: one request. By ids: one request per id, so that each id the server cannot act on
 * is named with its reason (not found, not a dead letter) on stderr, and the exit status is 1.
 */
async function act(client: AdminClient, action: 'retry' | 'drop', selection: DeadLetterSelection): Promise<{ n: number; refused: number }> {
  if (!('ids' in selection)) {
    return { n: action === 'retry' ? await client.retryDeadLetters(selection) : await client.dropDeadLetters(selection), refused: 0 };
  }
  let n = 0;
  let refused = 0;
  for (const id of selection.ids) {
    const result = await client.actOnEvent(action, id);
    if (result.ok) n++;
    else {
      refused = 1;
      process.stderr.write(`sailthru-destination: ${action === 'retry' ? 'not retried' : 'not dropped'}: ${result.reason}\n`);
    }
  }
  return { n, refused };
}

async function list(flags: ListFlags): Promise<number> {
  const page = await clientOf(flags).deadLetters(filterOf(flags), flags.limit, flags.before);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    return 0;
  }
  if (page.events.length === 0) {
    process.stdout.write('No dead letters.\n');
    return 0;
  }
  process.stdout.write(
    table(
      [
        { title: 'ID', align: 'right' },
        { title: 'RECEIVED' },
        { title: 'DESTINATION', max: 20 },
        { title: 'USER', max: 32 },
        { title: 'EVENT', max: 28 },
        { title: 'ATTEMPTS', align: 'right' },
        { title: 'ERROR', max: 80 },
      ],
      page.events.map(rowOf),
    ),
  );
  const more = page.nextBefore !== null ? ` Older ones: --before ${page.nextBefore}` : '';
  process.stdout.write(`${count(page.events.length)} dead letter${page.events.length === 1 ? '' : 's'} shown.${more}\n`);
  return 0;
}

function rowOf(e: ListedEvent): string[] {
  const name = e.event ? (e.type === 'track' ? e.event : `${e.type ?? ''} ${e.event}`.trim()) : (e.type ?? '');
  return [
    String(e.id),
    typeof e.receivedAt === 'string' ? e.receivedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '',
    e.destinationId ?? '',
    e.userId ?? '',
    name,
    e.attempts === undefined ? '' : String(e.attempts),
    e.reason ?? e.lastError ?? '',
  ];
}
