import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postJson, startStack, waitForDrain, type Stack } from '../e2e/harness.ts';
import { reportFigures } from './support/figures.ts';

// Issue 9, retention: what the delivery log keeps and for how long, and what that means for
// dedupe. The service prunes every 15 minutes with RETENTION_DAYS; here the same store call runs
// with a cutoff in the future, as if those days had passed.
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { RETRY_BASE_MS: '20', LOG_LEVEL: 'warn' } });
});
afterAll(() => stack?.stop());

const post = (batch: unknown[]) => postJson(`${stack.service.url}/v1/batch`, { batch }, basic(stack.writeKey));
const applied = (messageIdVar: string) =>
  stack.emulator.requests({ path: '/event' }).filter((r) => r.status === 200 && r.errorCode === null && (r.payload as { vars?: { mid?: string } }).vars?.mid === messageIdVar).length;
const statusOf = async (messageId: string) => (await stack.service.store.search({ messageId, limit: 5 })).events.map((e) => e.status);

describe('retention', () => {
  it('keeps delivered events (and dedupe) until pruned, dead letters and queued events until handled', async () => {
    const track = (messageId: string, userId = 'ret-user') => ({ type: 'track', userId, messageId, event: 'Kept', properties: { mid: messageId } });
    expect((await post([track('ret-1'), track('ret-2'), { type: 'track', userId: 'ret-dl', messageId: 'ret-dead', event: 'send' }])).status).toBe(200);
    await waitForDrain(stack.service);
    expect(await statusOf('ret-1')).toEqual(['delivered']);
    expect(await statusOf('ret-dead')).toEqual(['failed']);

    // Within retention a client's retry of the same messageId is stored once, delivered once.
    expect((await post([track('ret-1')])).status).toBe(200);
    await waitForDrain(stack.service);
    expect(applied('ret-1')).toBe(1);

    // Queued events: held by a paused destination.
    await stack.service.store.pauseDestination('default', 'retention test');
    expect((await post([track('ret-queued', 'ret-user-2')])).status).toBe(200);

    // RETENTION_DAYS later: the final events go, the dead letter and the queued event stay.
    const pruned = await stack.service.store.prune({ olderThan: new Date(Date.now() + 60_000) });
    expect(await statusOf('ret-1')).toEqual([]);
    expect(await statusOf('ret-2')).toEqual([]);
    expect(await statusOf('ret-dead')).toEqual(['failed']);
    expect(await statusOf('ret-queued')).toEqual(['pending']);

    await stack.service.store.resumeDestination('default');
    await waitForDrain(stack.service);
    expect(await statusOf('ret-queued')).toEqual(['delivered']);

    // Dedupe lasts as long as the event is kept: after the prune the same messageId is new again.
    expect((await post([track('ret-1')])).status).toBe(200);
    await waitForDrain(stack.service);
    expect(applied('ret-1')).toBe(2);
    reportFigures('retention', { pruned, deadLettersKept: 1, queuedKept: 1, dedupeAfterPrune: false });
  }, 60_000);
});
