import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { basic, startStack, type Stack } from '../e2e/harness.ts';
import { reportFigures } from './support/figures.ts';
import { slowClient, type SlowClientResult } from './support/slow-clients.ts';

// Issue 9, request timeouts and body limits against slow-loris clients. src/server/app.ts gives
// headers 10 s and a whole request (a trickled body) 30 s, checked every 5 s.
//
// (This test found the whole-request limit at 60-90 s: fastify set requestTimeout after Node had
// derived headersTimeout (60 s) from its own default, and Node uses the larger of the two for a
// request still reading its body. The server options now set both.)
const CLIENTS = 10;
const SLOW_HEADERS_WITHIN_MS = 10_000 + 5_000 + 5_000;

let stack: Stack;
let slowHeaders: Promise<SlowClientResult[]>;
let slowBodies: Promise<SlowClientResult[]>;
/** The whole-request timeout, one check interval and 5 s of slack, read from the server itself. */
let slowBodyBoundMs = 0;

beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
  const authorization = basic(stack.writeKey).authorization!;
  const server = stack.service.app.server;
  const checkEveryMs = (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval ?? 30_000;
  slowBodyBoundMs = Math.max(server.requestTimeout, server.headersTimeout) + checkEveryMs + 5_000;
  // Every kind trickles at once, so the file waits for the timeouts once.
  const many = (kind: 'slow-headers' | 'slow-body', giveUpMs: number) =>
    Promise.all(Array.from({ length: CLIENTS }, () => slowClient(stack.service.url, kind, { byteEveryMs: 1_000, giveUpMs, authorization })));
  slowHeaders = many('slow-headers', SLOW_HEADERS_WITHIN_MS);
  slowBodies = many('slow-body', slowBodyBoundMs);
});
afterAll(() => stack?.stop(), 120_000);

function summary(results: SlowClientResult[]) {
  const cut = results.filter((r) => r.cutAfterMs !== null);
  return {
    clients: results.length,
    cut: cut.length,
    slowestCutSeconds: cut.length ? Math.round(Math.max(...cut.map((r) => r.cutAfterMs!)) / 100) / 10 : 'none',
    answers: [...new Set(results.map((r) => r.answer || '(closed)'))].join(' | '),
  };
}

describe('slow-loris clients', () => {
  it('a client trickling its headers is cut (408) within the request timeout plus one check interval', async () => {
    const results = await slowHeaders;
    const s = summary(results);
    reportFigures('slow-headers', s);
    expect(s.cut).toBe(CLIENTS);
    expect(results.every((r) => r.answer === '' || /^HTTP\/1\.1 408/.test(r.answer))).toBe(true);
    // The server is still fine.
    expect((await fetch(`${stack.service.url}/healthz`)).status).toBe(200);
  }, 90_000);

  it('a trickled body gets no more than the 30 s of a whole request (headersTimeout ≤ requestTimeout)', () => {
    const server = stack.service.app.server;
    expect(server.requestTimeout).toBe(30_000);
    expect(server.headersTimeout).toBe(10_000);
    expect(server.headersTimeout).toBeLessThanOrEqual(server.requestTimeout);
  });

  it('a client trickling its body is cut (408) within the whole-request timeout plus one check interval', async () => {
    const results = await slowBodies;
    const s = summary(results);
    reportFigures('slow-body', { ...s, boundSeconds: slowBodyBoundMs / 1000 });
    expect(s.cut).toBe(CLIENTS);
    expect(slowBodyBoundMs).toBeLessThanOrEqual(40_000);
    expect(results.every((r) => r.answer === '' || /^HTTP\/1\.1 408/.test(r.answer))).toBe(true);
  }, 150_000);

  it('a body announced over the limit is refused at once, without waiting for its bytes (413 JSON)', async () => {
    const { hostname, port } = new URL(stack.service.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(20_000, () => socket.destroy(new Error('no answer to an oversized Content-Length')));
      socket.write(
        [
          'POST /v1/batch HTTP/1.1',
          `Host: ${hostname}`,
          'Content-Type: application/json',
          `Authorization: ${basic(stack.writeKey).authorization}`,
          'Content-Length: 10000000000',
          'Connection: close',
          '',
          '{"batch":[',
        ].join('\r\n'),
      );
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error?: string };
    expect(body.error).toMatch(/500 KB/);
  }, 30_000);

  it('a body over 500 KB sent in full is refused with 413 JSON and the server stays usable for the next client', async () => {
    const res = await fetch(`${stack.service.url}/v1/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic(stack.writeKey) },
      body: JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'E', properties: { s: 'x'.repeat(2_000_000) } }] }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/500 KB/);
    const ok = await fetch(`${stack.service.url}/v1/track`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic(stack.writeKey) },
      body: JSON.stringify({ type: 'track', userId: 'u', event: 'E' }),
    });
    expect(ok.status).toBe(200);
  }, 30_000);
});
