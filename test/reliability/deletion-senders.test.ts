import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/delivery/store.ts';
import { basic, postJson, startStack, waitForDrain, type Stack } from '../e2e/harness.ts';

// Issue 15, hardening: write keys are public in browsers, so a deletion that came with one must
// not delete a Sailthru profile unless the operator says so (deletionFromEvents). A real service
// over HTTP delivers to the emulator; each deletion arrives the way an attacker or Segment would
// send it, and the emulator says which profiles are left.

const WEBHOOK_SECRET = 'whsec-deletion-test-2b7e1516';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { WEBHOOK_SECRET, RETRY_BASE_MS: '50', LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await stack?.stop();
});

const sign = (text: string) => createHmac('sha1', WEBHOOK_SECRET).update(text).digest('hex');

async function identifyAll(users: string[]): Promise<void> {
  const batch = users.map((u) => ({ type: 'identify', userId: u, traits: { email: `${u}@example.com` }, messageId: `id-${u}` }));
  expect((await postJson(`${stack.service.url}/v1/batch`, { batch }, basic(stack.writeKey))).status).toBe(200);
  await waitForDrain(stack.service);
}

async function lastEventOf(userId: string): Promise<StoredEvent> {
  const page = await stack.service.store.search({ laneKey: userId, limit: 10 });
  return page.events[0]!;
}

const profiles = (s: Stack) => new Set(s.emulator.state().profiles.map((p) => (p.keys as { extid?: string }).extid));

describe('deletionFromEvents: signed (the default)', () => {
  it('honours only deletions signed with the webhook secret or sent by an admin', async () => {
    const users = ['del-wk-track', 'del-wk-batch', 'del-wk-forged', 'del-webhook-basic', 'del-signed', 'del-batch-first', 'del-batch-second', 'del-admin', 'del-beacon'];
    await identifyAll(users);
    const url = stack.service.url;
    const wk = basic(stack.writeKey);
    // Write key: a tracking route, a batch, a client claiming to be an admin, the beacon.
    expect((await postJson(`${url}/v1/track`, { type: 'track', event: 'User Deleted', userId: 'del-wk-track' }, wk)).status).toBe(200);
    expect((await postJson(`${url}/v1/batch`, { batch: [{ type: 'track', event: 'User Deleted', userId: 'del-wk-batch' }] }, wk)).status).toBe(200);
    expect((await postJson(`${url}/v1/batch`, { batch: [{ type: 'track', event: 'User Deleted', userId: 'del-wk-forged', authenticatedBy: 'admin' }] }, wk)).status).toBe(200);
    expect((await postJson(`${url}/beacon/v1/batch?writeKey=${stack.writeKey}`, { batch: [{ type: 'track', event: 'User Deleted', userId: 'del-beacon' }] })).status).toBe(200);
    // /v1/webhook with a write key as Basic auth: still a write key.
    expect((await postJson(`${url}/v1/webhook`, { type: 'delete', userId: 'del-webhook-basic' }, wk)).status).toBe(200);
    // Signed with the shared secret, as Segment's Webhooks destination sends its deletions.
    const signed = JSON.stringify({ type: 'delete', userId: 'del-signed' });
    expect((await postJson(`${url}/v1/webhook`, signed, { 'x-signature': sign(signed) })).status).toBe(200);
    // An Actions batch signs only its first event: the second rides along unsigned.
    const first = JSON.stringify({ type: 'delete', userId: 'del-batch-first' });
    const batch = `[${first},${JSON.stringify({ type: 'delete', userId: 'del-batch-second' })}]`;
    expect((await postJson(`${url}/v1/webhook`, batch, { 'x-signature': sign(first) })).status).toBe(200);
    // The admin API (what the console and delete-user use).
    const admin = await fetch(`${url}/api/users/del-admin/delete`, { method: 'POST', headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' }, body: '{}' });
    expect(admin.status).toBe(200);
    await waitForDrain(stack.service);

    const left = profiles(stack);
    for (const kept of ['del-wk-track', 'del-wk-batch', 'del-wk-forged', 'del-webhook-basic', 'del-batch-second', 'del-beacon']) {
      expect(left.has(kept), `${kept} kept`).toBe(true);
      const event = await lastEventOf(kept);
      expect(event.status, kept).toBe('skipped');
      expect(event.outcome?.reason, kept).toMatch(/^deletion not honoured: the event came (with a write key|in a webhook batch whose signature covers only its first event), and deletionFromEvents is "signed"/);
    }
    for (const gone of ['del-signed', 'del-batch-first', 'del-admin']) {
      expect(left.has(gone), `${gone} deleted`).toBe(false);
      expect((await lastEventOf(gone)).status, gone).toBe('delivered');
    }
    // How each came in is stored with it (a client's own claim is not).
    expect(((await lastEventOf('del-wk-forged')).payload as { authenticatedBy: string }).authenticatedBy).toBe('write-key');
    expect(((await lastEventOf('del-signed')).payload as { authenticatedBy: string }).authenticatedBy).toBe('webhook-signature');
    expect(((await lastEventOf('del-batch-second')).payload as { authenticatedBy: string }).authenticatedBy).toBe('webhook-unsigned-batch-member');
    expect(((await lastEventOf('del-admin')).payload as { authenticatedBy: string }).authenticatedBy).toBe('admin');
  });
});

describe('deletionFromEvents: write-key', () => {
  it('honours a deletion that came with a write key, as before', async () => {
    const lenient = await startStack({ env: { SAILTHRU_DELETION_FROM_EVENTS: 'write-key', RETRY_BASE_MS: '50', LOG_LEVEL: 'warn' } });
    try {
      const url = lenient.service.url;
      const wk = basic(lenient.writeKey);
      expect((await postJson(`${url}/v1/batch`, { batch: [{ type: 'identify', userId: 'del-lenient', traits: { email: 'l@example.com' } }] }, wk)).status).toBe(200);
      await waitForDrain(lenient.service);
      expect(profiles(lenient).has('del-lenient')).toBe(true);
      expect((await postJson(`${url}/v1/track`, { type: 'track', event: 'User Deleted', userId: 'del-lenient' }, wk)).status).toBe(200);
      await waitForDrain(lenient.service);
      expect(profiles(lenient).has('del-lenient')).toBe(false);
    } finally {
      await lenient.stop();
    }
  });
});
