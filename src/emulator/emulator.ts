import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EndpointContext, EndpointHandler } from './endpoints/context.ts';
import { postEvent } from './endpoints/event.ts';
import { getJob, postJob } from './endpoints/job.ts';
import { postPageview } from './endpoints/pageview.ts';
import { postPurchase } from './endpoints/purchase.ts';
import { deleteUser, getUser, postUser } from './endpoints/user.ts';
import { FaultInjector } from './faults.ts';
import type { EmulatorControl } from './control.ts';
import { handleInspection } from './inspection.ts';
import { JobRunner } from './jobs.ts';
import {
  DEFAULT_JOB_DELAY_MS,
  DEFAULT_MAX_REQUEST_LOG,
  DEMO_CREDENTIALS,
  type EmulatorOptions,
  type FaultOptions,
  type RateLimitOptions,
} from './options.ts';
import type { Payload } from './payload.ts';
import { FixedWindowRateLimiter } from './rate-limiter.ts';
import { RequestLog, type LoggedFault, type RequestFilter, type RequestLogEntry } from './request-log.ts';
import { SailthruApiError } from './sailthru-error.ts';
import { EmulatorState, type EmulatorStateSnapshot, type StateFilter } from './state.ts';
import {
  authenticatePageview,
  authenticateSignedCall,
  BodyTooLarge,
  decodeSignedCall,
  parseJsonBody,
  readBody,
} from './wire.ts';

interface Route {
  /** signed: api_key/format/json/sig; pageview: JSON body with a bearer customer id */
  kind: 'signed' | 'pageview';
  handlers: Partial<Record<string, EndpointHandler>>;
}

const ROUTES = new Map<string, Route>([
  ['/user', { kind: 'signed', handlers: { GET: getUser, POST: postUser, DELETE: deleteUser } }],
  ['/event', { kind: 'signed', handlers: { POST: postEvent } }],
  ['/purchase', { kind: 'signed', handlers: { POST: postPurchase } }],
  ['/job', { kind: 'signed', handlers: { GET: getJob, POST: postJob } }],
  ['/v1/track/event/pageview', { kind: 'pageview', handlers: { POST: postPageview } }],
]);

const JSON_TYPE = 'application/json; charset=utf-8';
const ERROR9_MESSAGE = 'Internal error: the request was probably not saved, wait and retry (emulated fault)';

type Headers = Record<string, string>;

/** One Sailthru request on its way through the pipeline, as the request log will show it. */
interface InFlightCall {
  method: string;
  path: string;
  nowMs: number;
  /** performance.now() when it arrived */
  started: number;
  payload: unknown;
  signatureValid: boolean | null;
}

interface Answer {
  status: number;
  body: unknown;
  fault?: LoggedFault;
}

export interface RunningEmulator extends EmulatorControl {
  /** e.g. http://127.0.0.1:4010 — the base for both the API and the page-view host */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The account it accepts (for tests that sign their own requests). */
  readonly credentials: { apiKey: string; secret: string; customerId: string };
  /** Stops listening, releases hung requests, cancels pending jobs. */
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Headers): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': JSON_TYPE, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The Sailthru emulator: one node:http server, the account state in memory, and the request
 * pipeline rate limit → faults → authentication → endpoint → "apply then fail".
 */
export class Emulator implements RunningEmulator {
  readonly credentials: { apiKey: string; secret: string; customerId: string };
  private readonly state_: EmulatorState;
  private readonly limiter: FixedWindowRateLimiter;
  private readonly faultInjector: FaultInjector;
  private readonly log: RequestLog;
  private readonly jobs: JobRunner;
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();
  private readonly closing = new AbortController();
  private readonly maxBodyBytes: number;
  private readonly onRequest: EmulatorOptions['onRequest'];
  private address: AddressInfo | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: EmulatorOptions = {}) {
    this.credentials = {
      apiKey: options.apiKey ?? DEMO_CREDENTIALS.apiKey,
      secret: options.secret ?? DEMO_CREDENTIALS.secret,
      customerId: options.customerId ?? DEMO_CREDENTIALS.customerId,
    };
    this.state_ = new EmulatorState(options.maxActivityLog ?? DEFAULT_MAX_REQUEST_LOG);
    this.state_.cartVarsReturned = options.cartVarsReturned ?? true;
    this.limiter = new FixedWindowRateLimiter({
      windowMs: options.windowMs ?? options.rateLimits?.windowMs,
      limits: options.limits ?? options.rateLimits?.limits,
    });
    this.faultInjector = new FaultInjector(options.faults?.seed);
    this.faultInjector.set(options.faults ?? {});
    this.log = new RequestLog(options.maxRequestLog ?? DEFAULT_MAX_REQUEST_LOG);
    this.jobs = new JobRunner(this.state_, options.jobDelayMs ?? DEFAULT_JOB_DELAY_MS);
    this.maxBodyBytes = options.maxBodyBytes ?? 20 * 1024 * 1024;
    this.onRequest = options.onRequest;
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      this.dispatch(req, res).catch((error: unknown) => this.internalError(res, error));
    });
  }

  async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.address = this.server.address() as AddressInfo;
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  get url(): string {
    return `http://${displayHost(this.host)}:${this.port}`;
  }

  get lastRequestSeq(): number {
    return this.log.lastSeq;
  }

  state(filter?: StateFilter): EmulatorStateSnapshot {
    return structuredClone(this.state_.snapshot(filter));
  }

  /** The live snapshot for the HTTP inspection route, which serialises it at once. */
  stateForSerialising(filter?: StateFilter): EmulatorStateSnapshot {
    return this.state_.snapshot(filter);
  }

  requests(filter?: RequestFilter): RequestLogEntry[] {
    return structuredClone(this.log.query(filter));
  }

  requestsForSerialising(filter?: RequestFilter): RequestLogEntry[] {
    return this.log.query(filter);
  }

  setFaults(faults: FaultOptions): void {
    this.faultInjector.set(faults);
  }

  faults(): FaultOptions {
    return this.faultInjector.describe();
  }

  setRateLimits(options: RateLimitOptions): void {
    this.limiter.configure(options);
  }

  rateLimits(): { windowMs: number; limits: Record<string, number> } {
    return this.limiter.describe();
  }

  /** Clears the account state, the request log, the faults and the rate-limit counters. */
  reset(): void {
    this.jobs.cancelAll();
    this.state_.clear();
    this.log.clear();
    this.faultInjector.set({});
    this.limiter.resetCounters();
  }

  runPendingJobs(): Promise<void> {
    return this.jobs.runPending();
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing.abort();
      this.jobs.cancelAll();
      for (const res of this.hanging) res.destroy();
      this.hanging.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = q === -1 ? '' : target.slice(q + 1);
    if (path.startsWith('/_emulator/')) {
      await handleInspection(this, req, res, path, query);
      return;
    }
    const route = ROUTES.get(path);
    if (!route) {
      const call: InFlightCall = {
        method: req.method ?? 'GET', path, nowMs: Date.now(), started: performance.now(), payload: undefined, signatureValid: null,
      };
      const body = { error: 99, errormsg: `Unknown endpoint: ${path}` };
      sendJson(res, 404, body);
      this.record(call, { status: 404, body });
      return;
    }
    await this.handleApiCall(req, res, route, path, query);
  }

  private async handleApiCall(req: IncomingMessage, res: ServerResponse, route: Route, path: string, query: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const call: InFlightCall = { method, path, nowMs: Date.now(), started: performance.now(), payload: undefined, signatureValid: null };
    const verdict = this.limiter.hit(`${method} ${path}`, call.nowMs);
    const headers: Headers = {
      'x-rate-limit-limit': String(this.limiter.perMinute(verdict.limit)),
      'x-rate-limit-remaining': String(this.limiter.perMinute(verdict.remaining)),
      'x-rate-limit-reset': String(verdict.reset),
    };
    const answer = (a: Answer): void => {
      if (!res.destroyed) sendJson(res, a.status, a.body, headers);
      this.record(call, a);
    };

    let body: string;
    try {
      body = await readBody(req, this.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        answer({ status: 413, body: { error: 99, errormsg: `Request body too large (over ${this.maxBodyBytes} bytes)` } });
      }
      return;
    }
    const signed = route.kind === 'signed' ? decodeSignedCall(method, query, body) : undefined;
    const pageviewBody = route.kind === 'pageview' ? parseJsonBody(body) : undefined;
    call.payload = signed ? signed.payload : pageviewBody;

    const handler = route.handlers[method];
    if (!handler) {
      answer({ status: 405, body: { error: 1, errormsg: `Unsupported HTTP method ${method} for ${path}` } });
      return;
    }
    if (verdict.exceeded) {
      answer({ status: 429, body: { error: 43, errormsg: `Too many ${method} requests this minute to ${path} API` } });
      return;
    }

    const decision = this.faultInjector.decide(method, path);
    if (decision.latencyMs > 0) {
      try {
        await sleep(decision.latencyMs, undefined, { signal: this.closing.signal });
      } catch {
        return; // the emulator is closing
      }
    }
    switch (decision.fault) {
      case 'drop':
        this.record(call, { status: 0, body: undefined, fault: 'drop' });
        req.socket.destroy();
        return;
      case 'hang':
        this.record(call, { status: 0, body: undefined, fault: 'hang' });
        this.hold(res);
        return;
      case 'fail': {
        const status = this.faultInjector.failStatus;
        answer({ status, body: { error: 9, errormsg: `Internal error (emulated HTTP ${status})` }, fault: 'fail' });
        return;
      }
      case 'error9':
        answer({ status: 200, body: { error: 9, errormsg: ERROR9_MESSAGE }, fault: 'error9' });
        return;
      default:
        break;
    }

    let result: Answer;
    try {
      const accepted: Payload = signed
        ? authenticateSignedCall(signed, this.credentials, (valid) => (call.signatureValid = valid))
        : authenticatePageview(req, this.credentials.customerId, pageviewBody);
      const ctx: EndpointContext = { state: this.state_, jobs: this.jobs, nowMs: call.nowMs };
      result = { status: 200, body: handler(accepted, ctx) };
    } catch (error) {
      if (!(error instanceof SailthruApiError)) throw error;
      result = { status: error.status, body: error.envelope() };
    }

    const mode = result.status === 200 && !hasErrorCode(result.body) ? this.faultInjector.takeApplyThenFail(method, path) : null;
    if (mode === '500') {
      answer({ status: 500, body: { error: 9, errormsg: 'Internal error (emulated HTTP 500)' }, fault: 'apply-then-500' });
    } else if (mode === 'drop') {
      this.record(call, { status: 0, body: undefined, fault: 'apply-then-drop' });
      req.socket.destroy();
    } else if (mode === 'hang') {
      this.record(call, { status: 0, body: undefined, fault: 'apply-then-hang' });
      this.hold(res);
    } else {
      answer(result);
    }
  }

  /** Keeps the request open with no answer until the client gives up or the emulator closes. */
  private hold(res: ServerResponse): void {
    this.hanging.add(res);
    res.on('close', () => this.hanging.delete(res));
  }

  private record(call: InFlightCall, answer: Answer): void {
    const entry: Omit<RequestLogEntry, 'seq'> = {
      time: new Date(call.nowMs).toISOString(),
      method: call.method,
      path: call.path,
      payload: call.payload,
      signatureValid: call.signatureValid,
      status: answer.status,
      errorCode: null,
      durationMs: Math.round((performance.now() - call.started) * 10) / 10,
    };
    if (hasErrorCode(answer.body)) {
      entry.errorCode = answer.body.error;
      entry.errorMessage = answer.body.errormsg;
    }
    if (answer.fault) entry.fault = answer.fault;
    const logged = this.log.append(entry);
    this.onRequest?.(logged);
  }

  private internalError(res: ServerResponse, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sailthru emulator: internal error: ${error instanceof Error ? error.stack : message}\n`);
    if (!res.headersSent && !res.destroyed) sendJson(res, 500, { error: 9, errormsg: `Emulator internal error: ${message}` });
  }
}

function hasErrorCode(body: unknown): body is { error: number; errormsg: string } {
  return typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'number';
}
