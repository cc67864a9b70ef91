import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A short-lived HTTP server holding the files of a bulk job until Sailthru has fetched them: the
 * `url` source of POST /job. Paths carry a random token, so nobody who can reach the port can
 * guess a file; anything else answers 404.
 */
export interface FileServer {
  /** Where the server listens, e.g. http://127.0.0.1:41234 */
  localUrl: string;
  /** Adds a file; returns the URL to give Sailthru. */
  add(name: string, content: string): string;
  /** How often each file was fetched (a job that never fetched its file says so). */
  fetches(name: string): number;
  close(): Promise<void>;
}

export interface FileServerOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (a free port) */
  port?: number;
  /** The base URL Sailthru reaches this server by (a tunnel, a proxy); default the local URL. */
  publicBase?: string;
}

export async function startFileServer(options: FileServerOptions = {}): Promise<FileServer> {
  const token = randomBytes(16).toString('hex');
  const files = new Map<string, { content: Buffer; fetches: number }>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const prefix = `/${token}/`;
    const file = path.startsWith(prefix) ? files.get(decodeURIComponent(path.slice(prefix.length))) : undefined;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method === 'GET') file.fetches++;
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-length': file.content.length });
    res.end(req.method === 'GET' ? file.content : undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const localUrl = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  const base = (options.publicBase ?? localUrl).replace(/\/+$/, '');

  return {
    localUrl,
    add(name, content) {
      files.set(name, { content: Buffer.from(content, 'utf8'), fetches: 0 });
      return `${base}/${token}/${encodeURIComponent(name)}`;
    },
    fetches: (name) => files.get(name)?.fetches ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
