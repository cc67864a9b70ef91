import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { StoredEvent } from '../../src/delivery/store.ts';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/server/logger.ts';
import { startService, type Service } from '../../src/server/service.ts';
import { basic, CREDENTIALS, postJson, stackEnv } from '../e2e/harness.ts';
import { ScriptedSailthru } from './support/scripted-sailthru.ts';

// Attacks on delivery found by an attacker review (issue 15, "Hardening"): whatever answers at
// Sailthru's address is hostile. A real service (ingest over HTTP, SQLite, workers, the Sailthru
// client) delivers to the emulator through a front that answers as each test scripts it.
// docs/reliability.md, "Attacks tried", lists them.

const WRITE_KEY = 'e2e-write-key';
const ADMIN_TOKEN = 'e2e-admin-token';
const RETRY_CAP_MS = 5 * 60_000;

let emulator: RunningEmulator;
let front: ScriptedSailthru;
let service: Service;
let dir: string;
const logs: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: CREDENTIALS.apiKey, secret: CREDENTIALS.secret, customerId: CREDENTIALS.customerId });
  front = new ScriptedSailthru(emulator.port);
  await front.start();
  dir = mkdtempSync(join(tmpdir(), 'st-delivery-attacks-'));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const env = stackEnv(front.url, dir, { RETRY_BASE_MS: '50', LOG_LEVEL: 'info' });
  service = await startService(loadConfig(env), { ingest: true, delivery: true }, { logger: createLogger('info', sink) });
});
afterAll(async () => {
  await service?.stop();
  await front?.close();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function post(events: unknown[]): Promise<void> {
  const res = await postJson(`${service.url}/v1/batch`, { batch: events }, basic(WRITE_KEY));
  expect(res.status, res.text).toBe(200);
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function eventOf(messageId: string): Promise<StoredEvent | undefined> {
  const page = await service.store.search({ destinationId: 'default', messageId, limit: 1 });
  return page.events[0];
}

async function detailOf(id: number): Promise<Record<string, unknown>> {
  const res = await fetch(`${service.url}/api/events/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { event: Record<string, unknown> }).event;
}

const trackFor = (userId: string, messageId: string) => ({ type: 'track', event: 'Viewed Thing', userId, messageId });

describe('a 429 whose reset is years away', () => {
  it('parks the lane no longer than the backoff cap', async () => {
    const tenYears = Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600;
    front.script = (req) =>
      req.path === '/event' && req.body.includes('rl-years')
        ? {
            status: 429,
            // remaining > 0: the rate gate's own hold (at most 60 s) is not what this test is about.
            headers: { 'x-rate-limit-limit': '2400', 'x-rate-limit-remaining': '5', 'x-rate-limit-reset': String(tenYears) },
            body: JSON.stringify({ error: 43, errormsg: 'Too many requests' }),
          }
        : null;
    try {
      await post([trackFor('rl-years', 'rl-years-1')]);
      const event = await waitFor('the event to be retrying', async () => {
        const e = await eventOf('rl-years-1');
        return e?.status === 'retrying' ? e : null;
      });
      const waitMs = event.nextAttemptAt!.getTime() - Date.now();
      // The cap plus the reset jitter (1 s): not ten years.
      expect(waitMs).toBeLessThanOrEqual(RETRY_CAP_MS + 1_000);
      expect(waitMs).toBeGreaterThan(RETRY_CAP_MS / 2 - 5_000);
      expect(event.lastError).toMatch(/error 43: Too many requests \(HTTP 429\)/);
    } finally {
      front.script = () => null;
    }
  });
});

describe('huge or hostile answers', () => {
  const deepArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const answers: Record<string, { status: number; body: string }> = {
    'huge-ok': { status: 200, body: JSON.stringify({ ok: true, junk: 'x'.repeat(900_000) }) },
    'huge-error': { status: 400, body: JSON.stringify({ error: 99, errormsg: `y${'z'.repeat(899_999)}` }) },
    'deep-error': { status: 500, body: deepArrays(400_000) },
    'deep-ok': { status: 200, body: `{"ok":${deepArrays(400_000)}}` },
  };

  it('keeps a bounded excerpt of each answer in the delivery log and says it was cut', async () => {
    const once = new Set<string>();
    front.script = (req) => {
      if (req.path !== '/event') return null;
      const user = Object.keys(answers).find((u) => req.body.includes(`ha-${u}`));
      // Each answers badly once; the retry reaches the emulator.
      if (user === undefined || once.has(user)) return null;
      once.add(user);
      return answers[user]!;
    };
    try {
      await post(Object.keys(answers).map((u) => trackFor(`ha-${u}`, `ha-${u}-1`)));
      const settledOnce = async (u: string) =>
        waitFor(`${u} to be attempted`, async () => {
          const e = await eventOf(`ha-${u}-1`);
          return e !== undefined && e.attempts > 0 && e.status !== 'pending' ? e : null;
        });
      const sizes: Record<string, number> = {};
      for (const u of Object.keys(answers)) {
        const event = await settledOnce(u);
        const detail = await service.store.getEvent(event.id);
        const first = detail!.attempts[0]!;
        const stored = JSON.stringify(first.calls).length + (first.error ?? '').length;
        sizes[u] = stored;
        expect(stored, u).toBeLessThan(8_000);
        const call = first.calls[0]!;
        if (u === 'huge-ok') {
          expect(event.status).toBe('delivered');
          expect(call.response).toEqual({ cut: 'the answer is 900021 bytes as JSON; the first 4096 are kept', excerpt: expect.stringMatching(/^\{"ok":true,"junk":"x+$/) });
        }
        if (u === 'huge-error') {
          expect(event.status).toBe('failed');
          expect(first.error).toMatch(/error 99: yzzz+… \[cut: 900000 characters in all\]/);
          expect((call.response as { cut: string }).cut).toBe('the answer is 900026 bytes as JSON; the first 4096 are kept');
        }
        if (u === 'deep-error') {
          expect(call.response).toEqual({ cut: 'the answer nests deeper than 32 levels; not kept', excerpt: '' });
          expect(first.error).toMatch(/will retry: Sailthru answered HTTP 500/);
        }
        if (u === 'deep-ok') {
          expect(event.status).toBe('delivered');
          expect(call.response).toEqual({ cut: 'the answer nests deeper than 32 levels; not kept', excerpt: '' });
        }
      }
      // The retried one is delivered once the answers are sane again.
      await waitFor('deep-error delivered', async () => (await eventOf('ha-deep-error-1'))?.status === 'delivered');
    } finally {
      front.script = () => null;
    }
  });
});

describe('answers that echo the request', () => {
  it('masks the request sig and the shared secret before anything is stored, logged or shown', async () => {
    const sigs: string[] = [];
    const answered = new Set<string>();
    front.script = (req) => {
      const user = ['echo-error', 'echo-ok', 'echo-html', 'echo-secret'].find((u) => req.body.includes(`${u}-`) || req.query.includes(`${u}-`));
      if (req.path !== '/event' || user === undefined || answered.has(user)) return null;
      answered.add(user);
      if (req.sig !== null) sigs.push(req.sig);
      const echo = `${req.method} ${req.path}?${req.query} ${req.body}`;
      switch (user) {
        case 'echo-error':
          return { status: 400, body: JSON.stringify({ error: 2, errormsg: `Invalid request: ${echo}`, request: { sig: req.sig, body: req.body } }) };
        case 'echo-ok':
          return { status: 200, body: JSON.stringify({ ok: true, youSent: echo, sig: req.sig }) };
        case 'echo-html':
          return { status: 502, headers: { 'content-type': 'text/html' }, body: `<html>sig=${req.sig}&${req.body}</html>` };
        default:
          return { status: 500, body: JSON.stringify({ error: 9, errormsg: `secret is ${CREDENTIALS.secret}, sig ${req.sig}`, hint: CREDENTIALS.secret }) };
      }
    };
    try {
      const users = ['echo-error', 'echo-ok', 'echo-html', 'echo-secret'];
      await post(users.map((u) => trackFor(`${u}-u`, `${u}-1`)));
      const events = await Promise.all(
        users.map((u) =>
          waitFor(`${u} attempted`, async () => {
            const e = await eventOf(`${u}-1`);
            return e !== undefined && e.attempts > 0 && e.status !== 'pending' ? e : null;
          }),
        ),
      );
      expect(sigs).toHaveLength(4);
      const everything: string[] = [];
      for (const event of events) {
        const detail = await service.store.getEvent(event.id);
        everything.push(JSON.stringify(detail));
        everything.push(JSON.stringify(await detailOf(event.id)));
      }
      everything.push(logs.join(''));
      const all = everything.join('\n');
      for (const sig of sigs) expect(all.includes(sig), `sig ${sig} stored or logged`).toBe(false);
      expect(all.includes(CREDENTIALS.secret)).toBe(false);
      expect(all).toContain('[redacted]');
      // What was said around them is kept.
      expect(events[0]!.status).toBe('failed');
      expect(events[0]!.lastError).toMatch(/error 2: Invalid request: POST \/event\? .*sig=\[redacted\]/);
      expect(events[1]!.status).toBe('delivered');
      expect(events[3]!.lastError).toMatch(/error 9: secret is \[redacted\], sig \[redacted\]/);
    } finally {
      front.script = () => null;
    }
  });
});
