/**
 * Waiting for work with a limit. `withDeadline` only stops the waiting (an HSM call cannot be cut off
 * midway). `runWithDeadline` also ends the work: it is told through an AbortSignal, and its one commit
 * point (`gate.commit`) either runs before the deadline — then the answer waits for it — or never runs.
 * So a request answered "timed out" is never recorded afterwards.
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

/** What work under a deadline sees: whether to stop, and the one step that makes its result final. */
export interface CommitGate {
  readonly signal: AbortSignal;
  /** Throws the deadline's error once it has passed; otherwise the deadline no longer applies and `step` runs. */
  commit<T>(step: () => Promise<T>): Promise<T>;
  /** Throws the deadline's error once it has passed (cheap: call it between expensive phases). */
  check(): void;
}

/** A gate with no deadline (CLI, in-process callers). */
export const OPEN_GATE: CommitGate = {
  signal: new AbortController().signal,
  commit: (step) => step(),
  check: () => undefined,
};

export async function runWithDeadline<T>(ms: number, work: (gate: CommitGate) => Promise<T>, onTimeout: () => Error): Promise<T> {
  const controller = new AbortController();
  let state: 'working' | 'committing' | 'expired' = 'working';
  let expiredError: Error | undefined;
  const gate: CommitGate = {
    signal: controller.signal,
    check() {
      if (state === 'expired') throw expiredError!;
    },
    async commit(step) {
      gate.check();
      state = 'committing';
      return step();
    },
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (state === 'committing') return; // the commit is short and already under way: answer with its outcome
      state = 'expired';
      expiredError = onTimeout();
      controller.abort(expiredError);
      reject(expiredError);
    }, ms);
  });
  const running = work(gate);
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
    running.catch(() => undefined); // its failure after the time-out answer is expected (cancelled)
  }
}
