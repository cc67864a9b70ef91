import { randomUUID } from 'node:crypto';
import { SailthruClient } from '../sailthru/client.ts';
import type { RateLimitInfo, RequestGate } from '../sailthru/types.ts';
import type { DestinationSettings } from '../destination/settings.ts';

/**
 * "Test connection": one cheap signed call with a destination's settings, read back as what a
 * person should fix. `GET /user` for a random extid costs one GET (300/s budget) and changes
 * nothing; "User not found" proves the key and the signature were accepted.
 */

export type ConnectionVerdict =
  | 'ok'
  | 'bad-key'
  | 'bad-secret'
  | 'ip-not-allowed'
  | 'account-not-allowed'
  | 'unreachable'
  | 'rate-limited'
  | 'unexpected';

export interface ConnectionTestResult {
  ok: boolean;
  verdict: ConnectionVerdict;
  /** Plain words: what is wrong and what to do. */
  message: string;
  /** The API host that was called. */
  host: string;
  durationMs: number;
  /** The call as the delivery log would show it (no secret, no sig). */
  call: { method: string; endpoint: string; status: number; errorCode: number | null; errorMessage: string | null };
  rateLimit?: RateLimitInfo;
}

export interface ConnectionTestOptions {
  /** The destination's rate gate, so the test spends from the same budget as deliveries. */
  gate?: RequestGate;
  /** default 5 s: an operator is waiting */
  timeoutMs?: number;
}

export async function testConnection(settings: DestinationSettings, options: ConnectionTestOptions = {}): Promise<ConnectionTestResult> {
  const client = new SailthruClient(
    { apiKey: settings.apiKey, sharedSecret: settings.sharedSecret, apiUrl: settings.apiUrl, trackUrl: settings.trackUrl },
    { timeoutMs: options.timeoutMs ?? 5000, connections: 1, ...(options.gate ? { gate: options.gate } : {}) },
  );
  const host = hostOf(settings.apiUrl);
  const started = performance.now();
  try {
    const result = await client.getUser({ id: `connection-test-${randomUUID()}`, key: 'extid', fields: { keys: 1 } });
    const durationMs = Math.round(performance.now() - started);
    const call = {
      method: result.call.method,
      endpoint: result.call.endpoint,
      status: result.call.status,
      errorCode: result.call.errorCode ?? null,
      errorMessage: result.call.errorMessage ?? null,
    };
    const base = { host, durationMs, call, ...(result.rateLimit ? { rateLimit: result.rateLimit } : {}) };
    if (result.ok) {
      return { ok: true, verdict: 'ok', message: `Connected to ${host}: the API key and shared secret were accepted.`, ...base };
    }
    const { verdict, message } = explain(result.status, result.code, result.message, host);
    return { ok: verdict === 'ok', verdict, message, ...base };
  } finally {
    await client.close();
  }
}

function explain(status: number, code: number | null, message: string, host: string): { verdict: ConnectionVerdict; message: string } {
  if (status === 0) {
    return {
      verdict: 'unreachable',
      message: `Could not reach ${host}: ${message}. Check the API URL, DNS and any firewall between this server and Sailthru.`,
    };
  }
  switch (code) {
    case 3:
      return { verdict: 'bad-key', message: `Sailthru does not know this API key (error 3). Copy the key from Settings → API & Postbacks in Sailthru.` };
    case 5:
      return {
        verdict: 'bad-secret',
        message: `The API key is right but the shared secret is not (error 5: the signature did not match). Enter the secret shown next to the key in Sailthru.`,
      };
    case 4:
      return {
        verdict: 'ip-not-allowed',
        message: `Sailthru refused this server's IP address (error 4). Add it to the API IP allow-list in Sailthru, or remove the restriction.`,
      };
    case 21:
      return { verdict: 'account-not-allowed', message: `The Sailthru account is not approved for this (error 21). Ask Sailthru support.` };
    case 43:
      return { verdict: 'rate-limited', message: `Sailthru is rate-limiting this account right now (error 43). Try again in a minute.` };
  }
  if (status === 429) return { verdict: 'rate-limited', message: `Sailthru is rate-limiting this account right now (HTTP 429). Try again in a minute.` };
  // A lookup of a random id that does not exist: the request was authenticated and understood.
  if (/user not found/i.test(message)) {
    return { verdict: 'ok', message: `Connected to ${host}: the API key and shared secret were accepted.` };
  }
  if (status === 401) return { verdict: 'bad-secret', message: `Sailthru refused the credentials (HTTP 401). Check the API key and shared secret.` };
  const detail = code !== null ? `error ${code}: ${message}` : message;
  return { verdict: 'unexpected', message: `Unexpected answer from ${host} (HTTP ${status}, ${detail}).` };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
