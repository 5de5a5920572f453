/**
 * Sends independent statements of one transaction without waiting for each answer before the next
 * (on SQLite's one connection every answer is a trip through libuv's pool and back to a busy event
 * loop), and settles only once all of them have: after a failure, the rollback must not overtake a
 * statement still on its way, which would then run outside the transaction.
 */
export async function together(...statements: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(statements);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}
