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

await program.parseAsync(process.argv);
