import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStatus } from '../../src/delivery/store.ts';
import { ndjson, runCli, startStack, until, WRITE_KEY, type Stack } from './helpers.ts';

const ACCEPTED: EventStatus[] = ['pending', 'retrying', 'delivered', 'skipped', 'failed'];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function storedMessageIds(prefix: string): Promise<string[]> {
  const ids: string[] = [];
  let beforeId: number | undefined;
  for (;;) {
    // Refused events are kept in the delivery log too (status rejected); these are the stored ones.
    const page = await stack.service.store.search({ limit: 500, status: ACCEPTED, ...(beforeId !== undefined ? { beforeId } : {}) });
    for (const e of page.events) if (e.messageId?.startsWith(prefix)) ids.push(e.messageId);
    if (page.nextBeforeId === null) return ids.sort();
    beforeId = page.nextBeforeId;
  }
}

// Each run starts the CLI in a child process: seconds apiece on a loaded machine.
describe('send', { timeout: 120_000 }, () => {
  it('posts an NDJSON file in batches, and the events reach Sailthru', async () => {
    const events = Array.from({ length: 250 }, (_, i) =>
      i % 2 === 0
        ? { type: 'identify', userId: `good-${i}`, messageId: `good-${String(i).padStart(3, '0')}`, traits: { email: `good${i}@example.com`, plan: 'pro' } }
        : { type: 'track', userId: `good-${i - 1}`, messageId: `good-${String(i).padStart(3, '0')}`, event: 'Article Read', properties: { n: i } },
    );
    const path = stack.file('good.ndjson', ndjson(events));
    const run = await runCli(['send', path, '--url', stack.url, '--write-key', WRITE_KEY, '--batch-size', '100']);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('250 events to');
    expect(run.stdout).toContain('in 3 requests: 250 accepted, 0 rejected, 0 invalid.');
    expect(await storedMessageIds('good-')).toEqual(events.map((e) => e.messageId).sort());
    const profile = await until(() => stack.emulator.state({ key: 'extid', id: 'good-248' }).profiles[0]);
    expect(profile.keys.email).toBe('good248@example.com');
  });

  it('reports bad lines by line number, says why the server refused events, and sends everything else', async () => {
    const lines = [
      JSON.stringify({ type: 'track', userId: 'mixed-1', event: 'First', messageId: 'mixed-1' }),
      '{"type": "track", "userId": "mixed-2", "event": }',
      '',
      JSON.stringify({ type: 'identify', userId: 'mixed-3', messageId: 'mixed-3', traits: { email: 'mixed3@example.com' } }),
      JSON.stringify({ type: 'track', event: 'No Ids', messageId: 'mixed-5' }),
      '{"type": "track", "userId": "mixed-6"',
      JSON.stringify({ type: 'track', userId: 'mixed-7', messageId: 'mixed-7', properties: {} }),
      JSON.stringify({ type: 'page', userId: 'mixed-8', messageId: 'mixed-8', properties: { url: 'https://example.com/' } }),
    ];
    const path = stack.file('mixed.ndjson', lines.join('\n'));
    const run = await runCli(['send', path, '--url', stack.url, '--write-key', WRITE_KEY, '--batch-size', '2']);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/mixed\.ndjson: 7 events to/);
    expect(run.stdout).toContain('3 accepted, 2 rejected, 2 invalid.');
    expect(run.stdout).toContain("line 2 is not JSON (unexpected '}' at column 49)");
    expect(run.stdout).toContain('line 6 is not JSON (unexpected end of input');
    expect(run.stdout).toContain('line 5: the event has neither userId nor anonymousId');
    expect(run.stdout).toContain('line 7: a track event needs an event name');
    expect(run.stdout).toContain('Not everything was accepted (exit status 1).');
    // The valid lines around the bad ones were all stored.
    expect(await storedMessageIds('mixed-')).toEqual(['mixed-1', 'mixed-3', 'mixed-8']);
  });

  it('reads a JSON array from standard input, with the write key from WRITE_KEY', async () => {
    const events = [
      { type: 'track', userId: 'stdin-1', event: 'From Stdin', messageId: 'stdin-1' },
      { type: 'track', userId: 'stdin-2', messageId: 'stdin-2' },
      { type: 'identify', userId: 'stdin-3', messageId: 'stdin-3' },
    ];
    const run = await runCli(['send', '-', '--url', stack.url], { stdin: JSON.stringify(events, null, 2), env: { WRITE_KEY } });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('standard input: 3 events');
    expect(run.stdout).toContain('2 accepted, 1 rejected, 0 invalid.');
    expect(run.stdout).toContain('item 2: a track event needs an event name');
    expect(await storedMessageIds('stdin-')).toEqual(['stdin-1', 'stdin-3']);
  });

  it('keeps the top-level context of a batch file', async () => {
    const body = {
      batch: [{ type: 'track', userId: 'batch-1', event: 'In A Batch', messageId: 'batch-1' }],
      context: { library: { name: 'exporter', version: '1.0' } },
    };
    const path = stack.file('batch.json', JSON.stringify(body));
    const run = await runCli(['send', path, '--url', stack.url, '--write-key', WRITE_KEY]);

    expect(run.code).toBe(0);
    const page = await stack.service.store.search({ messageId: 'batch-1' });
    expect(page.events[0]?.payload).toMatchObject({ context: { library: { name: 'exporter' } } });
  });

  it('stops at a refused write key and counts what was not sent', async () => {
    const path = stack.file('refused.ndjson', ndjson([{ type: 'track', userId: 'x', event: 'X' }, { type: 'track', userId: 'y', event: 'Y' }]));
    const run = await runCli(['send', path, '--url', stack.url, '--write-key', 'not-a-key']);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('0 accepted, 0 rejected, 0 invalid, 2 not sent.');
    expect(run.stdout).toContain('Stopped early: the server refused the write key (HTTP 401');
    expect(run.stdout + run.stderr).not.toContain('not-a-key');
  });

  it('says what is missing without a write key (exit 2)', async () => {
    const path = stack.file('nokey.ndjson', ndjson([{ type: 'track', userId: 'x', event: 'X' }]));
    const run = await runCli(['send', path, '--url', stack.url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a write key is needed: --write-key KEY or the WRITE_KEY environment variable');
  });

  it('says when the file cannot be read (exit 2)', async () => {
    const run = await runCli(['send', `${stack.dir}/missing.ndjson`, '--url', stack.url, '--write-key', WRITE_KEY]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('missing.ndjson: ENOENT');
  });
});
