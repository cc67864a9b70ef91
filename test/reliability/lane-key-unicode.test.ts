import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postJson, startStack, waitForDrain, type Stack } from '../e2e/harness.ts';

// Found by the hostile-input fuzzer: an event whose userId or anonymousId holds a lone UTF-16
// surrogate (sent as the JSON escape "\ud800", which JSON.parse turns into a lone surrogate)
// is acknowledged with 200 and then never delivered.
//
// What it found: SQLite stored the lone surrogate's bytes (ED A0 80, not valid UTF-8) and read
// the lane key back with U+FFFD in their place, so the key the worker claimed no longer equalled
// the stored one and the lane never drained. Ingest now replaces lone surrogates in ids and names
// with U+FFFD, once, as any UTF-8 store would (src/segment/event-rules.ts), so stored means
// delivered.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { RETRY_BASE_MS: '20', LOG_LEVEL: 'warn' } });
});
afterAll(() => stack?.stop());

describe('lane keys with unusual unicode', () => {
  it('well-formed but unusual keys (RTL marks, U+0000, emoji, combining marks) are delivered in order', async () => {
    // An id of only whitespace counts as missing (issue 14, test/segment/normalize.test.ts); one
    // with spaces around text is kept exactly.
    const keys = ['\u202eevil\u202c', 'a\u0000b', '😀👩‍👩‍👧‍👦', 'Z̷̢̛̖a̶͎l̴g̸o̶', '\ufeffbom', ' a '];
    const batch = keys.flatMap((userId, u) => [0, 1, 2].map((seq) => ({ type: 'track', userId, messageId: `wk-${u}-${seq}`, event: 'Step', properties: { seq } })));
    expect((await postJson(`${stack.service.url}/v1/batch`, { batch }, basic(stack.writeKey))).status).toBe(200);
    await waitForDrain(stack.service, 30_000);
    for (const id of keys) {
      const seqs = stack.emulator
        .requests({ path: '/event' })
        .filter((r) => r.status === 200 && (r.payload as { id: string }).id === id)
        .map((r) => (r.payload as { vars: { seq: number } }).vars.seq);
      expect({ id, seqs }).toEqual({ id, seqs: [0, 1, 2] });
    }
  }, 60_000);

  it('an event acknowledged with a lone surrogate in its userId is delivered (or refused at ingest, never stuck)', async () => {
    const body = '{"batch":[{"type":"track","userId":"x\\ud800y","messageId":"lone-1","event":"Lone"},{"type":"track","anonymousId":"\\udfff","messageId":"lone-2","event":"Lone"}]}';
    const res = await postJson(`${stack.service.url}/v1/batch`, body, basic(stack.writeKey));
    expect(res.status).toBe(200);
    const refused = ((res.json?.rejected as unknown[] | undefined) ?? []).length;
    // Whatever was stored must settle.
    await waitForDrain(stack.service, 10_000);
    const applied = stack.emulator.requests({ path: '/event' }).filter((r) => (r.payload as { event?: string }).event === 'Lone' && r.status === 200);
    expect(applied.length + refused).toBe(2);
  }, 30_000);
});
