/**
 * Runs an async task every `intervalMs` without overlapping runs (a slow run skips ticks rather than
 * piling up) and without keeping the process alive. The returned stop waits for a run in progress,
 * so closing the server never cuts an HSM signature or a transaction in half.
 */
export function startPeriodic(task: () => Promise<void>, intervalMs: number, onError: (e: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .catch(onError)
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
