import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, runCli, startStack, until, WRITE_KEY, type Stack } from './helpers.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

// Each run starts the CLI in a child process: seconds apiece on a loaded machine.
describe('delete-user', { timeout: 120_000 }, () => {
  it("queues the deletion behind the user's events, and Sailthru deletes the profile", async () => {
    const res = await fetch(`${stack.url}/v1/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
      body: JSON.stringify({ userId: 'leaving-1', traits: { email: 'leaving@example.com', plan: 'pro' } }),
    });
    expect(res.status).toBe(200);

    const run = await runCli(['delete-user', 'leaving-1', '--url', stack.url, '--admin-token', ADMIN_TOKEN]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Deletion of leaving-1 \(destination default\) queued \(event \d+, messageId \S+\): it is sent to Sailthru after the events of that user already queued\.\n$/);

    const deleted = await until(() => stack.emulator.state().deletedUsers.find((d) => d.keys.extid === 'leaving-1'));
    expect(deleted.reason).toBe('deleted');
    expect(deleted.keys.email).toBe('leaving@example.com');
    expect(stack.emulator.state({ key: 'extid', id: 'leaving-1' }).profiles).toEqual([]);
  });

  it('names the destination problem the server reports', async () => {
    const run = await runCli(['delete-user', 'someone', '--destination', 'no-such-destination', '--url', stack.url], { env: { ADMIN_TOKEN } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/POST \/api\/users\/someone\/delete failed: HTTP 404: .*no-such-destination/);
  });
});
