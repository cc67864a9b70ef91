import { describe, expect, it } from 'vitest';
import { BoundedLog } from '../../src/emulator/bounded-log.ts';

describe('BoundedLog', () => {
  it('keeps the newest entries with their sequence numbers through many compactions', () => {
    const log = new BoundedLog<number>(4);
    for (let i = 1; i <= 1000; i++) expect(log.append(i)).toBe(i);
    expect(log.after()).toEqual([997, 998, 999, 1000]);
    expect(log.after(998)).toEqual([999, 1000]);
    expect(log.after(1000)).toEqual([]);
    expect(log.after(5)).toEqual([997, 998, 999, 1000]);
    expect(log.appended).toBe(1000);
    log.clear();
    expect(log.after()).toEqual([]);
    expect(log.append(1001)).toBe(1001);
    expect(log.after(1000)).toEqual([1001]);
    expect(log.appended).toBe(1);
  });
});
