import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorControl } from './control.ts';
import type { FaultOptions, RateLimitOptions } from './options.ts';
import { isPlainObject } from './payload.ts';
import type { RequestFilter, RequestLogEntry } from './request-log.ts';
import type { EmulatorStateSnapshot, StateFilter } from './state.ts';
import { readBody } from './wire.ts';

export interface InspectionTarget extends EmulatorControl {
  stateForSerialising(filter?: StateFilter): EmulatorStateSnapshot;
  requestsForSerialising(filter?: RequestFilter): RequestLogEntry[];
}

const MAX_CONTROL_BODY = 1024 * 1024;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function fail(res: ServerResponse, status: number, message: string): void {
  reply(res, status, { error: 99, errormsg: message });
}

function integerParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req, MAX_CONTROL_BODY);
  if (text.trim() === '') return {};
  const value = JSON.parse(text) as unknown;
  if (!isPlainObject(value)) throw new RangeError('body must be a JSON object');
  return value;
}

/**
 * The test and operator API under /_emulator/: never rate limited, faulted or logged.
 * - GET  state[?key=extid&id=u1]            the account (one user's part with key/id)
 * - GET  requests[?since=&path=&method=&limit=]  the request log: {requests, lastSeq}
 * - POST reset                               clear state, log, faults and counters
 * - GET|POST faults                          read / replace the fault configuration
 * - GET|POST limits                          read / change windowMs and limits
 * - POST jobs/run                            finish every pending job now
 */
export async function handleInspection(
  target: InspectionTarget,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  const params = new URLSearchParams(query);
  try {
    switch (`${method} ${path}`) {
      case 'GET /_emulator/state': {
        const filter: StateFilter = {};
        const id = params.get('id');
        if (id !== null) filter.id = id;
        const key = params.get('key');
        if (key !== null) filter.key = key;
        reply(res, 200, target.stateForSerialising(filter));
        return;
      }
      case 'GET /_emulator/requests': {
        const filter: RequestFilter = {};
        const since = integerParam(params, 'since');
        if (since !== undefined) filter.since = since;
        const limit = integerParam(params, 'limit');
        if (limit !== undefined) filter.limit = limit;
        const p = params.get('path');
        if (p !== null) filter.path = p;
        const m = params.get('method');
        if (m !== null) filter.method = m;
        reply(res, 200, { requests: target.requestsForSerialising(filter), lastSeq: target.lastRequestSeq });
        return;
      }
      case 'POST /_emulator/reset':
        target.reset();
        reply(res, 200, { ok: true });
        return;
      case 'GET /_emulator/faults':
        reply(res, 200, { faults: target.faults() });
        return;
      case 'POST /_emulator/faults':
        target.setFaults((await jsonBody(req)) as FaultOptions);
        reply(res, 200, { faults: target.faults() });
        return;
      case 'GET /_emulator/limits':
        reply(res, 200, target.rateLimits());
        return;
      case 'POST /_emulator/limits':
        target.setRateLimits((await jsonBody(req)) as RateLimitOptions);
        reply(res, 200, target.rateLimits());
        return;
      case 'POST /_emulator/jobs/run':
        await target.runPendingJobs();
        reply(res, 200, { ok: true });
        return;
      default:
        fail(res, 404, `Unknown emulator route: ${method} ${path}`);
    }
  } catch (error) {
    if (error instanceof RangeError || error instanceof SyntaxError) fail(res, 400, error.message);
    else throw error;
  }
}
