import type { IncomingMessage } from 'node:http';
import { isPlainObject, type Payload } from './payload.ts';
import { signatureMatches } from './signature.ts';
import { authenticationFailed, invalidApiKey, missingParameter, otherError, SailthruApiError } from './sailthru-error.ts';

export class BodyTooLarge extends Error {}

/** Reads the whole request body as UTF-8 text (empty for a request without one). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    return Promise.resolve('');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLarge(`request body over ${maxBytes} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A signed Sailthru call as it arrived: GET and DELETE carry api_key, format, json and sig in
 * the query string, POST in a form-urlencoded body. The other place is not read, so a client
 * that sends POST parameters in the query string gets "Missing required parameter: api_key".
 */
export interface SignedCall {
  params: URLSearchParams;
  /** the parsed `json` parameter; undefined when absent or not valid JSON */
  payload: unknown;
  jsonInvalid: boolean;
}

export function decodeSignedCall(method: string, query: string, body: string): SignedCall {
  const params = new URLSearchParams(method === 'POST' ? body : query);
  const json = params.get('json');
  let payload: unknown;
  let jsonInvalid = false;
  if (json !== null) {
    try {
      payload = JSON.parse(json) as unknown;
    } catch {
      jsonInvalid = true;
    }
  }
  return { params, payload, jsonInvalid };
}

/**
 * Checks the call the way Sailthru reports problems: a missing api_key, sig or json (error 2, HTTP 400),
 * an unknown api_key (error 3, HTTP 401), a wrong sig (error 5, HTTP 401). `onSignature` hears
 * whether the signature matched once it could be checked. Returns the payload.
 */
export function authenticateSignedCall(
  call: SignedCall,
  account: { apiKey: string; secret: string },
  onSignature: (valid: boolean) => void,
): Payload {
  const apiKey = call.params.get('api_key');
  const sig = call.params.get('sig');
  if (apiKey === null || apiKey === '') throw missingParameter('api_key');
  if (sig === null || sig === '') throw missingParameter('sig');
  if (!call.params.has('json')) throw missingParameter('json');
  if (apiKey !== account.apiKey) throw invalidApiKey();
  const values: string[] = [];
  for (const [name, value] of call.params) if (name !== 'sig') values.push(value);
  const valid = signatureMatches(values, account.secret, sig);
  onSignature(valid);
  if (!valid) throw authenticationFailed();
  const format = call.params.get('format');
  if (format !== null && format !== 'json') throw otherError(`Unsupported format: ${format} (the emulator answers json only)`);
  if (call.jsonInvalid) throw otherError('Invalid JSON in parameter json');
  if (!isPlainObject(call.payload)) throw otherError('Parameter json must be a JSON object');
  return call.payload;
}

export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** Page views carry the customer id as a bearer token instead of api_key and sig. */
export function authenticatePageview(req: IncomingMessage, customerId: string, body: unknown): Payload {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match || match[1]!.trim() !== customerId) {
    throw authenticationFailed('Authorization must be "Bearer <customer id>"');
  }
  if (!isPlainObject(body)) throw new SailthruApiError(400, 99, 'Invalid JSON body: expected an object');
  return body;
}
