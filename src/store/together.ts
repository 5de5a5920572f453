/**
 * Sends independent statements of one transaction without waiting for each answer before the next
 * (on SQLite's one connection every answer is a trip through libuv's pool and back to a busy event
 * loop), and settles only once all of them have: after a failure, the rollback must not overtake a
 * statement still on its way, which would then run outside the transaction. Resolves to their
 * results, in the order given.
 */
export async function together<T extends Promise<unknown>[]>(...statements: T): Promise<{ [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { [K in keyof T]: Awaited<T[K]> };
}
