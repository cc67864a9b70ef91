import { Command } from 'commander';
import { emulatorCommand } from './emulator/command.ts';
import { serveCommand, workerCommand } from './server/command.ts';

const program = new Command('sailthru-destination')
  .description('A self-hosted, Segment-compatible destination that delivers analytics events to Sailthru.')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(workerCommand());
program.addCommand(emulatorCommand());

await program.parseAsync(process.argv);
