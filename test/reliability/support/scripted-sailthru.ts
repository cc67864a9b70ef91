import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A stand-in at Sailthru's address that answers the way a test scripts it and passes every other
 * request to the emulator. The script sees each request (method, path, query, body as sent:
 * with api_key and sig) and returns an answer, or null to forward it.
 */
export interface ScriptedRequest {
  method: string;
  /** Path without the query, e.g. `/event`. */
  path: string;
  /** The query string of a GET/DELETE (with its sig), '' for a POST. */
  query: string;
  /** The form body of a POST (with its sig), '' for a GET. */
  body: string;
  /** `sig` of the request, from the query or the body. */
  sig: string | null;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export type Script = (req: ScriptedRequest) => ScriptedAnswer | null;

export class ScriptedSailthru {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  script: Script = () => null;
  /** Requests answered by the script, then forwarded, in order. */
  readonly scripted: ScriptedRequest[] = [];
  forwarded = 0;
  port = 0;

  constructor(private readonly emulatorPort: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const text = body.toString('utf8');
    const sig = url.searchParams.get('sig') ?? new URLSearchParams(text).get('sig');
    const seen: ScriptedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), body: text, sig };
    const answer = this.script(seen);
    if (answer !== null) {
      this.scripted.push(seen);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body);
      return;
    }
    this.forwarded++;
    const upstream = request(
      { host: '127.0.0.1', port: this.emulatorPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${this.emulatorPort}` } },
      (answerFromEmulator) => {
        res.writeHead(answerFromEmulator.statusCode ?? 502, answerFromEmulator.headers);
        answerFromEmulator.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  }
}
