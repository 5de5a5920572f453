/**
 * API-key lookups that arrive together share one query, and none joins a query already sent (so no
 * answer was read before its request arrived: a key revoked before a request came is refused).
 */
import { describe, expect, it } from 'vitest';
import { JoinedLookups } from '../src/access/joined-lookups.js';

/** A load whose calls are recorded and answered by hand. */
function manualLoad() {
  const calls: { key: string; answer: (v: string) => void; fail: (e: Error) => void }[] = [];
  const load = (key: string) => new Promise<string>((answer, fail) => calls.push({ key, answer, fail }));
  return { calls, load };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('joined lookups', () => {
  it('make one query for the lookups of a key asked for in the same turn, and one per key', async () => {
    const { calls, load } = manualLoad();
    const lookups = new JoinedLookups(load);
    const [a, b, c] = [lookups.get('k1'), lookups.get('k1'), lookups.get('k2')];
    await nextTurn();
    expect(calls.map((c) => c.key)).toEqual(['k1', 'k2']);
    calls[0]!.answer('client 1');
    calls[1]!.answer('client 2');
    expect(await Promise.all([a, b, c])).toEqual(['client 1', 'client 1', 'client 2']);
  });

  it('never join a query already sent: a lookup asked for after it went out makes its own', async () => {
    const { calls, load } = manualLoad();
    const lookups = new JoinedLookups(load);
    const first = lookups.get('k');
    await nextTurn();
    expect(calls).toHaveLength(1);
    // The first query is on its way (say, it read the key before a revocation); a request arriving now must not take its answer.
    const second = lookups.get('k');
    await nextTurn();
    expect(calls).toHaveLength(2);
    calls[0]!.answer('active');
    calls[1]!.answer('revoked');
    expect(await first).toBe('active');
    expect(await second).toBe('revoked');
  });

  it('fail together when their query fails, and the next lookup tries again', async () => {
    const { calls, load } = manualLoad();
    const lookups = new JoinedLookups(load);
    const [a, b] = [lookups.get('k'), lookups.get('k')];
    await nextTurn();
    calls[0]!.fail(new Error('database gone'));
    await expect(a).rejects.toThrow('database gone');
    await expect(b).rejects.toThrow('database gone');
    const c = lookups.get('k');
    await nextTurn();
    expect(calls).toHaveLength(2);
    calls[1]!.answer('back');
    expect(await c).toBe('back');
  });
});
