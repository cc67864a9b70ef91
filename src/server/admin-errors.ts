/**
 * A refusal of an admin action, with the HTTP status the API answers and a message a person can
 * act on. `problems` lists each invalid field (settings validation) so forms can show them.
 */
export class AdminError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 503,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

export const notFound = (what: string): AdminError => new AdminError(404, `${what} not found`);
export const badRequest = (message: string, problems: string[] = []): AdminError => new AdminError(400, message, problems);

/** Invalid input: one problem is the message; several are counted and listed. */
export function invalid(problems: string[]): AdminError {
  return badRequest(problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems.join('; ')}`, problems);
}
