import { SecretsKeyError } from '../delivery/settings-seal.ts';
import { statusOf, type AdminErrorCode } from './error-codes.ts';

/**
 * A refusal of an admin action: a stable `code` (src/server/error-codes.ts, which also gives the
 * HTTP status) and a message a person can act on. `problems` lists each invalid field (settings
 * validation) so forms can show them.
 */
export class AdminError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export const notFound = (what: string): AdminError => new AdminError('ADMIN_NOT_FOUND', `${what} not found`);
export const badRequest = (message: string, problems: string[] = []): AdminError => new AdminError('ADMIN_INVALID_INPUT', message, problems);

/** Invalid input: one problem is the message; several are counted and listed. */
export function invalid(problems: string[]): AdminError {
  return badRequest(problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems.join('; ')}`, problems);
}

/** The JSON body of an admin API error answer. */
export function adminErrorBody(code: AdminErrorCode, message: string, problems: string[] = []): { error: string; code: AdminErrorCode; problems?: string[] } {
  return { error: message, code, ...(problems.length ? { problems } : {}) };
}

/** A secret the server cannot seal (no SECRETS_KEY) is the operator's to fix: say so, as a 400. */
export async function keepingSecrets<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof SecretsKeyError) throw new AdminError('ADMIN_SECRETS_KEY_REQUIRED', error.message);
    throw error;
  }
}
