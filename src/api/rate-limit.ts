/**
 * Per-client token buckets: `burst` tokens, refilled at `perSecond`. In memory, per instance: with
 * several instances behind a balancer each enforces its own share, which bounds load per process.
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  now?: () => number;
}

import { OneSealError } from '../errors.js';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Buckets idle this long are full again anyway; dropping them keeps memory bounded by active clients. */
const IDLE_DROP_MS = 10 * 60 * 1000;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;
  private lastSweep: number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? Date.now;
    this.lastSweep = this.now();
  }

  take(clientId: string): RateDecision {
    const { perSecond, burst } = this.options;
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(clientId) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(clientId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < IDLE_DROP_MS) return;
    this.lastSweep = now;
    for (const [id, b] of this.buckets) if (now - b.at > IDLE_DROP_MS) this.buckets.delete(id);
  }
}

/** Takes a token for `address` or throws 429 naming when to retry. */
export function takeOrRefuse(limiter: RateLimiter, address: string): void {
  const decision = limiter.take(address);
  if (!decision.allowed) {
    throw new OneSealError('rate-limited', 'rate-limited', `Too many verification requests from ${address}; retry after ${decision.retryAfterSeconds} s.`, {
      retryAfter: decision.retryAfterSeconds,
    });
  }
}
