/**
 * A per-object work queue in the spirit of client-go's `workqueue` and kube-rs's controller runtime.
 *
 * Guarantees:
 * - **Dedupe**: a key waiting in the queue is queued once, however often it is added.
 * - **No concurrent runs of one key**: a key being processed is never handed to a second worker; if it is
 *   added meanwhile it is marked dirty and re-run once after the current run finishes.
 * - **Bounded concurrency**: at most `concurrency` handlers run at once.
 * - **Retries**: a handler that throws is retried after the larger of a per-key jittered exponential backoff
 *   (reset on success) and an overall token bucket shared by all keys (10 qps, burst 100 by default) — the
 *   pair client-go's `DefaultControllerRateLimiter` combines; errors with `retryable === false` (the
 *   `CraGateError` shape) are terminal and not retried.
 * - **Cancellation**: each run gets an AbortSignal; it is aborted when the run exceeds `timeoutMs` (its
 *   deadline) and by {@link WorkQueue.cancelAll} / {@link WorkQueue.shutdown}. A handler that ignores the
 *   signal is abandoned `abortGraceMs` later (its key is released; whatever it still does is fenced by
 *   the caller).
 * - **Delayed adds**: `requeueAfterMs` results and {@link WorkQueue.addAfter} keep one timer per key, the
 *   earliest wins; timers are `unref()`ed so they never keep the process alive.
 * - **Priority lanes**: a key is added to the `normal` lane (something changed: a new object, an edit, a
 *   retry) or the `low` lane (a periodic re-evaluation: `requeueAfterMs` results, catch-up after a restart).
 *   Workers take from `normal` first, so new and changed objects never wait behind a wave of periodic
 *   re-evaluations — except that one take in `lowShare` (default 10) goes to `low` while both lanes wait, so
 *   a steady stream of changes never starves the periodic re-evaluations (they carry time-based verdict
 *   changes: support ends, waiver expiry). Adding a waiting `low` key as `normal` promotes it; dedupe and
 *   per-key serialisation hold across lanes (a key waits in at most one lane). Within a lane: FIFO.
 * - **Graceful shutdown**: {@link WorkQueue.shutdown} stops intake, cancels in-flight handlers (unless told
 *   to drain them) and waits for them to return.
 * - **Metrics** as client-go's workqueue reports them: depth, adds, queue duration (add → start), work
 *   duration, retries, unfinished work and the longest running processor (the last two read at scrape time).
 */
import { Backoff } from '../kube/backoff.ts';
import { TokenBucket } from '../kube/token-bucket.ts';

/** What a handler may return: nothing, or a request to run the key again after a delay (in the `low` lane). */
export type QueueResult = { requeueAfterMs?: number } | void;

/** The lane a key waits in: `normal` (new or changed, retries) is always served before `low` (periodic). */
export type Priority = 'normal' | 'low';

/** Outcome of one handler run, as reported to metrics hooks. */
export type WorkOutcome = 'success' | 'requeue' | 'error' | 'terminal';

/** Hooks through which the queue reports metrics (see `queueMetricsHooks` in `operator/metrics.ts`). */
export interface QueueMetricsHooks {
  /** Called with the current number of waiting keys whenever it changes. */
  depth?(depth: number): void;
  /** Called for each accepted add (including deduplicated ones, as client-go counts them). */
  add?(key: string): void;
  /** Called when a failed key is scheduled for a retry. */
  retry?(key: string): void;
  /** Called when a key leaves the queue for a handler, with the seconds it waited since it was added. */
  queueDuration?(seconds: number): void;
  /** Called after each handler run with its duration in seconds. */
  workDuration?(seconds: number, outcome: WorkOutcome): void;
}

/** Why a run's signal was aborted: its deadline passed, or the queue cancelled it. */
export class QueueAbortError extends Error {
  readonly kind: 'timeout' | 'cancelled';
  constructor(kind: 'timeout' | 'cancelled', message: string) {
    super(message);
    this.name = kind === 'timeout' ? 'TimeoutError' : 'AbortError';
    this.kind = kind;
  }
}

/** Minimal timer API, injectable for tests. Handles must be accepted by `clearTimeout`. */
export interface QueueTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Maximum number of handlers running at once (>= 1). */
  concurrency: number;
  /**
   * Processes one key. Throw to retry; throw an error with `retryable === false` to give up. `signal` is
   * aborted (reason: a {@link QueueAbortError}) at the run's deadline or when the queue cancels it.
   */
  handler: (key: string, signal: AbortSignal) => Promise<QueueResult>;
  /** Per-key retry backoff (defaults: 800 ms .. 30 s, factor 2, jitter 0.2). */
  backoff?: { initialMs?: number; maxMs?: number; factor?: number; jitter?: number; random?: () => number };
  /** Overall retry rate limit shared by all keys (default 10 per second, burst 100, as client-go). */
  rateLimit?: { qps?: number; burst?: number };
  /** Deadline of one handler run in ms; the signal is aborted when it passes (default: none). */
  timeoutMs?: number;
  /** How long an aborted handler may take to return before its key is released anyway (default 5 s). */
  abortGraceMs?: number;
  /** While both lanes wait, one take in this many goes to `low` (default 10; no starvation of periodic work). */
  lowShare?: number;
  /** Metrics hooks. */
  metrics?: QueueMetricsHooks;
  /**
   * Called when a handler throws. `willRetry` is false for terminal errors (`retryable === false`) and
   * after shutdown; `retryInMs` is the scheduled delay when retrying.
   */
  onError?: (key: string, err: unknown, willRetry: boolean, retryInMs?: number) => void;
  /** Monotonic clock in milliseconds (default `performance.now`). */
  clock?: () => number;
  /** Timer implementation (default: global timers, unref'ed). */
  timers?: QueueTimers;
}

/** Result of {@link WorkQueue.shutdown}. */
export interface ShutdownResult {
  /** True when every in-flight handler finished before the drain timeout. */
  drained: boolean;
  /** Keys whose handlers were still running when shutdown resolved. */
  inFlight: string[];
}

const defaultTimers: QueueTimers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
};

/** True when `err` declares itself non-retryable (`err.retryable === false`). */
export function isTerminalError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false;
}

/** A deduplicating, per-key serialised, concurrency-bounded work queue with retries. */
export class WorkQueue {
  readonly #concurrency: number;
  readonly #handler: (key: string, signal: AbortSignal) => Promise<QueueResult>;
  readonly #bucket: TokenBucket;
  readonly #timeoutMs: number | undefined;
  readonly #abortGraceMs: number;
  readonly #backoffOpts: NonNullable<WorkQueueOptions['backoff']>;
  readonly #metrics: QueueMetricsHooks;
  readonly #onError: WorkQueueOptions['onError'];
  readonly #clock: () => number;
  readonly #timers: QueueTimers;

  /**
   * FIFO per lane. A key promoted from `low` to `normal` stays in the `low` array as a stale entry, skipped
   * when reached: `#queued` (key → its lane) is the truth for membership and lane.
   */
  #lanes: Record<Priority, string[]> = { normal: [], low: [] };
  #queued = new Map<string, Priority>();
  /** Live (non-stale) entries per lane. */
  #laneCount: Record<Priority, number> = { normal: 0, low: 0 };
  /** Takes from `normal` in a row while `low` had waiting keys. */
  #normalStreak = 0;
  readonly #lowShare: number;
  /** Keys being processed → start time and the controller of their run's signal. */
  #processing = new Map<string, { started: number; abort: AbortController }>();
  /** When each waiting (or dirty) key was added, for the queue-duration metric. */
  #addedAt = new Map<string, number>();
  /** Keys added while being processed → the lane they go to once their run ends (`normal` wins). */
  #dirty = new Map<string, Priority>();
  #delayed = new Map<string, { at: number; handle: unknown; priority: Priority }>();
  #backoffs = new Map<string, Backoff>();
  #pumpScheduled = false;
  #shuttingDown = false;
  #idleWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new RangeError(`WorkQueue: concurrency must be a positive integer (got ${opts.concurrency})`);
    }
    this.#concurrency = opts.concurrency;
    this.#handler = opts.handler;
    this.#backoffOpts = opts.backoff ?? {};
    this.#metrics = opts.metrics ?? {};
    this.#onError = opts.onError;
    this.#clock = opts.clock ?? (() => performance.now());
    this.#timers = opts.timers ?? defaultTimers;
    this.#bucket = new TokenBucket({ qps: opts.rateLimit?.qps ?? 10, burst: opts.rateLimit?.burst ?? 100, clock: this.#clock });
    this.#timeoutMs = opts.timeoutMs;
    this.#abortGraceMs = opts.abortGraceMs ?? 5_000;
    this.#lowShare = Math.max(2, Math.floor(opts.lowShare ?? 10));
  }

  /** Seconds of work in progress that has not finished yet, summed over running handlers (client-go's unfinished work). */
  unfinishedWorkSeconds(): number {
    const now = this.#clock();
    let total = 0;
    for (const { started } of this.#processing.values()) total += Math.max(0, now - started);
    return total / 1000;
  }

  /** Seconds the longest-running handler has been running (0 when idle). */
  longestRunningSeconds(): number {
    const now = this.#clock();
    let max = 0;
    for (const { started } of this.#processing.values()) max = Math.max(max, now - started);
    return max / 1000;
  }

  /** True while `key` is being processed. */
  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  /** Aborts the signals of all running handlers (e.g. leadership lost). Returns how many were running. */
  cancelAll(message = 'cancelled'): number {
    for (const { abort } of this.#processing.values()) {
      if (!abort.signal.aborted) abort.abort(new QueueAbortError('cancelled', message));
    }
    return this.#processing.size;
  }

  /** Number of keys waiting to be processed (not counting in-flight or delayed ones). */
  len(): number {
    return this.#queued.size;
  }

  /** Number of keys waiting in one lane. */
  laneLen(priority: Priority): number {
    return this.#laneCount[priority];
  }

  /** Number of handlers currently running. */
  inFlight(): number {
    return this.#processing.size;
  }

  /** Number of keys with a pending delayed add (retry or requeue timer). */
  delayedCount(): number {
    return this.#delayed.size;
  }

  /** True once {@link shutdown} has been called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Queues `key` for processing in lane `priority` (default `normal`). Ignored after shutdown. A key already
   * waiting is not queued twice (a `normal` add promotes a waiting `low` key); a key being processed is re-run
   * once after its current run, in the highest lane it was added with meanwhile.
   */
  add(key: string, priority: Priority = 'normal'): void {
    if (this.#shuttingDown) return;
    this.#metrics.add?.(key);
    if (this.#processing.has(key)) {
      const dirty = this.#dirty.get(key);
      if (dirty === undefined) this.#addedAt.set(key, this.#clock());
      this.#dirty.set(key, dirty === 'normal' ? 'normal' : priority);
      return;
    }
    const waiting = this.#queued.get(key);
    if (waiting === 'normal' || waiting === priority) return;
    // New, or promoted from `low` (its stale `low` entry is skipped when reached).
    if (!this.#addedAt.has(key)) this.#addedAt.set(key, this.#clock());
    if (waiting !== undefined) this.#laneCount[waiting]--;
    this.#laneCount[priority]++;
    this.#queued.set(key, priority);
    this.#lanes[priority].push(key);
    this.#metrics.depth?.(this.#queued.size);
    this.#schedulePump();
  }

  /**
   * Adds `key` to lane `priority` (default `normal`) after `ms` milliseconds. One timer per key: if a timer
   * is pending, the earlier deadline wins (and keeps the higher of the two lanes). `ms <= 0` adds at once.
   */
  addAfter(key: string, ms: number, priority: Priority = 'normal'): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key, priority);
      return;
    }
    const at = this.#clock() + ms;
    const existing = this.#delayed.get(key);
    let lane = priority;
    if (existing) {
      if (existing.priority === 'normal') lane = 'normal';
      if (existing.at <= at) {
        existing.priority = lane;
        return;
      }
      this.#timers.clearTimeout(existing.handle);
    }
    const handle = this.#timers.setTimeout(() => {
      const cur = this.#delayed.get(key);
      if (cur && cur.handle === handle) this.#delayed.delete(key);
      this.add(key, cur && cur.handle === handle ? cur.priority : lane);
    }, ms);
    this.#delayed.set(key, { at, handle, priority: lane });
  }

  /** Drops the retry state of `key` (its next failure starts from the initial backoff). */
  forget(key: string): void {
    this.#backoffs.delete(key);
  }

  /** Number of consecutive failures recorded for `key` since its last success. */
  retries(key: string): number {
    return this.#backoffs.get(key)?.attempts ?? 0;
  }

  /**
   * Stops intake (adds are ignored, pending delayed adds are cancelled, waiting keys are dropped), cancels
   * the running handlers' signals (unless `cancel: false`, to let them finish) and resolves when they have
   * returned or `drainTimeoutMs` (default 30 s) has passed.
   */
  shutdown(opts: { drainTimeoutMs?: number; cancel?: boolean } = {}): Promise<ShutdownResult> {
    this.#shuttingDown = true;
    if (opts.cancel !== false) this.cancelAll('shutting down');
    for (const { handle } of this.#delayed.values()) this.#timers.clearTimeout(handle);
    this.#delayed.clear();
    this.#lanes = { normal: [], low: [] };
    this.#laneCount = { normal: 0, low: 0 };
    this.#queued.clear();
    this.#dirty.clear();
    this.#addedAt.clear();
    this.#metrics.depth?.(0);
    if (this.#processing.size === 0) return Promise.resolve({ drained: true, inFlight: [] });
    const drainTimeoutMs = opts.drainTimeoutMs ?? 30_000;
    return new Promise<ShutdownResult>((resolve) => {
      let done = false;
      const timer = this.#timers.setTimeout(() => {
        if (done) return;
        done = true;
        resolve({ drained: false, inFlight: [...this.#processing.keys()] });
      }, drainTimeoutMs);
      this.#idleWaiters.push(() => {
        if (done) return;
        done = true;
        this.#timers.clearTimeout(timer);
        resolve({ drained: true, inFlight: [] });
      });
    });
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    // Deferred so that synchronous bursts of add() are deduplicated before any handler starts.
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (!this.#shuttingDown && this.#processing.size < this.#concurrency && this.#queued.size > 0) {
      const key = this.#next();
      if (key === undefined) break;
      this.#queued.delete(key);
      this.#metrics.depth?.(this.#queued.size);
      const added = this.#addedAt.get(key);
      this.#addedAt.delete(key);
      const started = this.#clock();
      if (added !== undefined) this.#metrics.queueDuration?.(Math.max(0, started - added) / 1000);
      const abort = new AbortController();
      this.#processing.set(key, { started, abort });
      void this.#run(key, abort);
    }
  }

  /**
   * The next waiting key: `normal` lane first (but every `lowShare`-th take while both wait from `low`); stale
   * entries (promoted or already taken) are skipped.
   */
  #next(): string | undefined {
    const both = this.#laneCount.normal > 0 && this.#laneCount.low > 0;
    const lowTurn = both && this.#normalStreak >= this.#lowShare - 1;
    const order: readonly Priority[] = lowTurn ? ['low', 'normal'] : ['normal', 'low'];
    for (const lane of order) {
      const q = this.#lanes[lane];
      while (q.length > 0) {
        const key = q.shift() as string;
        if (this.#queued.get(key) !== lane) continue;
        this.#laneCount[lane]--;
        this.#normalStreak = lane === 'normal' && both ? this.#normalStreak + 1 : 0;
        return key;
      }
    }
    return undefined;
  }

  /** The handler's promise, raced (once its signal is aborted) against the abort grace period. */
  #invoke(key: string, abort: AbortController): Promise<QueueResult> {
    const timers = this.#timers;
    let deadline: unknown;
    let grace: unknown;
    if (this.#timeoutMs !== undefined && this.#timeoutMs > 0) {
      const ms = this.#timeoutMs;
      deadline = timers.setTimeout(() => abort.abort(new QueueAbortError('timeout', `exceeded its deadline of ${ms} ms`)), ms);
    }
    let handled: Promise<QueueResult>;
    try {
      handled = this.#handler(key, abort.signal);
    } catch (err) {
      handled = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const abandoned = new Promise<never>((_, reject) => {
      const onAbort = (): void => {
        const why: unknown = abort.signal.reason;
        grace = timers.setTimeout(() => reject(why instanceof Error ? why : new QueueAbortError('cancelled', 'cancelled')), this.#abortGraceMs);
      };
      if (abort.signal.aborted) onAbort();
      else abort.signal.addEventListener('abort', onAbort, { once: true });
    });
    abandoned.catch(() => undefined);
    return Promise.race([handled, abandoned]).finally(() => {
      if (deadline !== undefined) timers.clearTimeout(deadline);
      if (grace !== undefined) timers.clearTimeout(grace);
    });
  }

  async #run(key: string, abort: AbortController): Promise<void> {
    const started = this.#processing.get(key)?.started ?? this.#clock();
    let outcome: WorkOutcome;
    try {
      const result = await this.#invoke(key, abort);
      this.#backoffs.delete(key);
      const after = result && typeof result === 'object' ? result.requeueAfterMs : undefined;
      if (typeof after === 'number' && Number.isFinite(after) && after >= 0) {
        outcome = 'requeue';
        this.addAfter(key, after, 'low');
      } else {
        outcome = 'success';
      }
    } catch (err) {
      if (isTerminalError(err)) {
        outcome = 'terminal';
        this.#backoffs.delete(key);
        this.#safeOnError(key, err, false);
      } else {
        outcome = 'error';
        if (this.#shuttingDown) {
          this.#safeOnError(key, err, false);
        } else {
          let b = this.#backoffs.get(key);
          if (!b) {
            b = new Backoff(this.#backoffOpts);
            this.#backoffs.set(key, b);
          }
          // client-go's MaxOfRateLimiter: the per-key backoff and the overall bucket, whichever waits longer.
          const delay = Math.max(b.next(), Math.ceil(this.#bucket.reserve()));
          this.#metrics.retry?.(key);
          this.#safeOnError(key, err, true, delay);
          this.addAfter(key, delay);
        }
      }
    }
    this.#metrics.workDuration?.(Math.max(0, this.#clock() - started) / 1000, outcome);
    this.#processing.delete(key);
    const dirty = this.#dirty.get(key);
    if (dirty !== undefined) {
      this.#dirty.delete(key);
      this.add(key, dirty);
    }
    if (this.#shuttingDown && this.#processing.size === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
    this.#schedulePump();
  }

  #safeOnError(key: string, err: unknown, willRetry: boolean, retryInMs?: number): void {
    try {
      this.#onError?.(key, err, willRetry, retryInMs);
    } catch {
      // A faulty hook must never break the queue.
    }
  }
}
