/**
 * Jittered exponential backoff, in the spirit of client-go's `wait.Backoff`.
 *
 * Each call to {@link Backoff.next} returns the delay to wait before the next attempt:
 * `initialMs * factor^n`, capped at `maxMs`, then spread by ±`jitter` (a fraction) so that many
 * clients failing at once do not retry in lock-step. The jittered value never exceeds `maxMs`
 * and never goes below `initialMs * (1 - jitter)`.
 */

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay in milliseconds (default 800). */
  initialMs?: number;
  /** Upper bound of any delay in milliseconds (default 30 000). */
  maxMs?: number;
  /** Growth factor per attempt (default 2). */
  factor?: number;
  /** Relative jitter in [0, 1): the delay is multiplied by a random value in [1 - jitter, 1 + jitter] (default 0.2). */
  jitter?: number;
  /** Random source in [0, 1), injectable for tests (default `Math.random`). */
  random?: () => number;
}

/** Jittered, capped exponential backoff with {@link Backoff.reset}. */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 800;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    this.#random = opts.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) {
      throw new RangeError(`Backoff: need 0 < initialMs <= maxMs (got ${this.initialMs}, ${this.maxMs})`);
    }
    if (!(this.factor >= 1)) throw new RangeError(`Backoff: factor must be >= 1 (got ${this.factor})`);
    if (!(this.jitter >= 0 && this.jitter < 1)) throw new RangeError(`Backoff: jitter must be in [0, 1) (got ${this.jitter})`);
  }

  /** Number of delays handed out since construction or the last {@link reset}. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The un-jittered delay for attempt `n` (0-based), capped at `maxMs`. */
  baseDelay(n: number): number {
    // Avoid Infinity/overflow for large n: stop multiplying once the cap is reached.
    const d = this.initialMs * Math.pow(this.factor, n);
    return Number.isFinite(d) ? Math.min(d, this.maxMs) : this.maxMs;
  }

  /** Returns the next delay in milliseconds (integer) and advances the attempt counter. */
  next(): number {
    const base = this.baseDelay(this.#attempt);
    this.#attempt++;
    const spread = 1 + this.jitter * (2 * this.#random() - 1);
    return Math.max(1, Math.round(Math.min(this.maxMs, base * spread)));
  }

  /** Starts over from `initialMs` (call after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}
