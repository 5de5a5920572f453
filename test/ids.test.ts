import { describe, expect, it } from 'vitest';
import { timeOrderedUuid } from '../src/store/ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedUuid', () => {
  it('is an RFC 9562 version 7 UUID whose first 48 bits are the time in milliseconds', () => {
    const at = Date.UTC(2026, 11, 4, 18, 0, 0, 123);
    const id = timeOrderedUuid(at);
    expect(id).toMatch(V7);
    expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts as text in the order of its times, across the hex digits that carry', () => {
    const times = [0x0f_ffff_ffff, 0x10_0000_0000, 0x10_0000_0001, Date.now(), Date.now() + 1, 2 ** 48 - 1];
    const ids = times.map((t) => timeOrderedUuid(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('keeps 74 random bits: ids of the same millisecond differ, and each random bit varies', () => {
    const ids = Array.from({ length: 2000 }, () => timeOrderedUuid(1_700_000_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    const bits = ids.map((id) => BigInt(`0x${id.replaceAll('-', '')}`));
    const random = (1n << 128n) - 1n - ((1n << 80n) - (1n << 76n)) - ((1n << 64n) - (1n << 62n)) - ((1n << 128n) - (1n << 80n));
    const ones = bits.reduce((a, b) => a | b, 0n) & random;
    const zeros = bits.reduce((a, b) => a | (~b & random), 0n) & random;
    expect(ones).toBe(random);
    expect(zeros).toBe(random);
  });
});
