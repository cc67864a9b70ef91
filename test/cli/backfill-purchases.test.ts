import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { API_KEY, runCli, SECRET } from './helpers.ts';

let emulator: RunningEmulator;
let dir: string;
beforeAll(async () => {
  // The account knows one template: a receipt sent with an imported order would be error 14 if misnamed, and mail old customers if not.
  emulator = await startEmulator({ port: 0, apiKey: API_KEY, secret: SECRET, jobDelayMs: 20, templates: ['receipt'] });
  dir = mkdtempSync(join(tmpdir(), 'cli-backfill-purchases-'));
});
beforeEach(() => emulator.reset());
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

const MUG = { product_id: 'sku-1', name: 'Mug', price: 12.5, quantity: 2, url: 'https://shop.example/p/sku-1' };
const credentials = () => ['--api-url', emulator.url, '--api-key', API_KEY, '--secret', SECRET, '--poll', '0.05'];

function file(name: string, lines: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  return path;
}

function order(userId: string, orderId: string, extra: Record<string, unknown> = {}, properties: Record<string, unknown> = {}) {
  return {
    type: 'track',
    event: 'Order Completed',
    userId,
    timestamp: '2023-03-04T05:06:07.000Z',
    properties: { order_id: orderId, tax: 1, products: [MUG], ...properties },
    ...extra,
  };
}

describe('backfill of historical purchases (purchase_import)', { timeout: 120_000 }, () => {
  it('uploads Order Completed lines as a purchase_import job after the update jobs, and shows the job\'s result per line', async () => {
    const path = file('history.ndjson', [
      // The order comes before the identify that gives its buyer's email: the file's order does not matter.
      order('buyer-1', 'o-1', {}, { sailthru_bid: 'bid-9' }),
      { type: 'identify', userId: 'buyer-1', traits: { email: 'buyer1@example.com' } },
      order('buyer-2', 'o-2', { context: { traits: { email: 'buyer2@example.com' } }, integrations: { Sailthru: { sendTemplate: 'reciept' } } }),
      order('buyer-3', 'o-3'),
      order('buyer-4', 'o-4', { timestamp: undefined, context: { traits: { email: 'b4@example.com' } } }),
      { type: 'track', event: 'Completed Order', userId: 'buyer-1', timestamp: '2023-05-06T00:00:00Z', properties: { products: [MUG] } },
    ]);
    const run = await runCli(['backfill', path, ...credentials(), '--lines-per-job', '2']);

    const out = run.stdout;
    expect(run.code, run.stderr).toBe(1);
    expect(out).toContain('history.ndjson: 6 entries → 1 update line in 1 job, 3 purchase lines in 2 jobs; 0 skipped, 2 invalid.');
    expect(out).toMatch(/job 1 \S+ \(line 2 to line 2, 1 user\): completed, 1 processed, 0 failed/);
    expect(out).toMatch(/job 2 \S+ \(line 1 to line 3, 2 purchases, purchase_import\): completed, 2 processed, 0 failed/);
    expect(out).toMatch(/job 3 \S+ \(line 6 to line 6, 1 purchase, purchase_import\): completed, 1 processed, 0 failed/);
    expect(out).toContain('line 4: no email for buyer-3: give context.traits.email on the order, or an identify with traits.email in the same file');
    expect(out).toContain('line 5: Order Completed has no readable timestamp');

    const jobs = emulator.state().jobs;
    expect(jobs.map((j) => [j.job, j.status])).toEqual([
      ['update', 'completed'],
      ['purchase_import', 'completed'],
      ['purchase_import', 'completed'],
    ]);
    // Bulk only: no per-order call.
    expect(emulator.requests({ method: 'POST' }).map((r) => r.path)).toEqual(['/job', '/job', '/job']);

    const one = emulator.state({ key: 'extid', id: 'buyer-1' });
    // Two jobs fetch their files at once: the order they land in is not the file's (their dates are).
    const byDate = [...one.purchases].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    expect(byDate.map((p) => [p.time, p.price, p.message_id, p.purchase_keys])).toEqual([
      ['Sat, 4 Mar 2023 05:06:07 +0000', 2600, 'bid-9', { extid: 'o-1' }],
      ['Sat, 6 May 2023 00:00:00 +0000', 2500, undefined, undefined],
    ]);
    // No receipts for old orders, whatever the event asks (a misnamed one would have failed the line with error 14).
    expect(emulator.state().purchases.every((p) => p.send_template === undefined)).toBe(true);
    expect(emulator.state({ key: 'email', id: 'buyer2@example.com' }).purchases).toHaveLength(1);
  });

  it('prints purchase lines after the update lines with --dry-run', async () => {
    const noUrl = { product_id: 'sku 9', price: 1 };
    const path = file('dry.ndjson', [
      order('d-1', 'o-1', { context: { traits: { email: 'd1@example.com' } } }),
      { type: 'identify', userId: 'd-2' },
      order('d-3', 'o-3', { context: { traits: { email: 'd3@example.com' } } }, { products: [noUrl] }),
    ]);
    const run = await runCli(['backfill', path, '--dry-run', '--product-base-url', 'https://shop.example/p']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ extid: 'd-2' });
    expect(lines[1]).toMatchObject({
      email: 'd1@example.com',
      incomplete: 0,
      date: '2023-03-04T05:06:07.000Z',
      purchase_keys: { extid: 'o-1' },
      adjustments: [{ title: 'tax', price: 100 }],
      items: [{ id: 'sku-1', qty: 2, price: 1250 }],
    });
    // --product-base-url, as the productBaseUrl setting: the last fallback for an item's url.
    expect((lines[2]!.items as Array<{ url: string }>)[0]!.url).toBe('https://shop.example/p/sku%209');
    expect(run.stderr).toContain('dry.ndjson: 3 entries → 1 update line, 2 purchase lines (dry run, nothing sent).');
    expect(emulator.requests()).toEqual([]);
  });
});
