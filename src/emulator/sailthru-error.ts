/**
 * An answer in Sailthru's error envelope `{"error": <code>, "errormsg": "<text>"}`. Handlers throw
 * it; the server turns it into the response. `status` may be 200: Sailthru answers some errors
 * (an invalid email) with HTTP 200, and clients must still treat them as errors.
 */
export class SailthruApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'SailthruApiError';
  }

  envelope(): { error: number; errormsg: string } {
    return { error: this.code, errormsg: this.message };
  }
}

export function missingParameter(name: string): SailthruApiError {
  return new SailthruApiError(400, 2, `Missing required parameter: ${name}`);
}

export function invalidApiKey(): SailthruApiError {
  return new SailthruApiError(401, 3, 'Invalid API key');
}

export function authenticationFailed(detail = ''): SailthruApiError {
  return new SailthruApiError(401, 5, detail ? `Authentication failed: ${detail}` : 'Authentication failed');
}

/** Observed as HTTP 200 with error 11 ("Invalid email: prajsailthru.com"). */
export function invalidEmail(value: string): SailthruApiError {
  return new SailthruApiError(200, 11, `Invalid email: ${value}`);
}

export function userNotFound(key: string, id: string): SailthruApiError {
  return new SailthruApiError(400, 99, `User not found with ${key} '${id}'`);
}

/** Only when the emulator was given its templates (`--templates`): otherwise every name is accepted. */
export function unknownTemplate(name: string): SailthruApiError {
  return new SailthruApiError(400, 14, `Unknown template: ${name}`);
}

export function invalidTime(value: string): SailthruApiError {
  return new SailthruApiError(400, 18, `Invalid time: ${value}`);
}

/** Error 99 is Sailthru's catch-all ("Other error"). */
export function otherError(message: string, status = 400): SailthruApiError {
  return new SailthruApiError(status, 99, message);
}
