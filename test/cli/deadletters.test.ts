import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { ADMIN_TOKEN, BIN, ROOT, runCli, startStack, until, WRITE_KEY, type Stack } from './helpers.ts';

let stack: Stack;
const ids: Record<string, number> = {};

/** Events Sailthru refuses for good (reserved names): each ends as a dead letter. */
const DOOMED = [
  { type: 'track', userId: 'dl-1', event: 'send', messageId: 'dl-send-1' },
  { type: 'track', userId: 'dl-2', event: 'send', messageId: 'dl-send-2' },
  { type: 'track', userId: 'dl-3', event: 'send', messageId: 'dl-send-3' },
  { type: 'track', userId: 'dl-1', event: 'purchase', messageId: 'dl-purchase-1' },
];

beforeAll(async () => {
  stack = await startStack();
  const res = await fetch(`${stack.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
    body: JSON.stringify({ batch: DOOMED }),
  });
  expect(res.status).toBe(200);
  await until(async () => {
    const page = await stack.service.store.search({ status: 'failed' });
    return page.events.length === DOOMED.length ? page : undefined;
  });
  for (const e of (await stack.service.store.search({ status: 'failed' })).events) ids[e.messageId as string] = e.id;
});
afterAll(async () => {
  await stack?.stop();
});

const admin = (...args: string[]) => runCli(['deadletters', ...args, '--url', stack.url], { env: { ADMIN_TOKEN } });

// Each run starts the CLI in a child process: seconds apiece on a loaded machine.
describe('deadletters', { timeout: 120_000 }, () => {
  it('lists dead letters in a table, with why they failed', async () => {
    const run = await admin('list');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\s*ID\s+RECEIVED\s+DESTINATION\s+USER\s+EVENT\s+ATTEMPTS\s+ERROR$/);
    const rows = lines.slice(2, -1);
    expect(rows).toHaveLength(4);
    const row = rows.find((l) => l.trim().startsWith(`${ids['dl-send-2']} `)) ?? '';
    expect(row).toContain('dl-2');
    expect(row).toContain('send');
    expect(row).toContain('Sailthru rejects the event name "send"');
    expect(lines.at(-1)).toBe('4 dead letters shown.');
  });

  it('filters by user and event, and prints JSON', async () => {
    const byUser = await admin('list', '--user', 'dl-1', '--json');
    expect(byUser.code).toBe(0);
    const listed = JSON.parse(byUser.stdout) as { events: Array<{ id: number; userId: string; event: string }> };
    expect(listed.events.map((e) => e.id).sort()).toEqual([ids['dl-send-1'], ids['dl-purchase-1']].sort());

    const byEvent = await admin('list', '--event', 'purchase', '--since', '1h');
    expect(byEvent.stdout).toContain('1 dead letter shown.');
    const none = await admin('list', '--until', '2000-01-01T00:00:00Z');
    expect(none.stdout).toBe('No dead letters.\n');
  });

  it('retries dead letters by id: they are delivered again (and fail again)', async () => {
    const id = ids['dl-send-3'] as number;
    const run = await admin('retry', String(id));
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('1 dead letter queued for delivery again.\n');
    const detail = await until(async () => {
      const d = await stack.service.store.getEvent(id);
      return d && d.event.status === 'failed' && d.event.attempts === 2 ? d : undefined;
    });
    expect(detail.attempts).toHaveLength(2);
  });

  it('refuses to act on nothing in particular', async () => {
    const run = await admin('retry');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('say which dead letters to retry: event ids, filters');
    const both = await admin('drop', '1', '--user', 'dl-1');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give event ids or filters');
  });

  it('drops dead letters by filter, then all of them', async () => {
    const one = await admin('drop', '--event', 'purchase');
    expect(one.code).toBe(0);
    expect(one.stdout).toBe('1 dead letter dropped.\n');
    expect((await stack.service.store.getEvent(ids['dl-purchase-1'] as number))?.event).toMatchObject({ status: 'dropped', droppedBy: 'admin' });

    const rest = await admin('drop', '--all');
    expect(rest.stdout).toBe('3 dead letters dropped.\n');
    expect((await admin('list')).stdout).toBe('No dead letters.\n');
  });

  it('names ids it could not act on (not found, not a dead letter) and exits 1', async () => {
    const missing = await admin('retry', '999999');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('0 dead letters queued for delivery again.\n');
    expect(missing.stderr).toBe('sailthru-destination: not retried: HTTP 404: Event 999999 not found\n');
    // Dropped above: no longer a dead letter; one id found, one not.
    const dropped = ids['dl-purchase-1'] as number;
    const mixed = await admin('drop', String(dropped), '999998');
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain(`not dropped: HTTP 409: Event ${dropped} is dropped: only dead letters (failed) can be retried or dropped`);
    expect(mixed.stderr).toContain('not dropped: HTTP 404: Event 999998 not found');
  });

  it('stops quietly when its reader closes the pipe (deadletters list | head)', async () => {
    const child = spawn(process.execPath, [BIN, 'deadletters', 'list', '--url', stack.url], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ADMIN_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the CLI writes a byte (it writes after the server answers): its write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });

  it('says when the admin token is wrong or missing, without echoing it', async () => {
    const wrong = await runCli(['deadletters', 'list', '--url', stack.url, '--admin-token', 'wrong-token-xyz']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the server refused the admin token (HTTP 401: Wrong admin token)');
    expect(wrong.stderr).not.toContain('wrong-token-xyz');

    const missing = await runCli(['deadletters', 'list', '--url', stack.url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("the admin API needs the server's token");
  });
});
