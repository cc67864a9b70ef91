import { Command } from 'commander';
import { backfillCommand } from './cli/backfill.ts';
import { deadlettersCommand } from './cli/deadletters.ts';
import { deleteUserCommand } from './cli/delete-user.ts';
import { demoCommand } from './cli/demo.ts';
import { mapCommand } from './cli/map.ts';
import { sendCommand } from './cli/send.ts';
import { emulatorCommand } from './emulator/command.ts';
import { migrateCommand, rotateSecretsKeyCommand, serveCommand, workerCommand } from './server/command.ts';

const program = new Command('sailthru-destination')
  .description('A self-hosted, Segment-compatible destination that delivers analytics events to Sailthru.')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(workerCommand());
program.addCommand(migrateCommand());
program.addCommand(rotateSecretsKeyCommand());
program.addCommand(emulatorCommand());
program.addCommand(demoCommand());
program.addCommand(sendCommand());
program.addCommand(deadlettersCommand());
program.addCommand(deleteUserCommand());
program.addCommand(backfillCommand());
program.addCommand(mapCommand());

/**
 * Commander's own usage errors (a missing argument, an unknown option, a value a flag refuses)
 * exit 2 like the commands' own: the status `--help` gives for a usage error, and the one the
 * systemd unit does not restart on (docs/operating.md). Settings are not inherited by added
 * commands, hence every level.
 */
function exitTwoOnUsageErrors(command: Command): void {
  command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  for (const sub of command.commands) exitTwoOnUsageErrors(sub);
}
exitTwoOnUsageErrors(program);

await program.parseAsync(process.argv);
