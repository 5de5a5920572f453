/**
 * Waiting for work with a limit. The work itself goes on (an HSM call or a stamp cannot be cut off
 * midway); only the waiting stops, with the error `onTimeout` makes.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined); // a late failure after the time-out answer is not an unhandled rejection
  }
}
