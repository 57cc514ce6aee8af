/**
 * Kubernetes Event recorder on `events.k8s.io/v1`.
 *
 * - Events name the object they are about (`regarding`), the reporting controller (`cra-gate.dev/operator`)
 *   and instance (pod name), a CamelCase `reason` and `action`, and a human `note` (≤ 1 kB).
 * - **De-duplication** (as client-go's event recorder): the same (object uid, type, reason, action, note)
 *   seen again within `dedupeWindowMs` (default 10 min) patches the existing Event's
 *   `series: { count, lastObservedTime }` instead of creating another Event.
 * - **Rate limit**: a global token bucket (default burst 25, 1 write/s) bounds API writes; events beyond
 *   it are dropped (a repeated event's count is still kept and written with the next patch).
 * - **Off the caller's path** (as client-go's broadcaster): `event()` only decides and enqueues; a bounded
 *   queue (default 1,000 writes) is drained by a fixed number of writers (default 1), so Events never add
 *   round trips to a reconcile nor compete with status writes beyond that one request in flight. A series
 *   update queued while an earlier one for the same Event still waits is merged into it (the latest count).
 *   When the queue is full the write is dropped and counted (`onDrop`, `cra_gate_events_dropped_total`).
 * - Writes **never throw**: failures are logged. {@link EventRecorder.flush} awaits queued and running writes
 *   (for shutdown and tests).
 *
 * The decision logic ({@link EventCorrelator}, {@link TokenBucket}) is pure and unit-tested; the recorder only
 * performs the IO it decides on.
 */
import { EventsV1Api, V1MicroTime, type EventsV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiClient } from './pool.ts';

/** The `reportingController` of every Event written by the operator. */
export const REPORTING_CONTROLLER = 'cra-gate.dev/operator';

/** The object an Event is about. */
export interface EventRegarding {
  apiVersion?: string;
  kind?: string;
  name: string;
  /** Empty or undefined for cluster-scoped objects (the Event then goes to `default`, as client-go does). */
  namespace?: string;
  uid: string;
  resourceVersion?: string;
}

/** What happened. */
export interface EventInput {
  type: 'Normal' | 'Warning';
  /** CamelCase, machine-readable (e.g. `Blocked`, `PolicyNotFound`); at most 128 characters. */
  reason: string;
  /** CamelCase action taken (e.g. `Evaluate`); at most 128 characters. */
  action: string;
  /** Human-readable description; truncated to 1 kB. */
  note: string;
}

// ---------------------------------------------------------------------------------------------------------
// Pure part
// ---------------------------------------------------------------------------------------------------------

/** A token bucket: `burst` tokens, refilled at `ratePerSec`. */
export class TokenBucket {
  readonly burst: number;
  readonly ratePerSec: number;
  #tokens: number;
  #last: number;

  constructor(opts: { burst: number; ratePerSec: number; now: number }) {
    if (!(opts.burst >= 1) || !(opts.ratePerSec > 0)) throw new RangeError('TokenBucket: need burst >= 1 and ratePerSec > 0');
    this.burst = opts.burst;
    this.ratePerSec = opts.ratePerSec;
    this.#tokens = opts.burst;
    this.#last = opts.now;
  }

  /** Takes one token if available at time `now` (ms); returns whether it was taken. */
  tryTake(now: number): boolean {
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.ratePerSec);
      this.#last = now;
    }
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }

  /** Tokens currently available (fractional), as of the last call. */
  get tokens(): number {
    return this.#tokens;
  }
}

/** What the recorder should do with one event. */
export type EventAction =
  | { op: 'create'; key: string }
  | { op: 'series'; key: string; eventName: string; namespace: string; count: number }
  | { op: 'drop'; key: string; why: 'rate-limited' | 'pending' };

interface SeriesEntry {
  /** Name of the Event written for this key; undefined while its create is in flight or failed. */
  eventName: string | undefined;
  namespace: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
}

/** Options of {@link EventCorrelator}. */
export interface EventCorrelatorOptions {
  /** Window in which an identical event updates the existing one (default 10 min). */
  dedupeWindowMs?: number;
  /** Global token bucket burst (default 25). */
  burst?: number;
  /** Global refill rate, writes per second (default 1). */
  ratePerSec?: number;
  /** Max remembered series (LRU; default 4096). */
  maxEntries?: number;
  /** Clock at construction (ms). */
  now: number;
}

/** Identity of an event for de-duplication. */
export function eventKey(regarding: EventRegarding, ev: EventInput): string {
  return JSON.stringify([regarding.uid, regarding.kind ?? '', regarding.namespace ?? '', regarding.name, ev.type, ev.reason, ev.action, ev.note]);
}

/**
 * Decides, per event, whether to create a new Event, patch an existing series, or drop (rate limit), and
 * remembers what was written. Pure: time is passed in, no IO.
 */
export class EventCorrelator {
  readonly dedupeWindowMs: number;
  readonly maxEntries: number;
  readonly #bucket: TokenBucket;
  /** Insertion-ordered map used as an LRU. */
  readonly #series = new Map<string, SeriesEntry>();

  constructor(opts: EventCorrelatorOptions) {
    this.dedupeWindowMs = opts.dedupeWindowMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 4096;
    this.#bucket = new TokenBucket({ burst: opts.burst ?? 25, ratePerSec: opts.ratePerSec ?? 1, now: opts.now });
  }

  /** Number of remembered series. */
  get size(): number {
    return this.#series.size;
  }

  /** Records one occurrence at `now` and returns what to write. */
  observe(regarding: EventRegarding, ev: EventInput, namespace: string, now: number): EventAction {
    const key = eventKey(regarding, ev);
    let entry = this.#series.get(key);
    if (entry && now - entry.lastSeen > this.dedupeWindowMs) {
      this.#series.delete(key);
      entry = undefined;
    }
    if (entry) {
      // Refresh LRU position.
      this.#series.delete(key);
      this.#series.set(key, entry);
      entry.count++;
      entry.lastSeen = now;
      if (entry.eventName === undefined) return { op: 'drop', key, why: 'pending' };
      if (!this.#bucket.tryTake(now)) return { op: 'drop', key, why: 'rate-limited' };
      return { op: 'series', key, eventName: entry.eventName, namespace: entry.namespace, count: entry.count };
    }
    if (!this.#bucket.tryTake(now)) return { op: 'drop', key, why: 'rate-limited' };
    this.#series.set(key, { eventName: undefined, namespace, count: 1, firstSeen: now, lastSeen: now });
    this.#evict(now);
    return { op: 'create', key };
  }

  /** Records that the Event for `key` was created with `eventName`. */
  created(key: string, eventName: string): void {
    const e = this.#series.get(key);
    if (e) e.eventName = eventName;
  }

  /** Forgets `key` (its create failed, or its Event is gone): the next occurrence creates a new Event. */
  forget(key: string): void {
    this.#series.delete(key);
  }

  #evict(now: number): void {
    for (const [k, e] of this.#series) {
      if (this.#series.size <= this.maxEntries && now - e.lastSeen <= this.dedupeWindowMs) break;
      this.#series.delete(k);
    }
  }
}

/** Truncates `s` to at most `maxBytes` UTF-8 bytes, marking the cut with an ellipsis. */
export function truncateBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const ell = '…';
  const budget = maxBytes - Buffer.byteLength(ell, 'utf8');
  let out = Buffer.from(s, 'utf8').subarray(0, budget).toString('utf8');
  // Drop a partially cut multi-byte character (decoded as U+FFFD).
  while (out.endsWith('\uFFFD')) out = out.slice(0, -1);
  return out + ell;
}

/** Event name as client-go makes it: `<object name>.<hex unix nanos>`, kept within 253 characters. */
export function eventName(objectName: string, nowMs: number, seq = 0): string {
  const suffix = (BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(seq % 1_000_000)).toString(16);
  return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

// ---------------------------------------------------------------------------------------------------------
// IO part
// ---------------------------------------------------------------------------------------------------------

/** The subset of `EventsV1Api` the recorder uses (injectable for tests). */
export interface EventsApi {
  createNamespacedEvent(p: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event>;
  patchNamespacedEvent(p: { name: string; namespace: string; body: unknown }): Promise<EventsV1Event>;
}

/** Options of {@link EventRecorder}. */
export interface EventRecorderOptions extends Omit<EventCorrelatorOptions, 'now'> {
  /** Used to build the API client unless `api` is given. */
  kubeConfig?: KubeConfig;
  /** Injected API (tests). */
  api?: EventsApi;
  log?: Logger;
  /** Pod name / identity of this replica. */
  reportingInstance: string;
  /** Default {@link REPORTING_CONTROLLER}. */
  reportingController?: string;
  /** Clock (ms), default `Date.now`. */
  now?: () => number;
  /** Writes waiting at most (default 1,000); beyond it new writes are dropped. */
  maxQueued?: number;
  /** Writes in flight at most (default 1). */
  writers?: number;
  /**
   * True while the caller is busy (the operator: releases wait in its work queue): writes are held so status
   * writes get the API server first, each at most `maxDeferMs` (default 10 s) — then it is written anyway.
   */
  defer?: () => boolean;
  maxDeferMs?: number;
  /** Called for every dropped event: by the rate limit, or because the write queue was full. */
  onDrop?: (why: 'rate-limited' | 'queue-full') => void;
}

/** One write waiting for a writer. */
type QueuedWrite =
  | { op: 'create'; key: string; regarding: EventRegarding; input: EventInput; namespace: string; now: number }
  | { op: 'series'; key: string; eventName: string; namespace: string; count: number; regarding: EventRegarding; input: EventInput; now: number };

/** Writes Kubernetes Events; never throws. */
export class EventRecorder {
  readonly #api: EventsApi;
  readonly #log: Logger | undefined;
  readonly #correlator: EventCorrelator;
  readonly #now: () => number;
  readonly #instance: string;
  readonly #controller: string;
  readonly #maxQueued: number;
  readonly #writers: number;
  readonly #onDrop: EventRecorderOptions['onDrop'];
  readonly #defer: (() => boolean) | undefined;
  readonly #maxDeferMs: number;
  #deferTimer: NodeJS.Timeout | undefined;
  /** Waiting writes, FIFO; a series key maps to its waiting write so later counts merge into it. */
  #queue: QueuedWrite[] = [];
  readonly #waitingSeries = new Map<string, QueuedWrite & { op: 'series' }>();
  #running = 0;
  #idle: Array<() => void> = [];
  #seq = 0;
  #dropped = 0;

  constructor(opts: EventRecorderOptions) {
    if (opts.api) this.#api = opts.api;
    else if (opts.kubeConfig) this.#api = apiClient(opts.kubeConfig, EventsV1Api);
    else throw new Error('EventRecorder: kubeConfig or api is required');
    this.#log = opts.log?.child({ component: 'events' });
    this.#now = opts.now ?? Date.now;
    this.#instance = truncateBytes(opts.reportingInstance || 'unknown', 128);
    this.#controller = opts.reportingController ?? REPORTING_CONTROLLER;
    this.#correlator = new EventCorrelator({ ...opts, now: this.#now() });
    this.#maxQueued = Math.max(1, opts.maxQueued ?? 1000);
    this.#writers = Math.max(1, opts.writers ?? 1);
    this.#onDrop = opts.onDrop;
    this.#defer = opts.defer;
    this.#maxDeferMs = opts.maxDeferMs ?? 10_000;
  }

  /** Writes waiting for a writer. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Events dropped (rate limit or full queue) so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Records an event about `regarding`. Fire-and-forget: returns at once, never throws. */
  event(regarding: EventRegarding, ev: EventInput): void {
    try {
      const input: EventInput = {
        type: ev.type === 'Warning' ? 'Warning' : 'Normal',
        reason: truncateBytes(ev.reason || 'Unknown', 128),
        action: truncateBytes(ev.action || 'Unknown', 128),
        note: truncateBytes(ev.note ?? '', 1024),
      };
      const namespace = regarding.namespace || 'default';
      const now = this.#now();
      const decision = this.#correlator.observe(regarding, input, namespace, now);
      if (decision.op === 'drop') {
        if (decision.why === 'rate-limited') this.#drop('rate-limited', input, regarding);
        return;
      }
      if (decision.op === 'series') {
        const waiting = this.#waitingSeries.get(decision.key);
        if (waiting) {
          // Coalesce: the waiting update writes the latest count.
          waiting.count = decision.count;
          waiting.now = now;
          return;
        }
      }
      if (this.#queue.length >= this.#maxQueued) {
        if (decision.op === 'create') this.#correlator.forget(decision.key);
        this.#drop('queue-full', input, regarding);
        return;
      }
      const w: QueuedWrite = decision.op === 'create'
        ? { op: 'create', key: decision.key, regarding, input, namespace, now }
        : { ...decision, regarding, input, now };
      if (w.op === 'series') this.#waitingSeries.set(w.key, w);
      this.#queue.push(w);
      this.#pump();
    } catch (err) {
      this.#log?.warn({ err }, 'failed to record event');
    }
  }

  /** Resolves when every write queued so far has finished (bounded by the API client's own timeouts). */
  async flush(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #drop(why: 'rate-limited' | 'queue-full', input: EventInput, regarding: EventRegarding): void {
    this.#dropped++;
    try {
      this.#onDrop?.(why);
    } catch {
      // A faulty hook must not break recording.
    }
    this.#log?.debug({ reason: input.reason, object: regarding.name, why }, 'event dropped');
  }

  /** True when the writes should wait: the caller is busy and the oldest waiting write may wait longer. */
  #holding(): boolean {
    if (!this.#defer || this.#queue.length === 0) return false;
    if (this.#now() - this.#queue[0]!.now >= this.#maxDeferMs) return false;
    let busy = false;
    try {
      busy = this.#defer();
    } catch {
      busy = false;
    }
    if (busy && !this.#deferTimer) {
      this.#deferTimer = setTimeout(() => {
        this.#deferTimer = undefined;
        this.#pump();
      }, Math.min(250, this.#maxDeferMs));
      this.#deferTimer.unref();
    }
    return busy;
  }

  #pump(): void {
    while (this.#running < this.#writers && this.#queue.length > 0 && !this.#holding()) {
      const w = this.#queue.shift()!;
      if (w.op === 'series') this.#waitingSeries.delete(w.key);
      this.#running++;
      const p = w.op === 'create' ? this.#create(w.key, w.regarding, w.input, w.namespace, w.now) : this.#patchSeries(w, w.regarding, w.input, w.now);
      void p.catch(() => undefined).finally(() => {
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#queue.length === 0) {
          const waiters = this.#idle;
          this.#idle = [];
          for (const r of waiters) r();
        }
      });
    }
  }

  async #create(key: string, regarding: EventRegarding, ev: EventInput, namespace: string, now: number): Promise<void> {
    const name = eventName(regarding.name, now, this.#seq++);
    const body: EventsV1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: new V1MicroTime(now),
      reportingController: this.#controller,
      reportingInstance: this.#instance,
      action: ev.action,
      reason: ev.reason,
      note: ev.note,
      type: ev.type,
      regarding: {
        ...(regarding.apiVersion ? { apiVersion: regarding.apiVersion } : {}),
        ...(regarding.kind ? { kind: regarding.kind } : {}),
        name: regarding.name,
        ...(regarding.namespace ? { namespace: regarding.namespace } : {}),
        ...(regarding.uid ? { uid: regarding.uid } : {}),
        ...(regarding.resourceVersion ? { resourceVersion: regarding.resourceVersion } : {}),
      },
    };
    try {
      await this.#api.createNamespacedEvent({ namespace, body });
      this.#correlator.created(key, name);
    } catch (err) {
      this.#correlator.forget(key);
      this.#log?.warn({ err: errInfo(err), reason: ev.reason, object: `${namespace}/${regarding.name}` }, 'failed to create event');
    }
  }

  async #patchSeries(
    d: { key: string; eventName: string; namespace: string; count: number },
    regarding: EventRegarding,
    ev: EventInput,
    now: number,
  ): Promise<void> {
    const patch = [{ op: 'add', path: '/series', value: { count: d.count, lastObservedTime: new V1MicroTime(now) } }];
    try {
      await this.#api.patchNamespacedEvent({ name: d.eventName, namespace: d.namespace, body: patch });
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (code === 404) {
        // The Event expired (events have a TTL): start a new series with a fresh Event.
        this.#correlator.forget(d.key);
        this.event(regarding, ev);
        return;
      }
      this.#log?.warn({ err: errInfo(err), reason: ev.reason, event: d.eventName }, 'failed to update event series');
    }
  }
}

function errInfo(err: unknown): { message: string; code?: number } {
  const code = (err as { code?: unknown } | null)?.code;
  return { message: err instanceof Error ? err.message : String(err), ...(typeof code === 'number' ? { code } : {}) };
}
