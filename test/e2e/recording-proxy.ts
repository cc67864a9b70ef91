import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the server that records what a client really sent (method, path,
 * headers, body size) and passes everything through unchanged, so a test can show which wire
 * format (gzip, Content-Type…) a real SDK used at its defaults.
 */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: Buffer;
  status: number;
  answer: string;
}

export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const bodyBytes = Buffer.concat(chunks);
      const forwarded = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (response) => {
          const answer: Buffer[] = [];
          response.on('data', (chunk: Buffer) => answer.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(answer);
            requests.push({ method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, bodyBytes, status: response.statusCode ?? 0, answer: text.toString('utf8') });
            outgoing.writeHead(response.statusCode ?? 502, response.headers).end(text);
          });
        },
      );
      forwarded.on('error', () => outgoing.writeHead(502).end());
      forwarded.end(bodyBytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
