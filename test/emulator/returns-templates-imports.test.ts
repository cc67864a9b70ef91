import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { clientFor, type Client } from './signed-request.ts';

const account = { apiKey: 'ret-key', secret: 'ret-secret' };
const ITEM = { id: 'sku-1', title: 'Mug', qty: 2, price: 1250, url: 'https://shop.example/p/sku-1' };

describe('POST /return', () => {
  let emulator: RunningEmulator;
  let client: Client;
  beforeAll(async () => {
    emulator = await startEmulator(account);
    client = clientFor(emulator.url, account);
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.reset());

  it('records a return on the profile found by email, each item with its order_id', async () => {
    await client.post('/purchase', { email: 'buyer@example.com', items: [ITEM], purchase_keys: { extid: 'o-1' } });
    const res = await client.post('/return', { email: 'Buyer@example.com', items: [{ ...ITEM, qty: 1, order_id: 'o-1' }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ return: { qty: 1, price: 1250 } });
    const state = emulator.state({ key: 'email', id: 'buyer@example.com' });
    expect(state.returns).toHaveLength(1);
    expect(state.returns[0]).toMatchObject({ email: 'buyer@example.com', sid: state.profiles[0]!.sid, qty: 1, price: 1250 });
    expect(state.returns[0]!.items[0]).toMatchObject({ id: 'sku-1', order_id: 'o-1', price: 1250 });
    expect(emulator.state().counts.returns).toBe(1);
  });

  it('checks the email and the items as a purchase does', async () => {
    expect((await client.post('/return', { email: 'nope', items: [ITEM] })).body).toMatchObject({ error: 11 });
    expect((await client.post('/return', { email: 'a@example.com' })).body).toMatchObject({ error: 2 });
    expect((await client.post('/return', { email: 'a@example.com', items: [] })).body).toMatchObject({ error: 99, errormsg: 'No items in return' });
    const cents = await client.post('/return', { email: 'a@example.com', items: [{ ...ITEM, price: 12.5 }] });
    expect(cents.body).toMatchObject({ error: 99 });
    expect(String(cents.body.errormsg)).toContain('integer number of cents');
    expect(emulator.state().returns).toEqual([]);
  });
});

describe('templates given at start', () => {
  let emulator: RunningEmulator;
  let client: Client;
  beforeAll(async () => {
    emulator = await startEmulator({ ...account, templates: ['receipt', 'cart-reminder'] });
    client = clientFor(emulator.url, account);
  });
  afterAll(() => emulator.close());

  it('answers an unknown send_template or reminder_template with error 14 and records nothing', async () => {
    const receipt = await client.post('/purchase', { email: 'a@example.com', items: [ITEM], send_template: 'reciept' });
    expect(receipt.status).toBe(400);
    expect(receipt.body).toEqual({ error: 14, errormsg: 'Unknown template: reciept' });
    const cart = await client.post('/purchase', {
      email: 'a@example.com', items: [ITEM], incomplete: 1, reminder_template: 'abandoned', reminder_time: '+1 hours',
    });
    expect(cart.body).toEqual({ error: 14, errormsg: 'Unknown template: abandoned' });
    expect(emulator.state().counts).toMatchObject({ purchases: 0, carts: 0 });

    expect((await client.post('/purchase', { email: 'a@example.com', items: [ITEM], send_template: 'receipt' })).body).toHaveProperty('purchase');
    const known = await client.post('/purchase', {
      email: 'a@example.com', items: [ITEM], incomplete: 1, reminder_template: 'cart-reminder', reminder_time: '+1 hours',
    });
    expect(known.body).toHaveProperty('purchase');
  });

  it('accepts any name when no templates were given', async () => {
    const open = await startEmulator(account);
    try {
      const res = await clientFor(open.url, account).post('/purchase', { email: 'a@example.com', items: [ITEM], send_template: 'anything' });
      expect(res.body).toHaveProperty('purchase');
    } finally {
      await open.close();
    }
  });
});

describe('purchase_import jobs', () => {
  let emulator: RunningEmulator;
  let client: Client;
  beforeAll(async () => {
    // The test decides when jobs run (no timing in assertions).
    emulator = await startEmulator({ ...account, jobDelayMs: 3_600_000, templates: ['receipt'] });
    client = clientFor(emulator.url, account);
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.reset());

  it('records each line as a completed purchase and reports the lines it refused', async () => {
    const post = await client.post('/job', {
      job: 'purchase_import',
      data: [
        { email: 'old@example.com', items: [ITEM], date: '2023-01-02T03:04:05Z', purchase_keys: { extid: 'o-9' } },
        { email: 'old@example.com', items: [{ ...ITEM, price: 9.99 }] },
        { email: 'cart@example.com', items: [ITEM], incomplete: 1 },
        { email: 'bad', items: [ITEM] },
        { email: 'x@example.com', items: [ITEM], send_template: 'nope' },
      ],
    });
    expect(post.body).toMatchObject({ name: 'Purchase Import', status: 'pending' });
    expect(emulator.state().purchases).toEqual([]);
    await emulator.runPendingJobs();

    const done = await client.get('/job', { job_id: String(post.body.job_id) });
    expect(done.body).toMatchObject({ job: 'purchase_import', status: 'completed', processed: 1, failed: 4 });
    expect(done.body.errors).toEqual([
      'line 2: Invalid price for item sku-1: 9.99 (must be an integer number of cents)',
      'line 3: incomplete purchases (carts) cannot be imported',
      'line 4: Invalid email: bad',
      'line 5: Unknown template: nope',
    ]);
    const purchases = emulator.state().purchases;
    expect(purchases).toHaveLength(1);
    expect(purchases[0]).toMatchObject({ email: 'old@example.com', time: 'Mon, 2 Jan 2023 03:04:05 +0000', purchase_keys: { extid: 'o-9' } });
  });

  it('refuses emails as the source of a purchase import', async () => {
    const post = await client.post('/job', { job: 'purchase_import', emails: 'a@example.com' });
    expect(post.body).toMatchObject({ error: 99 });
  });
});
