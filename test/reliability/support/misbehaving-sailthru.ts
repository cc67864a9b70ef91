import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Something at Sailthru's address that misbehaves on demand, in front of the emulator. With no
 * fault it passes every request to the emulator and its answer back. A test switches it to one
 * misbehaviour at a time:
 * - `trickle`: 200 and a body of one byte every 500 ms, never finished;
 * - `huge`: 200 and a 200 MB body (no Content-Length), written as fast as the reader takes it;
 * - `empty-200`, `json-array`, `html-200`: a 2xx that is not a success;
 * - `redirect`: 301 to another host;
 * - `reset-mid-body`: 200 with Content-Length 1000, a few bytes, then a TCP reset;
 * - `not-http`: bytes that are no HTTP response (a TLS alert, then noise), then the connection closed.
 * By default the request never reaches the emulator (Sailthru never saw it). With `afterApplying`
 * the emulator applies it first and its answer is replaced by the misbehaviour: a call that landed
 * but whose answer was lost.
 */
export const MISBEHAVIOURS = ['trickle', 'huge', 'empty-200', 'json-array', 'html-200', 'redirect', 'reset-mid-body', 'not-http'] as const;
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

export interface Fault {
  misbehaviour: Misbehaviour;
  /** Let the emulator apply the request first; only the answer misbehaves. */
  afterApplying?: boolean;
  /** Only these calls misbehave ("POST /purchase"); every call when absent. */
  calls?: string[];
}

export const HUGE_BYTES = 200 * 1024 * 1024;
export const TRICKLE_EVERY_MS = 500;
/** A TLS alert record (what a TLS port may send to a plain-text client), then noise. */
const NOT_HTTP = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46, 0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a]);
const HTML = '<!DOCTYPE html><html><head><title>Gateway</title></head><body><h1>Welcome</h1><p>Please sign in to continue.</p></body></html>';

export interface MisbehaviourStats {
  /** Answers given per misbehaviour. */
  served: Record<Misbehaviour, number>;
  /** Requests passed to the emulator (including those applied before misbehaving). */
  forwarded: number;
  /** For each huge answer: bytes the server got written before the reader closed the connection. */
  hugeBytesWritten: number[];
}

export class MisbehavingSailthru {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Connections a misbehaviour still holds (a trickle, a huge body). */
  private readonly held = new Set<Socket>();
  private fault: Fault | null = null;
  readonly stats: MisbehaviourStats = {
    served: Object.fromEntries(MISBEHAVIOURS.map((m) => [m, 0])) as Record<Misbehaviour, number>,
    forwarded: 0,
    hugeBytesWritten: [],
  };
  port = 0;

  constructor(
    private readonly emulatorPort: number,
    private readonly host = '127.0.0.1',
  ) {}

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Misbehave from now on (null: pass everything through). Connections held by a misbehaviour are cut. */
  set(fault: Fault | null): void {
    this.fault = fault;
    if (fault === null) for (const socket of this.held) socket.destroy();
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, this.host, resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const fault = this.fault;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const applies = fault !== null && (fault.calls === undefined || fault.calls.includes(`${req.method} ${path}`));
    if (!applies) {
      const answer = await this.forward(req, body).catch(() => null);
      if (answer === null) return void res.socket?.destroy();
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      return;
    }
    if (fault.afterApplying) await this.forward(req, body).catch(() => null);
    this.stats.served[fault.misbehaviour]++;
    this.misbehave(fault.misbehaviour, req, res);
  }

  private misbehave(misbehaviour: Misbehaviour, req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
    switch (misbehaviour) {
      case 'trickle': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const timer = setInterval(() => res.write(' '), TRICKLE_EVERY_MS);
        socket.once('close', () => clearInterval(timer));
        return;
      }
      case 'huge': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let offered = 0;
        const pump = (): void => {
          while (offered < HUGE_BYTES && !socket.destroyed) {
            offered += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        socket.once('close', () => this.stats.hugeBytesWritten.push(socket.bytesWritten));
        pump();
        return;
      }
      case 'empty-200':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0' });
        res.end();
        return;
      case 'json-array':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[{"ok":true}]');
        return;
      case 'html-200':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(HTML);
        return;
      case 'redirect':
        res.writeHead(301, { location: `https://api.sailthru.example${req.url ?? '/'}` });
        res.end();
        return;
      case 'reset-mid-body':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"ok":tr');
        setTimeout(() => socket.resetAndDestroy(), 20);
        return;
      case 'not-http':
        socket.end(NOT_HTTP);
        return;
    }
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    this.stats.forwarded++;
    return new Promise((resolve, reject) => {
      const upstream = request(
        {
          host: this.host,
          port: this.emulatorPort,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: `${this.host}:${this.emulatorPort}` },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }));
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }
}
