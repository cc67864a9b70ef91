import { connect, type Socket } from 'node:net';

/**
 * Slow-loris clients: each opens a connection and trickles a request one byte at a time, and
 * reports when (and how) the server ended it. A server that never cuts them would let a few
 * hundred such clients hold every socket it has.
 */
export interface SlowClientResult {
  kind: 'slow-headers' | 'slow-body' | 'idle';
  /** ms from connect to the server closing the connection; null when we gave up first. */
  cutAfterMs: number | null;
  /** First line of whatever the server answered before closing, if anything. */
  answer: string;
}

export function slowClient(
  url: string,
  kind: SlowClientResult['kind'],
  options: { byteEveryMs: number; giveUpMs: number; authorization: string; contentLength?: number; until?: Promise<unknown> },
): Promise<SlowClientResult> {
  const { hostname, port } = new URL(url);
  const head = [
    'POST /v1/batch HTTP/1.1',
    `Host: ${hostname}:${port}`,
    'Content-Type: application/json',
    `Authorization: ${options.authorization}`,
    `Content-Length: ${options.contentLength ?? 100_000}`,
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(Number(port), hostname);
    let answer = '';
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (cutAfterMs: number | null) => {
      if (done) return;
      done = true;
      if (timer) clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ kind, cutAfterMs, answer: answer.split('\r\n')[0] ?? '' });
    };
    const giveUp = setTimeout(() => finish(null), options.giveUpMs);
    void options.until?.then(() => finish(null));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => finish(Date.now() - started));
    socket.on('error', () => finish(Date.now() - started));
    socket.on('connect', () => {
      if (kind === 'idle') return;
      let toSend = kind === 'slow-headers' ? head : '{"batch":[';
      if (kind === 'slow-body') socket.write(head);
      timer = setInterval(() => {
        if (socket.destroyed) return;
        if (toSend.length === 0) toSend = ' ';
        socket.write(toSend[0]!);
        toSend = toSend.slice(1);
      }, options.byteEveryMs);
    });
  });
}
