/**
 * The ProductRelease controller: watch → queue → reconcile.
 *
 * Informers on ProductRelease and ReleasePolicy feed one work queue keyed by `namespace/name`.
 * What enqueues a release: it appears; its generation or labels change (a spec edit); its status was changed
 * by someone else; its policy changes; a ConfigMap or Secret its last evaluation read changes; a feed its policy
 * uses changed; a periodic re-evaluation comes due (requeueAfter).
 *
 * Own writes are recognised by resourceVersion bookkeeping, never by comparing content: the status writer
 * returns the resourceVersion our server-side apply produced; an update event that carries exactly that
 * resourceVersion (with `status.observedGeneration == metadata.generation`) is the echo of our write. An event
 * for a key whose reconcile is still running is decided when that reconcile has finished (its write's version
 * is known then).
 *
 * Informers run on every replica (caches stay warm for admission); only the leader processes the queue.
 * Losing leadership cancels every running reconcile at once (their AbortSignals), and every write is fenced:
 * it happens only while this replica holds the Lease.
 */
import { registerConformityMetrics } from './conformity-metrics.ts';
import { CraFileWriter } from '../kube/cra-file.ts';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  GROUP,
  VERSION,
  PRODUCT_RELEASE_PLURAL,
  RELEASE_POLICY_PLURAL,
  type ProductRelease,
} from '../api/types.ts';
import { Informer, objectKey, type ListPage } from '../kube/informer.ts';
import { projectObject, type CachedPolicy, type CachedRelease } from '../kube/projection.ts';
import { WorkQueue, type Priority } from './queue.ts';
import { reconcileRelease, recordRejection, throwIfCancelled, type ReconcileDeps, type StatusSink } from './reconcile.ts';
import { reconcilePolicyStatus } from './policy-status.ts';
import { StatusWriter } from '../kube/status.ts';
import { clusterSources, type OptInCache } from '../evidence/cluster.ts';
import type { EvidenceSources } from '../evidence/collect.ts';
import type { EventRecorder } from '../kube/events.ts';
import { RELEASE_QUEUE_NAME, type Metrics } from '../metrics.ts';
import { CraGateError, reasonOf } from '../errors.ts';
import { canonicalJson } from '../util/canonical.ts';
import { FeedRefresher } from './feed-refresher.ts';
import { feedKey, feedRefs, type FeedRef } from '../evidence/feeds.ts';
import type { EvidenceRuntime } from '../evidence/runtime.ts';
import type { DecisionKey } from '../attestation/decision.ts';
import { httpStatus } from '../kube/api-errors.ts';
import { ReferenceIndex, recordingSources, refKey, type RefKind } from './references.ts';
import { SequenceHighWater } from '../attestation/high-water.ts';
import { inputDigest, inputsCurrent, restartPlan, type InputContext } from './inputs.ts';
import { packageVersion } from '../util/version.ts';
import { signatureCurrent } from '../attestation/decision.ts';
import { apiClient } from '../kube/pool.ts';

/** Queue keys of ReleasePolicies (cluster-scoped) carry this prefix; release keys are `namespace/name`. */
const POLICY_KEY_PREFIX = 'policy:';
/** Releases planned per event-loop turn when leadership starts. */
const PLAN_SLICE = 250;
/** Default deadline of one reconcile (evidence collection included). */
const DEFAULT_RECONCILE_TIMEOUT_MS = 180_000;

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  metrics: Metrics;
  events: EventRecorder;
  defaultPolicy: string;
  concurrency: number;
  /** Restrict to one namespace (default: all). */
  namespace?: string;
  now?: () => Date;
  /** Re-deliver cached releases to the event handlers this often, from the cache (default: never). */
  resyncIntervalMs?: number;
  watchTimeoutSeconds?: number;
  /** Deadline of one reconcile in ms (default 180 s); past it the reconcile is cancelled and retried. */
  reconcileTimeoutMs?: number;
  /**
   * Whether this replica may write now (the leader elector's `holdsLease`); checked right before every write.
   * Default: while leading.
   */
  holdsLease?: () => boolean;
  /** Watch the ConfigMaps releases and policies read, to re-evaluate on their change (default true; needs list/watch on ConfigMaps). */
  watchReferences?: boolean;
  /**
   * Also watch the Secrets releases read (default false: list/watch on Secrets exposes every Secret of those
   * namespaces to the operator, so it is opt-in; without it a changed Secret is seen at the next re-evaluation).
   */
  watchSecrets?: boolean;
  /** Decision signing key (issue 9); when absent, decisions are written unsigned (the webhook trusts none). */
  signingKey?: () => DecisionKey | undefined;
  /** The operator's namespace: Secret references are limited to it and opted-in namespaces (../evidence/cluster.ts). */
  operatorNamespace?: string;
  /**
   * Network capability, feed store, SBOM analysis cache and worker limit for evidence collection: created once
   * by the composition root (operator/main.ts: `createEvidenceRuntime`), shared by every reconcile.
   */
  evidence: EvidenceRuntime;
  /** Feed refresh loop interval (default 1 h; CRA_GATE_FEED_REFRESH_SECONDS in config.ts). */
  feedRefreshMs?: number;
  /** Warning window for expiring waivers in days (default 7). */
  waiverWarnDays?: number;
}

/** Why an update event of a release does or does not enqueue it. */
export type UpdateCause = 'spec' | 'labels' | 'status' | 'own' | 'none';

/**
 * Classifies an update of a cached release. `ownVersion` is the resourceVersion our last status write produced.
 *  - generation or labels changed → a spec edit: reconcile;
 *  - the object carries the version we wrote and its status is for the current generation → our own write;
 *  - the status is for an older generation, or differs from the previous cached status → someone else wrote it;
 *  - anything else (annotations, finalizers, a resync) → nothing to do.
 */
export function updateCause(obj: ProductRelease, old: ProductRelease | undefined, ownVersion: string | undefined): UpdateCause {
  if (!old) return 'spec';
  if (obj.metadata?.generation !== old.metadata?.generation) return 'spec';
  if (canonicalJson(obj.metadata?.labels ?? {}) !== canonicalJson(old.metadata?.labels ?? {})) return 'labels';
  const current = obj.status?.observedGeneration === obj.metadata?.generation;
  if (ownVersion !== undefined && obj.metadata?.resourceVersion === ownVersion && current) return 'own';
  if (!current) return 'status';
  if (obj.metadata?.resourceVersion === old.metadata?.resourceVersion) return 'none';
  return canonicalJson(obj.status ?? null) !== canonicalJson(old.status ?? null) ? 'status' : 'none';
}

/** Keeps only what the reference watch needs: identity and version (no data — memory stays bounded). */
function metadataOnly<T extends KubernetesObject>(obj: T): T {
  const md = obj.metadata ?? {};
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { name: md.name, namespace: md.namespace, resourceVersion: md.resourceVersion, uid: md.uid },
  } as T;
}

export class ReleaseController {
  /** The cached projection of every ProductRelease (../kube/projection.ts: what reconcile, webhook and metrics read). */
  readonly releases: Informer<CachedRelease>;
  readonly policies: Informer<CachedPolicy>;
  readonly queue: WorkQueue;
  /** Which ConfigMaps/Secrets each release's last evaluation read. */
  readonly references = new ReferenceIndex();
  /** The evaluation sequences this replica signed, per release uid (passed to every reconcile). */
  private readonly sealed = new SequenceHighWater();
  /** Feed refresh loop + waiver warnings (issue 5), started with leadership. */
  private feedRefresher: FeedRefresher | undefined;
  private readonly opts: ControllerOptions;
  private readonly craFiles: CraFileWriter;
  private readonly decisions = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  /** The resourceVersion our last status write produced, per key. */
  private readonly written = new Map<string, string>();
  /** Status-only update events that arrived while the key's reconcile was running: the latest version seen. */
  private readonly deferred = new Map<string, string>();
  /** Namespace-scoped, metadata-only informers on referenced ConfigMaps/Secrets: `kind/namespace` → informer. */
  private readonly refWatches = new Map<string, Informer<KubernetesObject>>();
  private readonly core: CoreV1Api;
  /** `kind/namespace` watches the API server refused (403): not retried, logged once. */
  private readonly refForbidden = new Set<string>();
  private leading = false;
  private stopped = false;
  /** Which namespaces opted in to Secret references (cached by the cluster evidence sources). */
  private readonly secretOptIns: OptInCache = new Map();

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    const api = apiClient(opts.kubeConfig, CustomObjectsApi);
    this.core = apiClient(opts.kubeConfig, CoreV1Api);
    const { log, metrics } = opts;
    const ns = opts.namespace;
    registerConformityMetrics(metrics.registry, () => this.releases.list());
    const common = {
      kubeConfig: opts.kubeConfig,
      log,
      ...(opts.resyncIntervalMs ? { resyncIntervalMs: opts.resyncIntervalMs } : {}),
      ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
    };
    this.releases = new Informer<CachedRelease>({
      ...common,
      transform: (r) => projectObject(r),
      resource: PRODUCT_RELEASE_PLURAL,
      watchPath: ns
        ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PRODUCT_RELEASE_PLURAL}`
        : `/apis/${GROUP}/${VERSION}/${PRODUCT_RELEASE_PLURAL}`,
      list: async ({ limit, continueToken }) =>
        (ns
          ? await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PRODUCT_RELEASE_PLURAL, limit, ...(continueToken ? { _continue: continueToken } : {}) })
          : await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PRODUCT_RELEASE_PLURAL, limit, ...(continueToken ? { _continue: continueToken } : {}) })) as ListPage<CachedRelease>,
      onWatchRestart: (reason) => metrics.watchRestartsTotal.inc({ resource: PRODUCT_RELEASE_PLURAL, reason }),
    });
    this.policies = new Informer<CachedPolicy>({
      ...common,
      transform: (p) => projectObject(p),
      resource: RELEASE_POLICY_PLURAL,
      watchPath: `/apis/${GROUP}/${VERSION}/${RELEASE_POLICY_PLURAL}`,
      list: async ({ limit, continueToken }) =>
        (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: RELEASE_POLICY_PLURAL, limit, ...(continueToken ? { _continue: continueToken } : {}) })) as ListPage<CachedPolicy>,
      onWatchRestart: (reason) => metrics.watchRestartsTotal.inc({ resource: RELEASE_POLICY_PLURAL, reason }),
    });

    const writer = new StatusWriter(opts.kubeConfig);
    this.craFiles = new CraFileWriter(opts.kubeConfig);
    const fence = (): void => {
      if (!this.mayWrite()) throw new CraGateError('ReconcileCancelled', 'not the leader any more; nothing is written');
    };
    // Every write is fenced right before it is sent, and the version it produced is recorded (own-write bookkeeping).
    const status: StatusSink = {
      apply: async (target, body, o = {}) => {
        throwIfCancelled(o.signal);
        fence();
        const w = await writer.apply(target, body, o);
        const key = target.namespace ? `${target.namespace}/${target.name}` : target.name;
        const wkey = target.namespace ? key : POLICY_KEY_PREFIX + key;
        if (w) this.written.set(wkey, w.resourceVersion);
        return w;
      },
    };
    const now = opts.now ?? (() => new Date());

    this.queue = new WorkQueue({
      concurrency: opts.concurrency,
      timeoutMs: opts.reconcileTimeoutMs ?? DEFAULT_RECONCILE_TIMEOUT_MS,
      handler: async (key, signal) => {
        try {
          return await this.handle(key, signal, status, fence, now);
        } finally {
          // A status change seen while this ran: ours (the version we just wrote) or someone else's (run again).
          const seen = this.deferred.get(key);
          this.deferred.delete(key);
          if (seen !== undefined && seen !== this.written.get(key)) this.enqueue(key);
        }
      },
      metrics: metrics.queueHooks(RELEASE_QUEUE_NAME),
      onError: (key, err, willRetry, retryInMs) => {
        const e = err as Error;
        const code = (err as { code?: string }).code;
        const level = code === 'Conflict' || code === 'ReconcileCancelled' ? 'debug' : 'warn';
        log[level]({ release: key, err: e.message, code, willRetry, retryInMs }, 'reconcile failed');
      },
    });
    metrics.observeQueue(RELEASE_QUEUE_NAME, this.queue);

    this.releases.on((event, obj, old) => {
      const key = objectKey(obj);
      if (event === 'delete') {
        this.written.delete(key);
        this.deferred.delete(key);
        this.references.delete(key);
        this.setDecision(key, undefined);
        this.syncReferenceWatches();
        return;
      }
      if (event === 'add') return this.enqueue(key);
      const cause = updateCause(obj, old, this.written.get(key));
      if (cause === 'own' || cause === 'none') return;
      if (cause === 'status' && this.queue.isProcessing(key)) {
        this.deferred.set(key, obj.metadata?.resourceVersion ?? '');
        return;
      }
      this.enqueue(key);
    });
    this.policies.on((event, policy, old) => {
      const name = policy.metadata?.name;
      if (!name) return;
      const specChanged = event !== 'update' || policy.metadata?.generation !== old?.metadata?.generation;
      const own = this.written.get(POLICY_KEY_PREFIX + name) === policy.metadata?.resourceVersion;
      const statusCurrent = policy.status?.observedGeneration === policy.metadata?.generation;
      if (event !== 'delete' && (specChanged || !own || !statusCurrent)) {
        if (specChanged || !statusCurrent || canonicalJson(policy.status ?? null) !== canonicalJson(old?.status ?? null)) this.enqueue(POLICY_KEY_PREFIX + name);
      }
      if (!specChanged) return; // a status-only change of the policy does not change any verdict
      // A policy edit re-evaluates all its releases: in the low lane, so new releases do not wait behind the wave.
      for (const rel of this.releases.list()) {
        if ((rel.spec?.policyRef || opts.defaultPolicy) === name) this.enqueue(objectKey(rel), 'low');
      }
      this.syncReferenceWatches();
    });
  }

  /** One queue item: a policy's status, or a release. */
  private async handle(key: string, signal: AbortSignal, status: StatusSink, fence: () => void, now: () => Date): ReturnType<typeof reconcileRelease> {
    const { metrics, log } = this.opts;
    // A retry or requeue timer that fires after leadership was lost does no work (not even reads); the next
    // leadership re-queues every key.
    if (!this.leading) return;
    const started = performance.now();
    if (key.startsWith(POLICY_KEY_PREFIX)) {
      const policy = this.policies.get(key.slice(POLICY_KEY_PREFIX.length));
      if (policy) await reconcilePolicyStatus(policy, status, now(), signal);
      return;
    }
    const reads = new Set<string>();
    const deps: ReconcileDeps = {
      getRelease: (k) => this.releases.get(k),
      getPolicy: (n) => this.policies.get(n),
      sources: recordingSources(this.evidenceSources(signal), (kind, ns, name) => reads.add(refKey(kind, ns, name))),
      runtime: this.opts.evidence,
      sealed: this.sealed,
      status,
      fence,
      events: this.opts.events,
      metrics,
      log,
      defaultPolicy: this.opts.defaultPolicy,
      now,
      onDecision: (k, d) => this.setDecision(k, d),
      ...(this.opts.signingKey ? { signingKey: this.opts.signingKey } : {}),
      craFiles: this.craFiles,
      // Evidence read from ConfigMaps/Secrets cannot be confirmed unchanged after a restart: no record then.
      inputDigest: (release, policyName, policy, st) => (reads.size > 0 ? undefined : inputDigest(this.inputContext(release, policyName, policy, st))),
    };
    try {
      const res = await reconcileRelease(deps, key, signal);
      // What this evaluation read is what a change of must re-evaluate it.
      this.references.set(key, reads);
      this.syncReferenceWatches();
      metrics.observeReconcile('success', (performance.now() - started) / 1000);
      return res;
    } catch (err) {
      if (reasonOf(err) === 'ApiRequestRejected') await recordRejection(deps, key, err, signal);
      metrics.observeReconcile('error', (performance.now() - started) / 1000, reasonOf(err));
      throw err;
    }
  }

  /** Starts the informers; resolves once both caches have listed. */
  async startInformers(): Promise<void> {
    await Promise.all([this.policies.start(), this.releases.start()]);
  }

  /** The restart context of a cached release: its inputs now, and (signing on) whether its signed decision holds. */
  private restartContext(rel: ProductRelease, now: Date): InputContext {
    const policyName = rel.spec?.policyRef || this.opts.defaultPolicy;
    const key = this.opts.signingKey?.();
    return {
      ...this.inputContext(rel, policyName, this.policies.get(policyName), rel.status),
      ...(key && rel.status ? { signatureHolds: (forMs: number) => signatureCurrent(key, rel, rel.status, rel.status!, now, 2 * forMs, this.sealed) } : {}),
    };
  }

  /**
   * Loads the feeds of the waiting releases' policies once each (not once per release), then plans those
   * releases again; a feed that does not load (or takes longer than a minute) leaves them to be re-evaluated.
   */
  private loadFeedsThenPlan(keys: string[], plan: (rel: ProductRelease, at: Date) => void): void {
    const refs = new Map<string, FeedRef>();
    for (const k of keys) {
      const rel = this.releases.get(k);
      for (const ref of feedRefs(this.policies.get(rel?.spec?.policyRef || this.opts.defaultPolicy))) refs.set(feedKey(ref), ref);
    }
    const sources = this.evidenceSources();
    const loads = Promise.allSettled([...refs.values()].map((ref) => this.opts.evidence.feeds.refresh(ref, sources)));
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 60_000);
      timer.unref();
    });
    void Promise.race([loads, limit]).then(() => {
      clearTimeout(timer);
      if (!this.leading) return;
      const at = (this.opts.now ?? (() => new Date()))();
      for (const k of keys) {
        const rel = this.releases.get(k);
        if (rel) plan(rel, at);
      }
    });
  }

  /** Enqueues a release (low lane) unless its recorded inputs are exactly the current ones. */
  private enqueueUnlessCurrent(key: string): void {
    const rel = this.releases.get(key);
    if (rel && inputsCurrent(this.restartContext(rel, (this.opts.now ?? (() => new Date()))()))) return;
    this.enqueue(key, 'low');
  }

  /** The fetch-free inputs of a release's decision (./inputs.ts). */
  private inputContext(release: CachedRelease, policyName: string, policy: CachedPolicy | undefined, status: ProductRelease['status']): InputContext {
    return {
      release,
      policyName,
      policy,
      feedDigest: (ref) => this.opts.evidence.feeds.state(ref)?.digest,
      engine: packageVersion(),
      signingKeyId: this.opts.signingKey?.()?.keyid,
      status,
    };
  }

  /**
   * Begins reconciling (called when this replica becomes the leader). Releases never decided, or edited since,
   * go first; a release whose recorded inputs (status.inputs) match what the cache says now waits for its
   * periodic re-evaluation (due times spread); everything else is re-evaluated in the low lane.
   */
  startLeading(): void {
    this.leading = true;
    for (const p of this.policies.list()) if (p.metadata?.name) this.queue.add(POLICY_KEY_PREFIX + p.metadata.name);
    const now = (this.opts.now ?? (() => new Date()))();
    let deferred = 0;
    /** Releases that wait for their policy's feeds to load before they can be confirmed unchanged. */
    const waiting: string[] = [];
    const plan = (rel: ProductRelease, at: Date, feedsLoaded: boolean): void => {
      const key = objectKey(rel);
      const p = restartPlan(this.restartContext(rel, at), at, key);
      if (p.action === 'defer') {
        this.queue.addAfter(key, p.afterMs, 'low');
        this.setDecision(key, rel.status?.decision);
        deferred++;
      } else if (p.feedsUnknown && !feedsLoaded) {
        waiting.push(key);
      } else {
        this.queue.add(key, p.priority);
      }
    };
    // Planned in slices, yielding between them: verifying a signed decision costs ~0.1–0.3 ms, and 20,000 of
    // them in one go would hold the event loop (the webhook and health probes share it) for seconds.
    const all = this.releases.list();
    const slice = (from: number): void => {
      if (!this.leading) return;
      const end = Math.min(all.length, from + PLAN_SLICE);
      for (let i = from; i < end; i++) {
        // The cached object now (it may have changed or gone since the list was taken).
        const rel = this.releases.get(objectKey(all[i]!));
        if (rel) plan(rel, now, false);
      }
      if (end < all.length) {
        setImmediate(() => slice(end));
        return;
      }
      if (waiting.length > 0) this.loadFeedsThenPlan(waiting, (rel, at) => plan(rel, at, true));
      this.opts.log.info({ releases: all.length, deferred, waitingForFeeds: waiting.length }, 'reconciling; releases whose recorded inputs are unchanged wait for their periodic re-evaluation');
    };
    slice(0);
    this.feedRefresher ??= new FeedRefresher({
      listPolicies: () => this.policies.list(),
      listReleases: () => this.releases.list(),
      defaultPolicy: this.opts.defaultPolicy,
      sources: this.evidenceSources(),
      // A changed feed re-evaluates every release of its policies — low lane (after new and edited releases) —
      // except those whose recorded inputs already include the feed's current content (a feed's first load
      // after a restart is a "change" of the store, not of what those decisions rest on).
      enqueue: (k) => this.enqueueUnlessCurrent(k),
      log: this.opts.log,
      events: this.opts.events,
      registry: this.opts.metrics.registry,
      store: this.opts.evidence.feeds,
      ...(this.opts.feedRefreshMs ? { intervalMs: this.opts.feedRefreshMs } : {}),
      ...(this.opts.waiverWarnDays ? { warnDays: this.opts.waiverWarnDays } : {}),
    });
    this.feedRefresher.start();
    this.syncReferenceWatches();
  }

  /**
   * Leadership is gone: no more writes (the fence fails from now on), and every running reconcile is cancelled
   * at once, so collectors and HTTP/registry requests stop instead of running on for seconds.
   */
  stopLeading(): void {
    this.leading = false;
    const n = this.queue.cancelAll('leadership lost');
    if (n > 0) this.opts.log.warn({ cancelled: n }, 'leadership lost: cancelled running reconciles');
  }

  isLeading(): boolean {
    return this.leading;
  }

  /** True while this replica may write: leading, not stopped, and (when given) still holding the Lease. */
  mayWrite(): boolean {
    return this.leading && !this.stopped && (this.opts.holdsLease?.() ?? true);
  }

  /**
   * Shutdown, in order: stop intake, cancel in-flight reconciles (and the feed refresh), wait for them to
   * return (bounded by `drainTimeoutMs`), stop the informers. The caller then releases the Lease.
   */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    this.leading = false;
    this.stopped = true;
    const drained = this.queue.shutdown({ drainTimeoutMs });
    await Promise.all([drained, this.feedRefresher?.stop()]);
    this.releases.stop();
    this.policies.stop();
    for (const w of this.refWatches.values()) w.stop();
    this.refWatches.clear();
  }

  /** Evidence sources for one reconcile (its signal), sharing the namespace opt-in cache across reconciles. */
  private evidenceSources(signal?: AbortSignal): EvidenceSources {
    return clusterSources(this.opts.kubeConfig, {
      optInCache: this.secretOptIns,
      ...(this.opts.operatorNamespace ? { operatorNamespace: this.opts.operatorNamespace } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  private enqueue(key: string, priority: Priority = 'normal'): void {
    if (this.leading) this.queue.add(key, priority);
  }

  /** Feed ConfigMaps named by policies: `ConfigMap/namespace/name` → the feed refs that read them. */
  private feedConfigMaps(): Map<string, FeedRef[]> {
    const out = new Map<string, FeedRef[]>();
    for (const p of this.policies.list()) {
      for (const f of feedRefs(p)) {
        if (!f.configMapRef) continue;
        const k = refKey('ConfigMap', f.configMapRef.namespace, f.configMapRef.name);
        out.set(k, [...(out.get(k) ?? []), f]);
      }
    }
    return out;
  }

  /**
   * Keeps one metadata-only informer per namespace that holds a referenced ConfigMap (or Secret) — the
   * namespaces of releases' evidence and of policies' feed ConfigMaps — and none elsewhere.
   */
  private syncReferenceWatches(): void {
    if (this.opts.watchReferences === false || !this.leading || this.stopped) return;
    const want = new Set<string>();
    for (const ns of this.references.namespaces('ConfigMap')) want.add(`ConfigMap/${ns}`);
    if (this.opts.watchSecrets) for (const ns of this.references.namespaces('Secret')) want.add(`Secret/${ns}`);
    for (const k of this.feedConfigMaps().keys()) want.add(k.split('/').slice(0, 2).join('/'));
    for (const [k, inf] of this.refWatches) {
      if (!want.has(k)) {
        inf.stop();
        this.refWatches.delete(k);
      }
    }
    for (const k of want) {
      if (this.refWatches.has(k) || this.refForbidden.has(k)) continue;
      const [kind, ns] = k.split('/') as [RefKind, string];
      const inf = this.referenceInformer(kind, ns);
      this.refWatches.set(k, inf);
      void inf.start().catch(() => undefined);
    }
  }

  private referenceInformer(kind: RefKind, ns: string): Informer<KubernetesObject> {
    const plural = kind === 'ConfigMap' ? 'configmaps' : 'secrets';
    const inf: Informer<KubernetesObject> = new Informer<KubernetesObject>({
      kubeConfig: this.opts.kubeConfig,
      log: this.opts.log,
      resource: plural,
      watchPath: `/api/v1/namespaces/${ns}/${plural}`,
      transform: metadataOnly,
      ...(this.opts.watchTimeoutSeconds ? { watchTimeoutSeconds: this.opts.watchTimeoutSeconds } : {}),
      list: async ({ limit, continueToken }) => {
        try {
          return kind === 'ConfigMap'
            ? await this.core.listNamespacedConfigMap({ namespace: ns, limit, ...(continueToken ? { _continue: continueToken } : {}) })
            : await this.core.listNamespacedSecret({ namespace: ns, limit, ...(continueToken ? { _continue: continueToken } : {}) });
        } catch (err) {
          if (httpStatus(err) === 403 && !this.refForbidden.has(`${kind}/${ns}`)) {
            // Not permitted (RBAC without list/watch): give this watch up; changes are seen at re-evaluation.
            this.refForbidden.add(`${kind}/${ns}`);
            this.opts.log.warn({ kind, namespace: ns }, `not allowed to list/watch ${plural}; changes of referenced ${plural} are seen at the next re-evaluation`);
            setImmediate(() => {
              inf.stop();
              this.refWatches.delete(`${kind}/${ns}`);
            });
          }
          throw err;
        }
      },
      onWatchRestart: (reason) => this.opts.metrics.watchRestartsTotal.inc({ resource: plural, reason }),
    });
    inf.on((event, obj, old) => {
      // The initial list only fills the cache: what it holds is what the releases were evaluated on.
      if (!inf.hasSynced()) return;
      if (event === 'update' && old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
      const name = obj.metadata?.name ?? '';
      const keys = this.references.releasesFor(kind, ns, name);
      for (const k of keys) this.enqueue(k);
      const feeds = kind === 'ConfigMap' ? this.feedConfigMaps().get(refKey(kind, ns, name)) : undefined;
      for (const f of feeds ?? []) void this.feedRefresher?.refreshFeed(f);
      if (keys.length || feeds?.length) {
        this.opts.log.info({ kind, namespace: ns, name, event, releases: keys.length, feeds: feeds?.length ?? 0 }, 'referenced evidence changed; re-evaluating');
      }
    });
    return inf;
  }

  private setDecision(key: string, decision: string | undefined): void {
    const prev = this.decisions.get(key);
    if (prev === decision) return;
    if (prev) this.counts.set(prev, (this.counts.get(prev) ?? 1) - 1);
    if (decision) {
      this.decisions.set(key, decision);
      this.counts.set(decision, (this.counts.get(decision) ?? 0) + 1);
    } else {
      this.decisions.delete(key);
    }
    this.opts.metrics.setReleaseCounts(Object.fromEntries(this.counts));
  }
}
