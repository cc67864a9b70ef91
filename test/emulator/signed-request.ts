/**
 * Builds Sailthru calls the way the official clients do, independently of src/ (the tests must
 * not trust the code they test): md5 hex of secret + sorted values of api_key, format, json.
 */
import { createHash } from 'node:crypto';

export interface Account {
  apiKey: string;
  secret: string;
}

export interface CallOptions {
  /** override the api_key sent */
  apiKey?: string;
  /** sign with this secret instead */
  secret?: string;
  /** send this sig as is */
  sig?: string;
  /** parameters to leave out */
  omit?: Array<'api_key' | 'format' | 'json' | 'sig'>;
  /** where the parameters travel; default: query for GET/DELETE, form body for POST */
  placement?: 'query' | 'form';
  /** raw json text instead of JSON.stringify(payload) */
  rawJson?: string;
}

export interface CallResult {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

export function signedParams(account: Account, payload: unknown, options: CallOptions = {}): URLSearchParams {
  const apiKey = options.apiKey ?? account.apiKey;
  const json = options.rawJson ?? JSON.stringify(payload);
  const sig = options.sig ?? md5((options.secret ?? account.secret) + [apiKey, 'json', json].sort().join(''));
  const params = new URLSearchParams();
  const omit = new Set(options.omit ?? []);
  if (!omit.has('api_key')) params.set('api_key', apiKey);
  if (!omit.has('format')) params.set('format', 'json');
  if (!omit.has('json')) params.set('json', json);
  if (!omit.has('sig')) params.set('sig', sig);
  return params;
}

export async function sailthruCall(
  baseUrl: string,
  account: Account,
  method: 'GET' | 'POST' | 'DELETE',
  endpoint: string,
  payload: unknown,
  options: CallOptions = {},
): Promise<CallResult> {
  const params = signedParams(account, payload, options);
  const placement = options.placement ?? (method === 'POST' ? 'form' : 'query');
  const url = placement === 'query' ? `${baseUrl}${endpoint}?${params}` : `${baseUrl}${endpoint}`;
  const init: RequestInit =
    placement === 'form'
      ? { method, body: params.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }
      : { method };
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

/** A client bound to one emulator and account. */
export function clientFor(baseUrl: string, account: Account) {
  return {
    get: (endpoint: string, payload: unknown, options?: CallOptions) => sailthruCall(baseUrl, account, 'GET', endpoint, payload, options),
    post: (endpoint: string, payload: unknown, options?: CallOptions) => sailthruCall(baseUrl, account, 'POST', endpoint, payload, options),
    delete: (endpoint: string, payload: unknown, options?: CallOptions) => sailthruCall(baseUrl, account, 'DELETE', endpoint, payload, options),
  };
}

export type Client = ReturnType<typeof clientFor>;

export function item(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, qty: 1, title: `Product ${id}`, price: 1999, url: `https://shop.example/p/${id}`, ...overrides };
}
