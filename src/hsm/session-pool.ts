import { HsmError } from './errors.js';

/**
 * A fixed-size pool of PKCS#11 session handles. Each signature needs a session of its own
 * (C_SignInit → C_Sign is per session), so the pool size is the HSM's concurrency.
 * Waiters are served first come, first served.
 */
export class SessionPool {
  private readonly idle: Buffer[] = [];
  private readonly waiters: ((s: Buffer) => void)[] = [];
  private inUse = 0;

  constructor(
    private readonly open: () => Buffer,
    private readonly closeOne: (s: Buffer) => void,
    readonly size: number,
  ) {}

  get stats(): { size: number; inUse: number; waiting: number } {
    return { size: this.size, inUse: this.inUse, waiting: this.waiters.length };
  }

  /** `waitMs`: how long to queue for a session when all are in use before giving up with hsm-busy. */
  async acquire(waitMs?: number): Promise<Buffer> {
    const s = this.idle.pop();
    if (s) {
      this.inUse++;
      return s;
    }
    if (this.inUse + this.idle.length < this.size) {
      this.inUse++;
      try {
        return this.open();
      } catch (e) {
        this.inUse--;
        throw e;
      }
    }
    return new Promise((resolve, reject) => {
      const waiter = (s: Buffer) => {
        clearTimeout(timer);
        resolve(s);
      };
      const timer = waitMs === undefined ? undefined : setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new HsmError('hsm-busy',
          `All ${this.size} HSM sessions stayed busy for ${waitMs / 1000} s: the HSM is slow or overloaded. Retry shortly; if it persists, check the HSM.`,
          { retryAfter: 5 }));
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  release(s: Buffer): void {
    const next = this.waiters.shift();
    if (next) next(s);
    else {
      this.inUse--;
      this.idle.push(s);
    }
  }

  /** Drops a session that died; its place in the pool is free for a fresh one. */
  discard(dead: Buffer): void {
    try {
      this.closeOne(dead);
    } catch {
      // already gone: that is why it is discarded
    }
    this.inUse--;
    const next = this.waiters.shift();
    if (next) {
      this.acquire().then(next, () => this.waiters.unshift(next));
    }
  }

  /**
   * Forgets idle sessions (all of them after a token reset, or those `dead` picks after one session
   * was lost, since a failover takes every session at once); sessions in use are replaced as they fail.
   */
  drainIdle(dead: (s: Buffer) => boolean = () => true): void {
    for (const s of this.idle.splice(0)) {
      if (!dead(s)) {
        this.idle.push(s);
        continue;
      }
      try {
        this.closeOne(s);
      } catch {
        // the token reset already closed it
      }
    }
  }
}
