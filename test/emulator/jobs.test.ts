import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, type Client } from './signed-request.ts';

const account = { apiKey: 'job-key', secret: 'job-secret' };
let emulator: RunningEmulator;
let client: Client;
let files: Server;
let filesUrl: string;

const NDJSON = [
  JSON.stringify({ extid: 'bf-1', email: 'bf1@example.com', vars: { plan: 'gold' } }),
  JSON.stringify({ email: 'bf2@example.com', vars: { plan: 'silver' }, lists: { Backfill: 1 } }),
  'not json',
  '',
].join('\n');

beforeAll(async () => {
  // Jobs never complete on their own here: the test decides when (no timing in assertions).
  emulator = await startEmulator({ ...account, jobDelayMs: 3_600_000 });
  client = clientFor(emulator.url, account);
  files = createServer((req, res) => {
    if (req.url === '/users.ndjson') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(NDJSON);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await emulator.close();
  await new Promise((resolve) => files.close(resolve));
});
beforeEach(() => emulator.reset());

async function job(jobId: string): Promise<Record<string, unknown>> {
  const res = await client.get('/job', { job_id: jobId });
  expect(res.status).toBe(200);
  return res.body;
}

describe('jobs', () => {
  it('runs an update job with inline data: pending, then completed and applied', async () => {
    await client.post('/user', { id: 'existing', key: 'extid', vars: { keep: 1 } });
    const post = await client.post('/job', {
      job: 'update',
      data: [
        { extid: 'existing', vars: { score: 5 } },
        { extid: 'fresh', email: 'fresh@example.com', vars: { score: 1 } },
        { vars: { orphan: true } },
      ],
      update: { lists: { Imported: 1 } },
    });
    expect(post.status).toBe(200);
    expect(post.body).toMatchObject({ name: 'Bulk Update', status: 'pending' });
    const jobId = String(post.body.job_id);
    expect(jobId).toMatch(/^[0-9a-f]{24}$/);
    expect(await job(jobId)).toMatchObject({ status: 'pending' });
    expect(emulator.state({ key: 'extid', id: 'fresh' }).profiles).toEqual([]);

    await emulator.runPendingJobs();

    const done = await job(jobId);
    expect(done).toMatchObject({ status: 'completed', processed: 2, failed: 1 });
    expect(done.errors).toEqual(['line 3: line names no user (id+key, extid, email or sid)']);
    expect(String(done.start_time)).toMatch(/\+0000$/);
    expect(String(done.end_time)).toMatch(/\+0000$/);
    const existing = emulator.state({ key: 'extid', id: 'existing' }).profiles[0]!;
    expect(existing.vars).toEqual({ keep: 1, score: 5 });
    expect(Object.keys(existing.lists)).toEqual(['Imported']);
    expect(emulator.state({ key: 'extid', id: 'fresh' }).profiles[0]!.keys.email).toBe('fresh@example.com');
  });

  it('reads an update job from an NDJSON url over loopback', async () => {
    const post = await client.post('/job', { job: 'update', url: `${filesUrl}/users.ndjson` });
    await fetch(`${emulator.url}/_emulator/jobs/run`, { method: 'POST' });
    const done = await job(String(post.body.job_id));
    expect(done).toMatchObject({ status: 'completed', processed: 2, failed: 1, url: `${filesUrl}/users.ndjson` });
    expect(emulator.state({ key: 'extid', id: 'bf-1' }).profiles[0]).toMatchObject({ keys: { email: 'bf1@example.com' }, vars: { plan: 'gold' } });
    expect(Object.keys(emulator.state({ id: 'bf2@example.com' }).profiles[0]!.lists)).toEqual(['Backfill']);
  });

  it('ends in status error when the url cannot be read', async () => {
    const post = await client.post('/job', { job: 'update', url: `${filesUrl}/missing.ndjson` });
    await emulator.runPendingJobs();
    const done = await job(String(post.body.job_id));
    expect(done.status).toBe('error');
    expect(String(done.errormsg)).toContain('HTTP 404');
  });

  it('runs an import job that adds emails to a list', async () => {
    const post = await client.post('/job', { job: 'import', list: 'Weekly', emails: 'a@example.com, b@example.com' });
    expect(post.body).toMatchObject({ name: 'List Import: Weekly', status: 'pending' });
    await emulator.runPendingJobs();
    expect(await job(String(post.body.job_id))).toMatchObject({ status: 'completed', processed: 2 });
    const profiles = emulator.state().profiles;
    expect(profiles.map((p) => [p.keys.email, Object.keys(p.lists)])).toEqual([
      ['a@example.com', ['Weekly']],
      ['b@example.com', ['Weekly']],
    ]);
  });

  it('completes by itself after the configured delay', async () => {
    const quick = await startEmulator({ ...account, jobDelayMs: 0 });
    try {
      const quickClient = clientFor(quick.url, account);
      const post = await quickClient.post('/job', { job: 'update', emails: ['q@example.com'], update: { vars: { q: 1 } } });
      let status = 'pending';
      for (let i = 0; i < 200 && status === 'pending'; i++) {
        status = String((await quickClient.get('/job', { job_id: post.body.job_id })).body.status);
        if (status === 'pending') await new Promise((r) => setTimeout(r, 10));
      }
      expect(status).toBe('completed');
      expect(quick.state({ id: 'q@example.com' }).profiles[0]!.vars).toEqual({ q: 1 });
    } finally {
      await quick.close();
    }
  });

  it('validates job requests', async () => {
    expect((await client.post('/job', { emails: 'a@example.com' })).body).toEqual({ error: 2, errormsg: 'Missing required parameter: job' });
    expect((await client.post('/job', { job: 'import', emails: 'a@example.com' })).body).toEqual({ error: 2, errormsg: 'Missing required parameter: list' });
    expect((await client.post('/job', { job: 'update' })).body.error).toBe(2);
    expect((await client.post('/job', { job: 'snapshot' })).body.error).toBe(99);
    expect((await client.get('/job', { job_id: 'nope' })).body).toEqual({ error: 99, errormsg: 'Unknown job_id: nope' });
  });
});
