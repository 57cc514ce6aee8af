/**
 * Lease-based leader election on `coordination.k8s.io/v1`, modelled on client-go's `leaderelection`.
 *
 * - **Acquire**: create the Lease if missing; otherwise take it over only when it is free (no holder) or
 *   when its record has not changed for `leaseDurationMs` *as observed by the local clock* (remote clocks
 *   are never trusted, exactly like client-go). Writes carry the `resourceVersion` read, so two candidates
 *   racing for one Lease cannot both win (409 Conflict ⇒ lost the race). `leaseTransitions` is incremented
 *   on every change of holder.
 * - **Renew**: every `retryPeriodMs`; if no renewal succeeded for `renewDeadlineMs` — or another holder is
 *   seen — leadership is lost: `onStoppedLeading('lost')` is called (the operator then exits, so it never
 *   reconciles as a non-leader).
 * - **Release**: `stop({ release: true })` clears `holderIdentity` and sets `leaseDurationSeconds: 1`, as
 *   client-go's `ReleaseOnCancel` does, so another replica takes over at once.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiClient } from './pool.ts';

/** Why leadership ended. */
export type StopReason = 'lost' | 'stopped';

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  kubeConfig: KubeConfig;
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** This candidate's identity (pod name; must be unique among replicas). */
  identity: string;
  /** How long a non-renewed lease stays valid (default 15 000 ms; whole seconds on the wire). */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before giving up (default 10 000 ms). */
  renewDeadlineMs?: number;
  /** Pause between acquire/renew attempts (default 2 000 ms). */
  retryPeriodMs?: number;
  /** Bound of a single API request (default `min(renewDeadlineMs / 2, 5000)`). */
  requestTimeoutMs?: number;
  log?: Logger;
  /** Called once when this candidate becomes leader. */
  onStartedLeading?: () => void;
  /** Called once when leadership ends: `'lost'` (renewal failed or taken over) or `'stopped'` (via stop()). */
  onStoppedLeading?: (reason: StopReason) => void;
  /** Called when the observed leader changes (including to this identity). */
  onNewLeader?: (identity: string) => void;
  /**
   * Local monotonic clock in ms used to judge expiry and the renew deadline (default `performance.now`).
   * Timestamps written into the Lease use the wall clock; they are informational only.
   */
  now?: () => number;
}

interface Observed {
  /** Fingerprint of the last observed Lease spec. */
  fingerprint: string;
  /** Local time at which that record was first observed. */
  at: number;
}

/** Thrown internally when a request exceeds its bound. */
class RequestTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'RequestTimeout';
  }
}

function statusCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function fingerprint(lease: V1Lease): string {
  const s = lease.spec ?? {};
  const t = (d: unknown): string => (d instanceof Date ? d.toISOString() : typeof d === 'string' ? d : '');
  return JSON.stringify([s.holderIdentity ?? '', s.leaseDurationSeconds ?? 0, t(s.acquireTime), t(s.renewTime), s.leaseTransitions ?? 0]);
}

/** Lease-based leader elector. Create one per process; call {@link run} once. */
export class LeaderElector {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly requestTimeoutMs: number;
  readonly #api: CoordinationV1Api;
  readonly #log: Logger | undefined;
  readonly #opts: LeaderElectorOptions;
  readonly #now: () => number;
  #leader = false;
  #observed: Observed | undefined;
  #lastLeader: string | undefined;
  #stopping = false;
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  #stoppedNotified = false;
  /** Local time at which the last successful acquire/renew attempt started. */
  #lastRenew = 0;

  constructor(opts: LeaderElectorOptions) {
    this.#opts = opts;
    this.identity = opts.identity;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? Math.min(this.renewDeadlineMs / 2, 5_000);
    this.#log = opts.log?.child({ component: 'leader-election', lease: `${opts.namespace}/${opts.name}` });
    this.#now = opts.now ?? (() => performance.now());
    if (!opts.identity) throw new Error('LeaderElector: identity is required');
    if (this.leaseDurationMs < 1000) throw new RangeError('LeaderElector: leaseDurationMs must be >= 1000 (whole seconds on the wire)');
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new RangeError('LeaderElector: leaseDurationMs must be greater than renewDeadlineMs');
    if (!(this.renewDeadlineMs > this.retryPeriodMs * 1.2)) throw new RangeError('LeaderElector: renewDeadlineMs must be greater than 1.2 × retryPeriodMs');
    this.#api = apiClient(opts.kubeConfig, CoordinationV1Api);
  }

  /** True while this candidate holds the lease (as far as it knows). */
  isLeader(): boolean {
    return this.#leader;
  }

  /**
   * True while leading AND the last successful renewal started less than `renewDeadlineMs` ago — the fence
   * checked right before every write. Past the renew deadline the Lease may already be someone else's (another
   * replica may take it over once `leaseDurationMs` has passed), so nothing is written even before the renew
   * loop has formally given up.
   */
  holdsLease(): boolean {
    return this.#leader && !this.#stopping && this.#now() - this.#lastRenew < this.renewDeadlineMs;
  }

  /** The holder last observed in the Lease (may be stale), or undefined. */
  observedLeader(): string | undefined {
    return this.#lastLeader;
  }

  /**
   * Campaigns for the lease, then renews it. Resolves when leadership ends (lost, or {@link stop}) or, if
   * never acquired, when stopped. Calling it twice returns the same promise.
   */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  /**
   * Stops campaigning/renewing. With `release: true` (default) and while leading, the lease is handed back
   * (holder cleared, duration 1 s) so another replica takes over at once. Resolves when done; never rejects.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    const release = opts.release ?? true;
    if (this.#stopping) {
      await this.#running;
      return;
    }
    this.#stopping = true;
    this.#abort.abort();
    await this.#running?.catch(() => undefined);
    // Release when leading, and also when the lease was acquired just as stop() was called, or leadership
    // was given up after failed renewals but the Lease may still name us (#release checks the holder).
    if (release && (this.#leader || this.#lastLeader === this.identity)) await this.#release();
    this.#setNotLeader('stopped');
  }

  async #loop(): Promise<void> {
    // Acquire.
    this.#log?.info({ identity: this.identity }, 'attempting to acquire leader lease');
    // Validity is counted from the start of the successful attempt (conservative: the write happened later).
    let lastRenew = 0;
    while (!this.#stopping) {
      const attemptStart = this.#now();
      if (await this.#tryAcquireOrRenew()) {
        lastRenew = attemptStart;
        this.#lastRenew = attemptStart;
        break;
      }
      await this.#sleep(this.#jittered(this.retryPeriodMs));
    }
    if (this.#stopping) return;
    this.#leader = true;
    this.#log?.info({ identity: this.identity }, 'acquired leader lease');
    this.#safe(() => this.#opts.onStartedLeading?.());

    // Renew.
    while (!this.#stopping) {
      await this.#sleep(this.retryPeriodMs);
      if (this.#stopping) return;
      const attemptStart = this.#now();
      const remaining = this.renewDeadlineMs - (attemptStart - lastRenew);
      const ok = remaining > 0 && (await this.#tryAcquireOrRenew(Math.max(1, Math.min(this.requestTimeoutMs, remaining))));
      if (this.#stopping) return;
      if (ok) {
        lastRenew = attemptStart;
        this.#lastRenew = attemptStart;
        continue;
      }
      const holder = this.#lastLeader;
      if (holder !== undefined && holder !== '' && holder !== this.identity) {
        this.#log?.warn({ holder }, 'leader lease taken over by another candidate');
        break;
      }
      if (this.#now() - lastRenew >= this.renewDeadlineMs) {
        this.#log?.error({ renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew leader lease within the renew deadline');
        break;
      }
    }
    if (!this.#stopping) this.#setNotLeader('lost');
  }

  #setNotLeader(reason: StopReason): void {
    const was = this.#leader;
    this.#leader = false;
    if (was && !this.#stoppedNotified) {
      this.#stoppedNotified = true;
      this.#log?.info({ reason }, 'stopped leading');
      this.#safe(() => this.#opts.onStoppedLeading?.(reason));
    }
  }

  /** One acquire-or-renew attempt, as client-go's tryAcquireOrRenew. Never throws. */
  async #tryAcquireOrRenew(timeoutMs = this.requestTimeoutMs): Promise<boolean> {
    const now = this.#now();
    const nowTime = new V1MicroTime(Date.now());
    const durationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    let lease: V1Lease;
    try {
      lease = await this.#bounded('read lease', timeoutMs, this.#api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
    } catch (err) {
      if (statusCode(err) !== 404) {
        this.#log?.warn({ err: errMessage(err) }, 'error reading leader lease');
        return false;
      }
      try {
        const created = await this.#bounded('create lease', timeoutMs, this.#api.createNamespacedLease({
          namespace: this.namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.name, namespace: this.namespace },
            spec: { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: nowTime, renewTime: nowTime, leaseTransitions: 0 },
          },
        }));
        this.#observe(created, this.#now());
        return true;
      } catch (cerr) {
        if (statusCode(cerr) !== 409) this.#log?.warn({ err: errMessage(cerr) }, 'error creating leader lease');
        return false;
      }
    }

    // Track when the record last changed, by the local clock.
    this.#observe(lease, now);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const observedAt = this.#observed?.at ?? now;
    const observedDurationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (holder !== '' && holder !== this.identity && observedAt + observedDurationMs > now) {
      return false; // held by someone else and not expired
    }

    const mine = holder === this.identity;
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: nowTime,
        acquireTime: mine && spec.acquireTime ? new V1MicroTime(new Date(spec.acquireTime).getTime()) : nowTime,
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const updated = await this.#bounded('update lease', timeoutMs, this.#api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }));
      this.#observe(updated, this.#now());
      if (!mine) this.#log?.info({ previousHolder: holder || undefined, transitions: updated.spec?.leaseTransitions }, 'took over leader lease');
      return true;
    } catch (err) {
      if (statusCode(err) === 409) this.#log?.debug('lost the race to update the leader lease (409)');
      else this.#log?.warn({ err: errMessage(err) }, 'error updating leader lease');
      return false;
    }
  }

  #observe(lease: V1Lease, at: number): void {
    const fp = fingerprint(lease);
    if (this.#observed?.fingerprint !== fp) this.#observed = { fingerprint: fp, at };
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.#lastLeader) {
      this.#lastLeader = holder;
      if (holder) {
        this.#log?.debug({ holder }, 'observed new leader');
        this.#safe(() => this.#opts.onNewLeader?.(holder));
      }
    }
  }

  /** Hands the lease back: holder cleared, duration 1 s, transitions kept. Bounded, never throws. */
  async #release(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const lease = await this.#bounded('read lease', this.requestTimeoutMs, this.#api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
        if ((lease.spec?.holderIdentity ?? '') !== this.identity) return; // not ours any more
        const now = new V1MicroTime(Date.now());
        const body: V1Lease = {
          ...lease,
          spec: { leaseDurationSeconds: 1, leaseTransitions: lease.spec?.leaseTransitions ?? 0, acquireTime: now, renewTime: now },
        };
        await this.#bounded('release lease', this.requestTimeoutMs, this.#api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }));
        this.#log?.info('released leader lease');
        return;
      } catch (err) {
        this.#log?.warn({ err: errMessage(err), attempt }, 'failed to release leader lease');
        if (statusCode(err) !== 409) return;
      }
    }
  }

  #bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeout(what, ms)), ms);
    });
    p.catch(() => undefined); // an abandoned request must not surface as an unhandled rejection
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  #jittered(ms: number): number {
    return ms * (1 + 0.2 * Math.random());
  }

  #sleep(ms: number): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        this.#abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.#abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log?.error({ err }, 'leader election callback threw');
    }
  }
}
