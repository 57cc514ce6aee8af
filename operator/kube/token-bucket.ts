/**
 * A token bucket (golang.org/x/time/rate's `Limiter.Reserve`, as client-go's `BucketRateLimiter` uses it):
 * `burst` tokens, refilled at `qps` per second. {@link TokenBucket.reserve} takes one token and returns how
 * long the caller must wait for it — 0 while tokens are left; the bucket may go into debt, so N callers at
 * once are spread out at 1/qps intervals instead of all waiting for the same instant.
 */

export interface TokenBucketOptions {
  /** Tokens added per second (> 0). */
  qps: number;
  /** Capacity, and the tokens available at the start (>= 1). */
  burst: number;
  /** Monotonic clock in milliseconds (default `performance.now`). */
  clock?: () => number;
}

export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  readonly #clock: () => number;
  #tokens: number;
  #last: number;

  constructor(opts: TokenBucketOptions) {
    if (!(opts.qps > 0)) throw new RangeError(`TokenBucket: qps must be > 0 (got ${opts.qps})`);
    if (!(opts.burst >= 1)) throw new RangeError(`TokenBucket: burst must be >= 1 (got ${opts.burst})`);
    this.qps = opts.qps;
    this.burst = opts.burst;
    this.#clock = opts.clock ?? (() => performance.now());
    this.#tokens = opts.burst;
    this.#last = this.#clock();
  }

  #refill(): void {
    const now = this.#clock();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.qps);
  }

  /** Tokens available now (negative while in debt). */
  tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes one token; returns the milliseconds until it is actually available (0 when at once). */
  reserve(): number {
    this.#refill();
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.qps) * 1000;
  }
}
