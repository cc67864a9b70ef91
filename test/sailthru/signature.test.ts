import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { signature, signatureValues, signedParams } from '../../src/sailthru/signature.ts';

// Vectors from reference/sailthru-api.md §1.3, verified there against Sailthru's own clients.
const SEED_BODY =
  '{"id":"14092348","key":"extid","event":"Played Game","vars":{"levels_0":1,"levels_1":2,"levels_2":3,"arcade_blips and chitz_planet":"Parblesnops","arcade_galaxy_coordinates":"1232.4832","arcade_games_0":"Roy: A life well lived","arcade_games_1":"Whack a mole"}}';

const sig = (apiKey: string, json: string) => signature({ api_key: apiKey, format: 'json', json }, '1324qwerty');

describe('Sailthru signature', () => {
  it('matches the seed vector', () => {
    expect(sig('abcd12345', SEED_BODY)).toBe('4c76e3b5b8e355a7e0647a2df6908efb');
  });

  it('sorts the values, so a key after "json" differs from the naive concatenation', () => {
    expect(sig('zz-key', SEED_BODY)).toBe('a147519151037c82f00cda5c77fc5276');
    const naive = createHash('md5').update('1324qwerty' + 'zz-key' + 'json' + SEED_BODY).digest('hex');
    expect(naive).toBe('542266261e4aa2c47fb7984ea06e5c0c');
    expect(sig('zz-key', SEED_BODY)).not.toBe(naive);
  });

  it('matches the cart lookup vector', () => {
    expect(sig('abcd12345', '{"id":"user-1","key":"extid","fields":{"keys":1,"purchase_incomplete":1}}')).toBe(
      'fb44ad8f38cd4eb2a5a48a1fc023d2d2',
    );
  });

  it('hashes UTF-8 text as UTF-8', () => {
    expect(sig('abcd12345', '{"id":"u","vars":{"n":"Zoë ✓"}}')).toBe('0e3f86290ba95ea6c0687c70908fff77');
  });

  it('collects nested values like the official clients (ruby vector)', () => {
    const values = signatureValues({
      name: 'Unix',
      myvar: [1111, 2],
      api_key: '363636avdsfdfd',
      myvar2: { myvar3: 'hello', myvar4: ['hello', 'world'] },
    }).sort();
    expect(values).toEqual(['1111', '2', '363636avdsfdfd', 'Unix', 'hello', 'hello', 'world']);
  });

  it('signs exactly the JSON string it sends and never includes the secret', () => {
    const payload = { id: 'u', vars: { n: 'Zoë ✓' } };
    const params = signedParams('abcd12345', '1324qwerty', payload);
    expect(params.json).toBe('{"id":"u","vars":{"n":"Zoë ✓"}}');
    expect(params.sig).toBe('0e3f86290ba95ea6c0687c70908fff77');
    expect(Object.keys(params).sort()).toEqual(['api_key', 'format', 'json', 'sig']);
    expect(JSON.stringify(params)).not.toContain('1324qwerty');
  });
});
