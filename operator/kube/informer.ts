/**
 * A ListWatch informer: a local cache of one resource kept current by a list followed by a watch.
 *
 * It survives what a long-running watch meets in practice:
 *  - 410 Gone (the resourceVersion was compacted away): re-list and diff against the cache;
 *  - errors and dropped connections: restart with jittered exponential backoff (0.8 s to 30 s);
 *  - silent stalls: the watch request carries a server-side timeout, and an inactivity watchdog aborts a
 *    connection that stays silent past it and re-lists.
 * There is no periodic re-list (a full LIST costs the API server on every replica): the informer lists at
 * start, after 410 Gone and after errors, and otherwise resumes watches from the last resourceVersion
 * (bookmarks keep it fresh). An optional resync re-delivers the cached objects as `update(obj, obj)` events
 * from memory, without any request — client-go's resync semantics.
 * Handlers receive the object as cached; reconcilers must read the latest object from the cache,
 * never act on the event payload alone.
 */
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Backoff } from './backoff.ts';

export type InformerEvent = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (event: InformerEvent, obj: T, old: T | undefined) => void;

/** A page of a list call: the items and the list's resourceVersion / continue token. */
export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface InformerOptions<T> {
  kubeConfig: KubeConfig;
  /** Human name for logs and metrics, e.g. `productreleases`. */
  resource: string;
  /** API path to watch, e.g. `/apis/cra-gate.dev/v1alpha1/productreleases`. */
  watchPath: string;
  /** Lists one page. */
  list: (opts: { limit: number; continueToken?: string }) => Promise<ListPage<T>>;
  log: Logger;
  /** Re-deliver every cached object as `update(obj, obj)` this often, from the cache (default: never). */
  resyncIntervalMs?: number;
  /** Server-side watch timeout (default 50 s, jittered ±10 %); the server then closes and we renew. */
  watchTimeoutSeconds?: number;
  /**
   * Abort a watch connection that has been silent this long, including one whose request never got an
   * answer (default watchTimeout + 20 s). The server closes healthy watches before this, so silence past
   * it means a stalled server or a dead connection.
   */
  inactivityTimeoutMs?: number;
  pageSize?: number;
  onWatchRestart?: (reason: string) => void;
  /** Applied to every object before it is cached (e.g. dropping managedFields to save memory). */
  transform?: (obj: T) => T;
}

/**
 * Drops what the operator never reads but every object carries: `metadata.managedFields` and kubectl's
 * last-applied-configuration annotation — most of a small object's bytes.
 */
export function stripBookkeeping<T extends KubernetesObject>(obj: T): T {
  const md = obj.metadata;
  if (!md) return obj;
  const { managedFields: _m, annotations, ...rest } = md;
  let kept = annotations;
  if (annotations && 'kubectl.kubernetes.io/last-applied-configuration' in annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _l, ...others } = annotations;
    kept = others;
  }
  return { ...obj, metadata: { ...rest, ...(kept && Object.keys(kept).length ? { annotations: kept } : {}) } };
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** A list page that takes longer than this is abandoned and retried (a stalled server must not wedge us). */
const LIST_TIMEOUT_MS = 30_000;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface WatchStatus {
  code?: number;
  reason?: string;
  message?: string;
}

export class Informer<T extends KubernetesObject> {
  private readonly opts: Required<Omit<InformerOptions<T>, 'onWatchRestart' | 'transform' | 'resyncIntervalMs'>> &
    Pick<InformerOptions<T>, 'onWatchRestart' | 'transform' | 'resyncIntervalMs'>;
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly backoff = new Backoff({ initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0.2 });
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = false;
  private synced = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private firstSync: { resolve: () => void; promise: Promise<void> };
  /** Incremented per watch connection; events of superseded connections are dropped. */
  private generation = 0;
  /** Consecutive watch connections the server closed without delivering a single event. */
  private emptyCloses = 0;

  constructor(opts: InformerOptions<T>) {
    const watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 50;
    this.opts = {
      watchTimeoutSeconds,
      inactivityTimeoutMs: (watchTimeoutSeconds * 1.1 + 20) * 1000,
      pageSize: 500,
      ...opts,
    };
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstSync = { resolve, promise };
  }

  on(handler: InformerHandler<T>): void {
    this.handlers.push(handler);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get size(): number {
    return this.cache.size;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Starts list+watch; resolves after the first successful list. */
  async start(): Promise<void> {
    this.stopped = false;
    void this.relistAndWatch('start');
    if (this.opts.resyncIntervalMs) {
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncIntervalMs);
      this.resyncTimer.unref();
    }
    return this.firstSync.promise;
  }

  /** Re-delivers every cached object as `update(obj, obj)`, from memory (no API request). */
  resync(): void {
    if (!this.synced || this.stopped) return;
    for (const obj of [...this.cache.values()]) this.emit('update', obj, obj);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    this.generation++;
    this.abort?.abort();
    this.abort = undefined;
  }

  private emit(event: InformerEvent, obj: T, old: T | undefined): void {
    for (const h of this.handlers) {
      try {
        h(event, obj, old);
      } catch (err) {
        this.opts.log.error({ err, resource: this.opts.resource }, 'informer handler threw');
      }
    }
  }

  private async listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page: ListPage<T> = await withTimeout(
        this.opts.list({ limit: this.opts.pageSize, ...(continueToken ? { continueToken } : {}) }),
        LIST_TIMEOUT_MS,
        `listing ${this.opts.resource}`,
      );
      const t = this.opts.transform;
      items.push(...(t ? page.items.map(t) : page.items));
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken && !this.stopped);
    return { items, resourceVersion };
  }

  private relisting = false;

  private async relistAndWatch(reason: string): Promise<void> {
    if (this.stopped || this.relisting) return;
    this.relisting = true;
    clearTimeout(this.retryTimer);
    this.generation++;
    this.abort?.abort();
    this.abort = undefined;
    try {
      const { items, resourceVersion } = await this.listAll();
      if (this.stopped) return;
      this.replace(items);
      this.resourceVersion = resourceVersion;
      if (reason !== 'start') this.opts.log.info({ resource: this.opts.resource, reason, count: items.length }, 're-listed');
      if (!this.synced) {
        this.synced = true;
        this.firstSync.resolve();
      }
      this.relisting = false;
      await this.watch();
    } catch (err) {
      this.relisting = false;
      this.scheduleRetry('list-error', err, true);
    }
  }

  /** Replaces the cache with a fresh list, emitting the differences. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('add', obj, undefined);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old, old);
      }
    }
  }

  private armWatchdog(gen: number): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (gen !== this.generation || this.stopped) return;
      this.opts.log.warn({ resource: this.opts.resource, silentMs: this.opts.inactivityTimeoutMs }, 'watch silent past its deadline; re-listing');
      this.generation++;
      this.abort?.abort();
      this.scheduleRetry('stall', undefined, true);
    }, this.opts.inactivityTimeoutMs);
    this.watchdog.unref();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    const watch = new Watch(this.opts.kubeConfig);
    // The library's own inactivity timer (30 s) would cut quiet but healthy watches; our watchdog owns that.
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.opts.inactivityTimeoutMs + 5_000;
    const timeoutSeconds = Math.round(this.opts.watchTimeoutSeconds * (0.9 + Math.random() * 0.2));
    this.armWatchdog(gen);
    let received = 0;
    const onEvent = (type: string, obj: unknown): void => {
      if (gen !== this.generation) return;
      received++;
      this.armWatchdog(gen);
      this.handleEvent(gen, type, obj);
    };
    const onDone = (err: unknown): void => {
      if (gen !== this.generation || this.stopped) return;
      clearTimeout(this.watchdog);
      if (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 410) {
          this.opts.onWatchRestart?.('gone');
          void this.relistAndWatch('gone');
          return;
        }
        this.scheduleRetry('watch-error', err, false);
        return;
      }
      // Server closed the watch (its timeoutSeconds, or a restart): resume from the last resourceVersion.
      // A close that delivered no event at all counts as a failure, so a server that keeps closing at once
      // is not hammered and, after a few, is re-listed.
      this.opts.log.debug({ resource: this.opts.resource, events: received }, 'watch closed by the server; resuming');
      if (received === 0 && ++this.emptyCloses >= 3) {
        this.emptyCloses = 0;
        this.scheduleRetry('closed-early', undefined, true);
        return;
      }
      if (received > 0) this.emptyCloses = 0;
      void this.watch().catch((e: unknown) => this.scheduleRetry('watch-error', e, false));
    };
    try {
      const abort = await watch.watch(
        this.opts.watchPath,
        { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        onEvent,
        onDone,
      );
      // A newer connection (or stop) may have superseded this one while it was being established.
      if (gen === this.generation && !this.stopped) this.abort = abort;
      else abort.abort();
    } catch (err) {
      onDone(err);
    }
  }

  private handleEvent(gen: number, type: string, raw: unknown): void {
    const obj = type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED' ? (this.opts.transform?.(raw as T) ?? (raw as T)) : (raw as T);
    if (type === 'ERROR') {
      const status = raw as WatchStatus;
      this.generation++;
      this.abort?.abort();
      clearTimeout(this.watchdog);
      if (status.code === 410) {
        this.opts.log.info({ resource: this.opts.resource, message: status.message }, 'watch expired (410 Gone); re-listing');
        this.opts.onWatchRestart?.('gone');
        void this.relistAndWatch('gone');
      } else {
        this.scheduleRetry('watch-error-event', new Error(status.message ?? 'watch error'), false);
      }
      return;
    }
    if (gen !== this.generation) return;
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    this.backoff.reset();
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', obj, old);
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      this.cache.set(key, obj);
      this.emit(old ? 'update' : 'add', obj, old);
    }
  }

  private scheduleRetry(reason: string, err: unknown, relist: boolean): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    const delay = this.backoff.next();
    this.opts.onWatchRestart?.(reason);
    this.opts.log.warn(
      { resource: this.opts.resource, reason, delayMs: delay, err: err instanceof Error ? err.message : err },
      'watch interrupted; retrying',
    );
    this.retryTimer = setTimeout(() => {
      if (relist || !this.resourceVersion) void this.relistAndWatch(reason);
      else void this.watch().catch((e: unknown) => this.scheduleRetry('watch-error', e, true));
    }, delay);
    this.retryTimer.unref();
  }
}
