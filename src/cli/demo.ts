import { Command, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS } from '../log-levels.ts';
import type { DemoFlags } from './demo-run.ts';
import { integerOption, positiveNumberOption, runAction } from './options.ts';

/**
 * `demo`: the product doing its real job on one machine, in one command. The Sailthru emulator,
 * the server on a fresh SQLite database in a temporary folder, and a generator posting a
 * realistic mix of Segment traffic (with a few mistakes in it, so the console has dead letters to
 * show). Ctrl-C stops everything and removes the temporary folder.
 */

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'Try it on one machine: starts a Sailthru emulator, the server (console included) on a fresh SQLite ' +
        'database, and realistic Segment traffic; prints the console URL and admin token. Ctrl-C stops it.',
    )
    .addOption(new Option('-p, --port <port>', 'server port (0: a free one)').default(8080).argParser(integerOption(0, 65535)))
    .addOption(new Option('--host <host>', 'address the server listens on').default('127.0.0.1'))
    .addOption(new Option('--emulator-port <port>', 'Sailthru emulator port (0: a free one)').default(0).argParser(integerOption(0, 65535)))
    .addOption(new Option('-r, --rate <events/s>', 'traffic: events per second').default(20).argParser(positiveNumberOption))
    .addOption(new Option('-d, --duration <seconds>', 'traffic: stop sending after this long (the demo keeps running)').argParser(positiveNumberOption))
    .addOption(new Option('--users <n>', 'traffic: people in the simulated shop').default(200).argParser(integerOption(1, 1_000_000)))
    .addOption(new Option('--seed <n>', 'traffic: seed (the same seed sends the same events)').default(1).argParser(integerOption(0)))
    .addOption(new Option('--no-traffic', 'start the emulator and server only; send your own events'))
    .addOption(new Option('--fail-rate <share>', 'share of Sailthru calls the emulator fails with HTTP 500, to show retries').default(0.02).argParser(share))
    .addOption(new Option('--database <url>', 'keep the data: sqlite:PATH or postgres://… (default: a temporary SQLite file, removed on exit)'))
    .addOption(new Option('--log-level <level>', 'server log level (logs go to stderr)').choices([...LOG_LEVELS]).default('warn'))
    .addHelpText(
      'after',
      `
Nothing leaves the machine: Sailthru is the emulator, and the demo ignores SAILTHRU_* variables.

Examples:
  $ sailthru-destination demo
  $ sailthru-destination demo --port 0 --rate 100 --users 2000 --seed 7
  $ sailthru-destination demo --no-traffic      # then point analytics-node or \`send\` at it`,
    )
    // The server and emulator load only when a demo runs, so `--help` stays quick.
    .action((flags: DemoFlags) => runAction(async () => (await import('./demo-run.ts')).runDemo(flags)));
}

function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a share from 0 to 1, e.g. 0.02');
  return n;
}

