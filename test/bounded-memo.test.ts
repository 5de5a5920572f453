/**
 * BoundedMemo keeps what it computed per key, and no stream of distinct keys (they come from requests:
 * key bytes, URL patterns, payload shapes) grows it past its limit.
 */
import { describe, expect, it } from 'vitest';
import { BoundedMemo } from '../src/bounded-memo.js';

describe('BoundedMemo', () => {
  it('computes a key once and returns the same value after', () => {
    const memo = new BoundedMemo<string, object>(4);
    let computed = 0;
    const first = memo.get('a', () => ({ n: ++computed }));
    const again = memo.get('a', () => ({ n: ++computed }));
    expect(again).toBe(first);
    expect(computed).toBe(1);
  });

  it('forgets everything once full, so an attacker-chosen stream of keys cannot grow it', () => {
    const memo = new BoundedMemo<number, number>(3);
    let computed = 0;
    for (const k of [1, 2, 3]) memo.get(k, () => ++computed);
    expect(computed).toBe(3);
    memo.get(1, () => ++computed);
    expect(computed).toBe(3); // still held
    memo.get(4, () => ++computed); // the fourth distinct key: the memo starts over with it
    memo.get(1, () => ++computed);
    expect(computed).toBe(5);
    memo.get(4, () => ++computed);
    expect(computed).toBe(5); // kept after the start-over
  });

  it('does not keep a computation that threw', () => {
    const memo = new BoundedMemo<string, number>(2);
    expect(() => memo.get('x', () => { throw new Error('bad input'); })).toThrow('bad input');
    expect(memo.get('x', () => 7)).toBe(7);
  });
});
