/**
 * Group commit: work that must be made durable is queued, and one commit makes everything queued
 * durable at once. The first submission finds no commit running and leads one at once (no added
 * latency when idle); whatever is submitted while that commit runs waits and goes into the next one,
 * so under load one fsync round and one transaction serve many requests instead of one each.
 *
 * The committer reports an outcome per item, so one bad item fails only its own submission.
 */

/** Per item, in order: undefined when it is durable, or why it is not (nothing of it was kept). */
export type BatchOutcome = (unknown | undefined)[];

export type BatchCommitter<I> = (items: readonly I[]) => Promise<BatchOutcome>;

interface Waiting<I> {
  item: I;
  resolve(): void;
  reject(e: unknown): void;
}

/** Bounds one commit, so a burst does not hold the write lock for one long transaction. */
export const DEFAULT_MAX_BATCH = 64;

export class GroupCommit<I> {
  private queue: Waiting<I>[] = [];
  private leading = false;

  constructor(
    private readonly commit: BatchCommitter<I>,
    private readonly options: { maxBatch?: number; onCommit?: (size: number) => void } = {},
  ) {}

  /** Resolves once the item is durable; rejects with the committer's reason when it is not. */
  submit(item: I): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.leading) void this.lead();
    });
  }

  private async lead(): Promise<void> {
    this.leading = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch ?? DEFAULT_MAX_BATCH);
        let outcome: BatchOutcome;
        try {
          outcome = await this.commit(batch.map((w) => w.item));
        } catch (e) {
          outcome = batch.map(() => e);
        }
        this.options.onCommit?.(batch.length);
        batch.forEach((w, i) => {
          const error = outcome[i];
          if (error === undefined) w.resolve();
          else w.reject(error);
        });
      }
    } finally {
      this.leading = false;
    }
  }
}
