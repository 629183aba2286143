import { describe, expect, test } from 'vitest';
import { nextIntentId } from '../../src/intent/ids.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const timeOf = (id: string) => [...id.slice(0, 10)].reduce((t, c) => t * 32 + CROCKFORD.indexOf(c), 0);

describe('intent ids', () => {
  test('ULIDs that stay unique and sorted within a ms (across carries), across ms and after a wall-clock jump back', () => {
    const base = 1_700_000_000_000;
    const ids: string[] = [];
    for (let i = 0; i < 5_000; i++) ids.push(nextIntentId(base + Math.floor(i / 1_000)));
    ids.push(nextIntentId(base - 60_000)); // NTP jump backwards: keeps the last time, counts up
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(timeOf(ids[0] as string)).toBe(base);
    expect(timeOf(ids[4_999] as string)).toBe(base + 4);
    expect(timeOf(ids[5_000] as string)).toBe(base + 4);
    // Within one ms (and after the jump back) consecutive ids differ by one in the 80-bit random part.
    const rand = (id: string) => [...id.slice(10)].reduce((n, c) => n * 32n + BigInt(CROCKFORD.indexOf(c)), 0n);
    let sameMs = 0;
    for (let i = 1; i < ids.length; i++) {
      if (timeOf(ids[i] as string) !== timeOf(ids[i - 1] as string)) continue;
      expect(rand(ids[i] as string) - rand(ids[i - 1] as string)).toBe(1n);
      sameMs += 1;
    }
    expect(sameMs).toBe(ids.length - 5);
  });
});
