import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { API_KEY, ndjson, runCli, SECRET } from './helpers.ts';

let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  // Backfill talks to Sailthru itself: only the emulator is needed.
  emulator = await startEmulator({ port: 0, apiKey: API_KEY, secret: SECRET, jobDelayMs: 20 });
  dir = mkdtempSync(join(tmpdir(), 'cli-backfill-'));
});
beforeEach(() => emulator.reset());
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const credentials = () => ['--api-url', emulator.url, '--api-key', API_KEY, '--secret', SECRET, '--poll', '0.05'];

// Each run starts the CLI in a child process: seconds apiece on a loaded machine.
describe('backfill', { timeout: 120_000 }, () => {
  it('turns identify events into update jobs, follows them to the end and names every line it did not load', async () => {
    const lines = [
      JSON.stringify({ type: 'identify', userId: 'bf-1', traits: { email: 'BF1@example.com', name: 'Ada', address: { city: 'Berlin' } } }),
      JSON.stringify({ type: 'identify', userId: 'bf-2', anonymousId: 'anon-2', traits: { email: 'bf2@example.com', plan: 'pro' }, integrations: { Sailthru: { defaultListName: 'VIP' } } }),
      '{"type": "identify", "userId": "bf-3", ',
      JSON.stringify({ type: 'track', userId: 'bf-4', event: 'Signed Up' }),
      JSON.stringify({ type: 'identify', traits: { email: 'nobody@example.com' } }),
      JSON.stringify({ userId: 'bf-6', traits: { tags: ['a', 'b'] } }),
      JSON.stringify({ type: 'identify', userId: 'bf-7', traits: { email: 'bf7@example.com' }, integrations: { Sailthru: false } }),
      JSON.stringify({ type: 'identify', userId: 'bf-8', traits: { email: 'not-an-email' } }),
    ];
    const path = file('identifies.ndjson', lines.join('\n'));
    const run = await runCli(['backfill', path, ...credentials(), '--list', 'Newsletter', '--lines-per-job', '2']);

    expect(run.code).toBe(1);
    const out = run.stdout;
    expect(out).toContain('identifies.ndjson: 8 entries → 4 update lines in 2 jobs; 2 skipped, 2 invalid.');
    expect(out).toMatch(/job 1 \S+ \(line 1 to line 2, 2 users\): completed, 2 processed, 0 failed/);
    // SPEC.md §0: the implausible address is left out (named in a warning), the rest of the update is loaded.
    expect(out).toMatch(/job 2 \S+ \(line 6 to line 8, 2 users\): completed, 2 processed, 0 failed/);
    expect(out).toContain('line 8: traits.email "not-an-email" is not a plausible email address; ignored');
    expect(out).toContain('line 4: a "track" event, not an identify');
    expect(out).toContain('line 7: integrations.Sailthru is false');
    expect(out).toMatch(/line 3: Invalid JSON: unexpected end of input/);
    expect(out).toContain('line 5: the event has neither userId nor anonymousId');

    // What Sailthru now holds: the identify mapping (flattened traits, email, list), in bulk.
    const one = emulator.state({ key: 'extid', id: 'bf-1' }).profiles[0];
    expect(one?.keys.email).toBe('bf1@example.com');
    expect(one?.vars).toEqual({ name: 'Ada', address_city: 'Berlin' });
    expect(Object.keys(one?.lists ?? {})).toEqual(['Newsletter']);
    const two = emulator.state({ key: 'extid', id: 'bf-2' }).profiles[0];
    expect(two?.vars).toEqual({ plan: 'pro' });
    expect(Object.keys(two?.lists ?? {})).toEqual(['VIP']);
    expect(emulator.state({ key: 'extid', id: 'bf-6' }).profiles[0]?.vars).toEqual({ tags_0: 'a', tags_1: 'b' });
    expect(emulator.state({ key: 'extid', id: 'bf-8' }).profiles[0]?.keys.email).toBeUndefined();
    for (const skipped of ['bf-3', 'bf-4', 'bf-7']) expect(emulator.state({ key: 'extid', id: skipped }).profiles).toEqual([]);

    const jobs = emulator.state().jobs;
    expect(jobs.map((j) => [j.job, j.status, j.processed, j.failed])).toEqual([
      ['update', 'completed', 2, 0],
      ['update', 'completed', 2, 0],
    ]);
    expect(jobs.every((j) => j.url?.startsWith('http://127.0.0.1:'))).toBe(true);
    // The bulk path: two job submissions, no per-user calls.
    expect(emulator.requests({ method: 'POST' }).map((r) => r.path)).toEqual(['/job', '/job']);
    // The file server is gone with the command.
    await expect(fetch(jobs[0]?.url as string)).rejects.toThrow();
  });

  it('exits 0 when every line is applied, reading standard input with credentials from the environment', async () => {
    const events = Array.from({ length: 30 }, (_, i) => ({ type: 'identify', userId: `clean-${i}`, traits: { email: `clean${i}@example.com`, n: i } }));
    const run = await runCli(['backfill', '-', '--poll', '0.05'], {
      stdin: ndjson(events),
      env: { SAILTHRU_API_URL: emulator.url, SAILTHRU_API_KEY: API_KEY, SAILTHRU_SECRET: SECRET },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/standard input: 30 entries → 30 update lines in 1 job; 0 skipped, 0 invalid\.\njob 1 \S+ \(line 1 to line 30, 30 users\): completed, 30 processed, 0 failed\n$/);
    expect(emulator.state().counts.profiles).toBe(30);
    expect(emulator.state({ key: 'extid', id: 'clean-29' }).profiles[0]?.vars).toEqual({ n: 29 });
  });

  it('prints the lines with --dry-run and sends nothing', async () => {
    const path = file('dry.json', JSON.stringify([{ type: 'identify', userId: 'dry-1', traits: { email: 'dry@example.com', prefs: { a: 1 } } }]));
    const run = await runCli(['backfill', path, '--dry-run', '--optout', 'basic']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"extid":"dry-1","email":"dry@example.com","vars":{"prefs_a":1},"optout_email":"basic"}\n');
    expect(run.stderr).toContain('dry.json: 1 entry → 1 update line (dry run, nothing sent).');
    expect(emulator.requests()).toEqual([]);
  });

  it('refuses to point real Sailthru at a loopback file server', async () => {
    const path = file('real.ndjson', ndjson([{ type: 'identify', userId: 'r' }]));
    const run = await runCli(['backfill', path, '--api-url', 'https://api.sailthru.com', '--api-key', 'k', '--secret', 's']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot download job files from 127.0.0.1');
    expect(run.stderr).toContain('--file-url-base');
  });

  it('says which credentials are missing', async () => {
    const path = file('nocreds.ndjson', ndjson([{ type: 'identify', userId: 'r' }]));
    const run = await runCli(['backfill', path, '--api-url', emulator.url]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('apiKey is required');
    expect(run.stderr).toContain('(--api-key / SAILTHRU_API_KEY)');
    expect(run.stderr).toContain('(--secret / SAILTHRU_SECRET)');
  });
});
