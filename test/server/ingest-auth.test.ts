import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { basicAuthUsername, destinationBySignature, firstEventSignedText } from '../../src/server/ingest-auth.ts';
import { BacklogGauge } from '../../src/server/ingest-backlog.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('basicAuthUsername', () => {
  it('reads the write key from "key:" and from "key:password"', () => {
    expect(basicAuthUsername(`Basic ${b64('wk_1:')}`)).toBe('wk_1');
    expect(basicAuthUsername(`basic ${b64('wk_1:pw:with:colons')}`)).toBe('wk_1');
    expect(basicAuthUsername(`Basic ${b64('wk_no_colon')}`)).toBe('wk_no_colon');
  });

  it('returns nothing for other schemes, an empty username or garbage', () => {
    for (const header of [undefined, '', 'Bearer abc', `Basic ${b64(':pw')}`, 'Basic !!!', 'Basic']) {
      expect(basicAuthUsername(header)).toBeUndefined();
    }
  });
});

describe('destinationBySignature', () => {
  const secrets = [
    { destinationId: 'd1', secret: 's1' },
    { destinationId: 'd2', secret: 's2' },
    { destinationId: 'd3', secret: '' },
  ];
  const sign = (text: string, secret: string) => createHmac('sha1', secret).update(text).digest('hex');

  it('finds the destination whose secret signed the text', () => {
    expect(destinationBySignature(sign('body', 's2'), ['body'], secrets)).toBe('d2');
    expect(destinationBySignature(` ${sign('body', 's1').toUpperCase()} `, [Buffer.from('body')], secrets)).toBe('d1');
  });

  it('never matches an empty secret, a wrong length or a wrong digest', () => {
    expect(destinationBySignature(sign('body', ''), ['body'], secrets)).toBeNull();
    expect(destinationBySignature(sign('body', 's1').slice(2), ['body'], secrets)).toBeNull();
    expect(destinationBySignature(`${sign('body', 's1')}00`, ['body'], secrets)).toBeNull();
    expect(destinationBySignature(sign('other', 's1'), ['body'], secrets)).toBeNull();
    expect(destinationBySignature(undefined, ['body'], secrets)).toBeNull();
  });
});

describe('firstEventSignedText', () => {
  it('gives the first element of an array body as JSON.stringify wrote it', () => {
    const events = [{ type: 'track', userId: 'u', event: 'É ✓', n: 1.5 }, { type: 'identify' }];
    const body = Buffer.from(`\n ${JSON.stringify(events)}`);
    expect(firstEventSignedText(body, () => JSON.parse(body.toString()))).toBe(JSON.stringify(events[0]));
  });

  it('is null for an object body or an empty array, without parsing an object body', () => {
    expect(firstEventSignedText(Buffer.from('{"a":1}'), () => expect.unreachable())).toBeNull();
    expect(firstEventSignedText(Buffer.from('[]'), () => [])).toBeNull();
  });
});

describe('BacklogGauge', () => {
  it('reuses a figure younger than maxAgeMs and shares one read between concurrent callers', async () => {
    let now = 1000;
    let reads = 0;
    let release: (value: number) => void = () => {};
    const gauge = new BacklogGauge(
      () => {
        reads++;
        return new Promise<number>((resolve) => (release = resolve));
      },
      100,
      () => now,
    );
    const first = gauge.current();
    const second = gauge.current();
    release(42);
    expect(await Promise.all([first, second])).toEqual([42, 42]);
    expect(reads).toBe(1);
    now += 99;
    expect(await gauge.current()).toBe(42);
    expect(reads).toBe(1);
    now += 1;
    const third = gauge.current();
    release(7);
    expect(await third).toBe(7);
    expect(reads).toBe(2);
  });

  it('reads again after a failed read', async () => {
    let fail = true;
    const gauge = new BacklogGauge(async () => {
      if (fail) throw new Error('busy');
      return 3;
    });
    await expect(gauge.current()).rejects.toThrow('busy');
    fail = false;
    expect(await gauge.current()).toBe(3);
  });
});
