import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventFileOf } from '../../src/cli/event-file.ts';
import { sendEventFile } from '../../src/cli/event-sender.ts';
import { HttpFailure, requestJson } from '../../src/cli/http.ts';
import { bar, LiveLine } from '../../src/cli/live-line.ts';
import { table } from '../../src/cli/table.ts';

type Answer = { status: number; headers?: Record<string, string>; body?: unknown } | 'drop';

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** A server answering from a script, recording what it received. */
async function scripted(answers: Answer[]): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      const answer = answers.shift() ?? { status: 200, body: { success: true } };
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server?.address() as AddressInfo).port}`, bodies };
}

describe('requestJson', () => {
  it('waits out 429 for its Retry-After, retries 5xx and dropped connections, then answers', async () => {
    const { url, bodies } = await scripted([
      { status: 429, headers: { 'retry-after': '7' }, body: { success: false, error: 'Too many events are waiting' } },
      { status: 503, body: { success: false, error: 'shutting down' } },
      'drop',
      { status: 200, body: { success: true } },
    ]);
    const waits: Array<[string, number]> = [];
    const answer = await requestJson('POST', `${url}/v1/batch`, { body: { batch: [] } }, {
      backoffMs: 100,
      onWait: (reason, ms) => waits.push([reason, ms]),
      sleep: async () => undefined,
    });
    expect(answer).toEqual({ status: 200, body: { success: true } });
    expect(bodies).toHaveLength(4);
    expect(waits).toEqual([
      ['the server is busy (429: Too many events are waiting)', 7000],
      ['HTTP 503: shutting down', 100],
      [expect.stringMatching(/^could not reach http:\/\/127\.0\.0\.1:\d+ \(/), 200],
    ]);
  });

  it('gives up after its tries, and does not retry a 4xx', async () => {
    const { url } = await scripted([{ status: 500 }, { status: 500 }, { status: 400, body: { error: 'bad' } }]);
    await expect(requestJson('GET', url, {}, { attempts: 2, sleep: async () => undefined })).resolves.toMatchObject({ status: 500 });
    await expect(requestJson('GET', url, {}, { sleep: async () => undefined })).resolves.toEqual({ status: 400, body: { error: 'bad' } });
    await expect(requestJson('GET', 'http://127.0.0.1:9', {}, { attempts: 2, sleep: async () => undefined })).rejects.toBeInstanceOf(HttpFailure);
  });
});

describe('sendEventFile', () => {
  it('cuts batches by count and by bytes, and maps rejections back to lines', async () => {
    const lines = Array.from({ length: 7 }, (_, i) => JSON.stringify({ type: 'track', userId: `u${i}`, event: 'E', properties: { pad: 'x'.repeat(300) } }));
    const { url, bodies } = await scripted([
      { status: 200, body: { success: true, rejected: [{ index: 1, messageId: null, reason: 'nope' }] } },
      { status: 200, body: { success: true } },
      { status: 200, body: { success: true } },
      { status: 200, body: { success: true } },
    ]);
    const summary = await sendEventFile(eventFileOf(lines.join('\n')), { url, writeKey: 'k', batchSize: 3, maxBatchBytes: 1000 });
    // 3 events of ~350 bytes exceed 1000 bytes: two a request.
    expect(bodies.map((b) => (JSON.parse(b) as { batch: unknown[] }).batch.length)).toEqual([2, 2, 2, 1]);
    expect(summary).toMatchObject({ total: 7, accepted: 6, rejected: [{ where: 'line 2', reason: 'nope' }], invalid: [], notSent: 0, requests: 4 });
  });
});

describe('terminal output', () => {
  function fakeStream(tty: boolean) {
    const writes: string[] = [];
    return { writes, stream: { isTTY: tty, columns: 40, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WritableStream };
  }

  it('redraws one line in place on a terminal', () => {
    let now = 0;
    const { writes, stream } = fakeStream(true);
    const live = new LiveLine(stream, { now: () => now });
    live.update('first');
    live.update('skipped: too soon');
    now = 200;
    live.update('second');
    live.print('a note');
    live.finish();
    expect(writes.join('')).toBe('\r\x1b[Kfirst\r\x1b[Ksecond\r\x1b[Ka note\nsecond\n');
  });

  it('prints plain lines, not too often, without a terminal', () => {
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const live = new LiveLine(stream, { now: () => now, lineEveryMs: 5000 });
    live.update('one');
    now = 1000;
    live.update('two');
    now = 6000;
    live.update('three');
    live.finish();
    expect(writes).toEqual(['one\n', 'three\n']);
  });

  it('draws bars and tables', () => {
    expect(bar(1, 4, 8)).toBe('[##------]  25%');
    expect(bar(0, 0, 4)).toBe('[####] 100%');
    expect(table([{ title: 'ID', align: 'right' }, { title: 'NAME', max: 5 }], [['7', 'a\nb'], ['12', 'abcdefgh']])).toBe(
      'ID  NAME\n--  -----\n 7  a b\n12  abcd…\n',
    );
  });
});
