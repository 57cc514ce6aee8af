/**
 * The ProductRelease controller: watch → queue → reconcile.
 *
 * Informers on ProductRelease and ReleasePolicy feed one work queue keyed by `namespace/name`.
 * What enqueues a release: it appears; its generation or labels change (a spec edit); its status differs
 * from what this operator last wrote (someone else touched it); its policy changes; a periodic
 * re-evaluation comes due (requeueAfter). Our own status writes do not re-trigger a reconcile.
 * Informers run on every replica (caches stay warm for admission); only the leader processes the queue.
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  GROUP,
  VERSION,
  PRODUCT_RELEASE_PLURAL,
  RELEASE_POLICY_PLURAL,
  type ProductRelease,
  type ReleasePolicy,
} from '../api/types.ts';
import { Informer, objectKey, stripBookkeeping, type ListPage } from '../kube/informer.ts';
import { WorkQueue } from './queue.ts';
import { reconcileRelease } from './reconcile.ts';
import { reconcilePolicyStatus } from './policy-status.ts';

/** Queue keys of ReleasePolicies (cluster-scoped) carry this prefix; release keys are `namespace/name`. */
const POLICY_KEY_PREFIX = 'policy:';
import { StatusWriter } from '../kube/status.ts';
import { clusterSources } from '../evidence/cluster.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Metrics } from '../metrics.ts';
import { CraGateError, reasonOf } from '../errors.ts';
import { canonicalJson } from '../util/canonical.ts';
import { FeedRefresher } from '../vuln/refresher.ts';
import type { DecisionKey } from '../attestation/decision.ts';

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
  relistIntervalMs?: number;
  watchTimeoutSeconds?: number;
  /** Decision signing key (issue 9); when absent, decisions are written unsigned (the webhook trusts none). */
  signingKey?: () => DecisionKey | undefined;
  /** The operator's namespace: Secret references are limited to it and opted-in namespaces (../evidence/cluster.ts). */
  operatorNamespace?: string;
}

export class ReleaseController {
  readonly releases: Informer<ProductRelease>;
  readonly policies: Informer<ReleasePolicy>;
  readonly queue: WorkQueue;
  /** Feed refresh loop + waiver warnings (issue 5), started with leadership. */
  private feedRefresher: FeedRefresher | undefined;
  private readonly opts: ControllerOptions;
  private readonly decisions = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  /** JSON of the status this operator last wrote per key, to tell our writes from others'. */
  private readonly written = new Map<string, string>();
  private leading = false;

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    const api = opts.kubeConfig.makeApiClient(CustomObjectsApi);
    const { log, metrics } = opts;
    const ns = opts.namespace;
    const common = {
      kubeConfig: opts.kubeConfig,
      log,
      transform: stripBookkeeping,
      ...(opts.relistIntervalMs ? { relistIntervalMs: opts.relistIntervalMs } : {}),
      ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
    };
    this.releases = new Informer<ProductRelease>({
      ...common,
      resource: PRODUCT_RELEASE_PLURAL,
      watchPath: ns
        ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PRODUCT_RELEASE_PLURAL}`
        : `/apis/${GROUP}/${VERSION}/${PRODUCT_RELEASE_PLURAL}`,
      list: async ({ limit, continueToken }) =>
        (ns
          ? await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PRODUCT_RELEASE_PLURAL, limit, ...(continueToken ? { _continue: continueToken } : {}) })
          : await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PRODUCT_RELEASE_PLURAL, limit, ...(continueToken ? { _continue: continueToken } : {}) })) as ListPage<ProductRelease>,
      onWatchRestart: (reason) => metrics.watchRestartsTotal.inc({ resource: PRODUCT_RELEASE_PLURAL, reason }),
    });
    this.policies = new Informer<ReleasePolicy>({
      ...common,
      resource: RELEASE_POLICY_PLURAL,
      watchPath: `/apis/${GROUP}/${VERSION}/${RELEASE_POLICY_PLURAL}`,
      list: async ({ limit, continueToken }) =>
        (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: RELEASE_POLICY_PLURAL, limit, ...(continueToken ? { _continue: continueToken } : {}) })) as ListPage<ReleasePolicy>,
      onWatchRestart: (reason) => metrics.watchRestartsTotal.inc({ resource: RELEASE_POLICY_PLURAL, reason }),
    });

    const status = new StatusWriter(opts.kubeConfig);
    const sources = clusterSources(opts.kubeConfig, opts.operatorNamespace ? { operatorNamespace: opts.operatorNamespace } : {});
    const trackingStatus = {
      patch: async (target: Parameters<StatusWriter['patch']>[0], body: unknown) => {
        const ok = await status.patch(target, body);
        const key = target.namespace ? `${target.namespace}/${target.name}` : target.name;
        if (ok) this.written.set(key, canonicalJson(body));
        return ok;
      },
    } as StatusWriter;

    this.queue = new WorkQueue({
      concurrency: opts.concurrency,
      handler: async (key) => {
        const started = performance.now();
        if (key.startsWith(POLICY_KEY_PREFIX)) {
          const policy = this.policies.get(key.slice(POLICY_KEY_PREFIX.length));
          if (policy) await reconcilePolicyStatus(policy, trackingStatus, (opts.now ?? (() => new Date()))());
          return;
        }
        try {
          const res = await reconcileRelease(
            {
              getRelease: (k) => this.releases.get(k),
              getPolicy: (n) => this.policies.get(n),
              sources,
              status: trackingStatus,
              events: opts.events,
              metrics,
              log,
              defaultPolicy: opts.defaultPolicy,
              now: opts.now ?? (() => new Date()),
              onDecision: (k, d) => this.setDecision(k, d),
              ...(opts.signingKey ? { signingKey: opts.signingKey } : {}),
            },
            key,
          );
          metrics.observeReconcile('success', (performance.now() - started) / 1000);
          return res;
        } catch (err) {
          metrics.observeReconcile('error', (performance.now() - started) / 1000, reasonOf(err));
          throw err;
        }
      },
      metrics: metrics.queueHooks(),
      onError: (key, err, willRetry, retryInMs) => {
        const e = err as Error;
        const level = err instanceof CraGateError && err.code === 'Conflict' ? 'debug' : 'warn';
        log[level]({ release: key, err: e.message, code: (err as { code?: string }).code, willRetry, retryInMs }, 'reconcile failed');
      },
    });

    this.releases.on((event, obj, old) => {
      const key = objectKey(obj);
      if (event === 'delete') {
        this.written.delete(key);
        this.setDecision(key, undefined);
        return;
      }
      if (event === 'add' || shouldReconcile(obj, old, this.written.get(key))) this.enqueue(key);
    });
    this.policies.on((event, policy, old) => {
      const name = policy.metadata?.name;
      if (!name) return;
      const specChanged = event !== 'update' || policy.metadata?.generation !== old?.metadata?.generation;
      if (event !== 'delete' && (specChanged || canonicalJson(policy.status ?? {}) !== this.written.get(name))) {
        this.enqueue(POLICY_KEY_PREFIX + name);
      }
      if (!specChanged) return; // a status-only change of the policy does not change any verdict
      for (const rel of this.releases.list()) {
        if ((rel.spec?.policyRef || opts.defaultPolicy) === name) this.enqueue(objectKey(rel));
      }
    });
  }

  /** Starts the informers; resolves once both caches have listed. */
  async startInformers(): Promise<void> {
    await Promise.all([this.policies.start(), this.releases.start()]);
  }

  /** Begins reconciling (called when this replica becomes the leader). */
  startLeading(): void {
    this.leading = true;
    for (const p of this.policies.list()) if (p.metadata?.name) this.queue.add(POLICY_KEY_PREFIX + p.metadata.name);
    for (const rel of this.releases.list()) this.queue.add(objectKey(rel));
    this.feedRefresher ??= new FeedRefresher({
      listPolicies: () => this.policies.list(),
      listReleases: () => this.releases.list(),
      defaultPolicy: this.opts.defaultPolicy,
      sources: clusterSources(this.opts.kubeConfig, this.opts.operatorNamespace ? { operatorNamespace: this.opts.operatorNamespace } : {}),
      enqueue: (k) => this.enqueue(k),
      log: this.opts.log,
      events: this.opts.events,
      registry: this.opts.metrics.registry,
    });
    this.feedRefresher.start();
  }

  isLeading(): boolean {
    return this.leading;
  }

  async stop(drainTimeoutMs = 10_000): Promise<void> {
    this.leading = false;
    await this.feedRefresher?.stop();
    this.releases.stop();
    this.policies.stop();
    await this.queue.shutdown({ drainTimeoutMs });
  }

  private enqueue(key: string): void {
    if (this.leading) this.queue.add(key);
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

/**
 * Predicate: a spec edit (generation), a label change, or a status this operator did not write.
 * The periodic re-list and policy changes enqueue separately.
 */
export function shouldReconcile(obj: ProductRelease, old: ProductRelease | undefined, lastWritten: string | undefined): boolean {
  if (!old) return true;
  if (obj.metadata?.generation !== old.metadata?.generation) return true;
  if (canonicalJson(obj.metadata?.labels ?? {}) !== canonicalJson(old.metadata?.labels ?? {})) return true;
  if (obj.status?.observedGeneration !== obj.metadata?.generation) return true;
  if (lastWritten === undefined) return false;
  return canonicalJson(obj.status ?? null) !== lastWritten;
}
