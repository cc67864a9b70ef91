import { Command, Option } from 'commander';
import { AdminClient } from './admin-client.ts';
import { adminTokenOption, CliError, runAction, serverUrlOption } from './options.ts';

interface DeleteUserFlags {
  url: string;
  adminToken?: string;
  destination?: string;
}

/**
 * `delete-user ID`: queues a deletion of the user's Sailthru profile (SPEC.md §7) through the
 * admin API. It travels in the user's lane, so events of that user already queued go first.
 */
export function deleteUserCommand(): Command {
  return new Command('delete-user')
    .description("Delete a user's Sailthru profile (DELETE /user by extid), after the events of that user already queued.")
    .argument('<userId>', 'the Segment userId (the profile\'s extid in Sailthru)')
    .addOption(serverUrlOption())
    .addOption(adminTokenOption())
    .addOption(new Option('--destination <id>', 'the destination (Sailthru account); default: the server\'s only one'))
    .addHelpText(
      'after',
      `
The deletion is queued like an event and shows in the delivery log; when it fails for good it
becomes a dead letter (see \`deadletters list --user ID\`).

Example:
  $ sailthru-destination delete-user user-17 --admin-token "$ADMIN_TOKEN"`,
    )
    .action((userId: string, flags: DeleteUserFlags) =>
      runAction(async () => {
        if (userId.trim() === '') throw new CliError('the userId is empty');
        if (!flags.adminToken) throw new CliError("the admin API needs the server's token: --admin-token TOKEN or the ADMIN_TOKEN environment variable");
        const answer = await new AdminClient(flags.url, flags.adminToken).deleteUser(userId, flags.destination);
        const destination = answer.destinationId ?? flags.destination;
        const where = destination ? ` (destination ${destination})` : '';
        const ids = [answer.eventId !== undefined ? `event ${answer.eventId}` : '', answer.messageId ? `messageId ${answer.messageId}` : '']
          .filter(Boolean)
          .join(', ');
        process.stdout.write(
          `Deletion of ${userId}${where} queued${ids ? ` (${ids})` : ''}: it is sent to Sailthru after the events of that user already queued.\n`,
        );
        return 0;
      }),
    );
}
