/**
 * Reconcile one ProductRelease: level-triggered. It reads the latest cached object (never the event
 * that queued it), evaluates it against its policy, and writes the status subresource, an Event when
 * the verdict changes, and metrics. Returns when to look again.
 *
 * Cancellation and fencing: `signal` (from the work queue: deadline, lost leadership, shutdown) reaches every
 * collector and HTTP/registry/API request; right before each write (status, Event) the reconcile checks the
 * signal and `deps.fence()` (this replica still holds the leader Lease), so a replica that lost leadership
 * writes nothing after it noticed.
 */
import { art14Events } from './art14-events.ts';
import { craFileData } from '../dossier/files.ts';
import type { CraFileSink } from '../kube/cra-file.ts';
import { packageVersion } from '../util/version.ts';
import type { EventRegarding } from '../kube/events.ts';
import type { Logger } from 'pino';
import type { ProductRelease, ProductReleaseStatus, ReleasePolicy } from '../api/types.ts';
import { PRODUCT_RELEASE_KIND, PRODUCT_RELEASE_PLURAL } from '../api/types.ts';
import { evaluate, type Evaluation } from '../engine/evaluate.ts';
import { buildStatus } from '../engine/status.ts';
import { collectEvidence, type EvidenceRuntime, type EvidenceSources } from '../evidence/collect.ts';
import type { QueueResult } from './queue.ts';
import { mergeConditions, rfc3339 } from '../util/conditions.ts';
import type { StatusTarget, StatusWriteOptions, StatusWritten } from '../kube/status.ts';
import { CraGateError, errorMessage, reasonOf } from '../errors.ts';
import { QueueAbortError } from './queue.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Metrics } from '../metrics.ts';
import { canonicalJson } from '../util/canonical.ts';
import { reconcileLogger } from '../log.ts';
import { decisionValidityMs, sealStatus, signatureCurrent, type DecisionKey } from '../attestation/decision.ts';
import type { SequenceHighWater } from '../attestation/high-water.ts';

export interface ReconcileDeps {
  getRelease(key: string): ProductRelease | undefined;
  getPolicy(name: string): ReleasePolicy | undefined;
  sources: EvidenceSources;
  /** Network capability, caches and limits for evidence (created once by the composition root). */
  runtime: EvidenceRuntime;
  status: StatusSink;
  /** Throws (ReconcileCancelled) when this replica may no longer write: called right before every write. */
  fence?(): void;
  events: EventRecorder;
  metrics: Metrics;
  log: Logger;
  defaultPolicy: string;
  now(): Date;
  /** Called with the decision written for a key (undefined when the release is gone). */
  onDecision?(key: string, decision: string | undefined): void;
  /** A status that matches but is older than this is rewritten so `evaluatedAt` stays fresh. */
  refreshStatusAfterMs?: number;
  /** The decision signing key (issue 9): every written decision carries a DSSE envelope signed with it. */
  signingKey?(): DecisionKey | undefined;
  /** The evaluation sequences this process signed, per release uid (the controller's; issue 14 replay guard). */
  sealed: SequenceHighWater;
  /** Where CRA files go (policies with spec.craFile.enabled); absent: none are written. */
  craFiles?: CraFileSink;
  /**
   * The digest of the fetch-free inputs of the decision in `status` (./inputs.ts), recorded in status.inputs so a
   * restarted operator need not re-decide it; undefined when they cannot be confirmed later (no record is written).
   */
  inputDigest?(release: ProductRelease, policyName: string, policy: ReleasePolicy | undefined, status: ProductReleaseStatus): string | undefined;
}

/** Where status goes: the server-side-apply writer (kube/status.ts), wrapped by the controller's bookkeeping. */
export interface StatusSink {
  apply(target: StatusTarget, status: object, opts?: StatusWriteOptions): Promise<StatusWritten | undefined>;
}

/** Throws ReconcileTimeout / ReconcileCancelled when `signal` was aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const why = signal.reason as unknown;
  if (why instanceof QueueAbortError && why.kind === 'timeout') throw new CraGateError('ReconcileTimeout', `reconcile ${why.message}`, { cause: why });
  throw new CraGateError('ReconcileCancelled', `reconcile cancelled: ${errorMessage(why)}`, { cause: why });
}

/** The longest we wait before looking at an approved release again when its policy names no interval. */
const DEFAULT_REEVALUATE_MS = 6 * 3600_000;
/** How soon a release whose evidence failed transiently is looked at again. */
const RETRY_EVIDENCE_MS = 30_000;

export async function reconcileRelease(deps: ReconcileDeps, key: string, signal?: AbortSignal): Promise<QueueResult> {
  const release = deps.getRelease(key);
  if (!release?.metadata?.name) {
    deps.onDecision?.(key, undefined);
    return;
  }
  const log = reconcileLogger(deps.log, {
    kind: 'ProductRelease',
    ...(release.metadata.namespace ? { namespace: release.metadata.namespace } : {}),
    name: release.metadata.name,
  }).child({ generation: release.metadata.generation });
  const policyName = release.spec.policyRef || deps.defaultPolicy;
  const policy = deps.getPolicy(policyName);
  const now = deps.now();

  const evidence = await collectEvidence({ release, policy, sources: deps.sources, runtime: deps.runtime, now, ...(signal ? { signal } : {}) });
  // Evidence cut short by a cancellation reads as "unavailable"; never evaluate or write on it.
  throwIfCancelled(signal);
  const started = performance.now();
  const ev = evaluate({ release, policy, policyName, now, evidence });
  deps.metrics.evaluationDuration.observe((performance.now() - started) / 1000);
  for (const c of ev.checks) deps.metrics.checkResultsTotal.inc({ check: c.id, result: c.result });

  const previous = release.status;
  const status = buildStatus(release, ev, now);
  const digest = deps.inputDigest?.(release, policyName, policy, status);
  if (digest) status.inputs = { digest, reevaluateAt: rfc3339(new Date(now.getTime() + nextLookMs(ev))) };
  // The signed decision (issues 9, 14): sequence + expiry; re-signed whenever written or nearing expiry.
  const signingKey = deps.signingKey?.();
  const validityMs = decisionValidityMs(nextLookMs(ev));
  if (needsWrite(previous, status, now, deps.refreshStatusAfterMs ?? 10 * 60_000) || !signatureCurrent(signingKey, release, previous, status, now, validityMs, deps.sealed)) {
    throwIfCancelled(signal);
    deps.fence?.();
    sealStatus(signingKey, release, previous, status, now, validityMs, deps.sealed);
    const written = await deps.status.apply(
      {
        plural: PRODUCT_RELEASE_PLURAL,
        kind: PRODUCT_RELEASE_KIND,
        namespace: release.metadata.namespace,
        name: release.metadata.name,
        resourceVersion: release.metadata.resourceVersion,
      },
      status,
      signal ? { signal } : {},
    );
    if (!written) {
      deps.onDecision?.(key, undefined);
      return;
    }
    log.info({ decision: ev.decision, reason: ev.reason, summary: ev.summary }, ev.message);
  } else {
    log.debug({ decision: ev.decision }, 'status current');
  }
  deps.onDecision?.(key, ev.decision);

  if (verdictChanged(previous, ev)) {
    throwIfCancelled(signal);
    deps.fence?.();
    deps.events.event(
      regardingOf(release),
      {
        type: ev.decision === 'Approved' ? 'Normal' : 'Warning',
        reason: ev.decision === 'Pending' || ev.reason === 'NewlyExploitedVulnerability' ? ev.reason : ev.decision,
        action: 'Evaluate',
        note: ev.message,
      },
    );
  }
  // Art. 14: a newly exploited vulnerability starts the reporting clock; say so once, with its deadlines.
  const art14 = art14Events(previous?.exploited, ev.exploited);
  if (art14.length > 0) {
    throwIfCancelled(signal);
    deps.fence?.();
  }
  for (const e of art14) deps.events.event(regardingOf(release), e);
  // The CRA file (issue 17), opt-in per policy: written for Approved releases, only when its content changed.
  if (deps.craFiles && policy?.spec.craFile?.enabled === true && ev.decision === 'Approved') {
    const file = craFileData({ release, policy, evaluation: ev, evidence, now, tool: `cra-gate ${packageVersion()}`, signingKey });
    throwIfCancelled(signal);
    deps.fence?.();
    if (await deps.craFiles.apply(release, file.data, file.digest, signal)) log.info({ digest: file.digest }, 'CRA file written');
  }
  return { requeueAfterMs: nextLookMs(ev) };
}

function regardingOf(release: ProductRelease): EventRegarding {
  return {
    apiVersion: release.apiVersion,
    kind: release.kind,
    name: release.metadata.name ?? '',
    namespace: release.metadata.namespace ?? 'default',
    uid: release.metadata.uid ?? '',
    resourceVersion: release.metadata.resourceVersion,
  };
}

function nextLookMs(ev: Evaluation): number {
  let requeue = Math.min(ev.requeueAfterMs ?? DEFAULT_REEVALUATE_MS, DEFAULT_REEVALUATE_MS * 4);
  // Evidence that could not be collected (a transient error) is retried soon; the status already says
  // Blocked/Pending with the reason, so nothing is approved meanwhile.
  if (ev.retryable) requeue = Math.min(requeue, RETRY_EVIDENCE_MS);
  return Math.max(1000, requeue);
}

/**
 * Records an error that retrying cannot fix for this object version (ApiRequestRejected: a 4xx such as 403 or
 * 422): a Warning Event naming the cause and — fail closed — a status that approves nothing and says why in
 * its conditions (best effort: the rejected request may have been the status write itself). The queue does
 * not retry; the next change of the object enqueues it again.
 */
export async function recordRejection(deps: ReconcileDeps, key: string, err: unknown, signal?: AbortSignal): Promise<void> {
  const release = deps.getRelease(key);
  if (!release?.metadata?.name) return;
  const reason = reasonOf(err);
  const message = `not evaluated: ${errorMessage(err, 400)}; retried when the ProductRelease changes`;
  const now = deps.now();
  try {
    throwIfCancelled(signal);
    deps.fence?.();
    deps.events.event(
      {
        apiVersion: release.apiVersion,
        kind: release.kind,
        name: release.metadata.name,
        namespace: release.metadata.namespace ?? 'default',
        uid: release.metadata.uid ?? '',
        resourceVersion: release.metadata.resourceVersion,
      },
      { type: 'Warning', reason, action: 'Evaluate', note: message.slice(0, 1000) },
    );
    const generation = release.metadata.generation;
    const conditions = mergeConditions(
      release.status?.conditions ?? [],
      [
        { type: 'Evaluated', status: 'False', reason, message },
        { type: 'Approved', status: 'False', reason, message },
        { type: 'Ready', status: 'False', reason, message },
      ],
      generation,
      now,
    );
    await deps.status.apply(
      { plural: PRODUCT_RELEASE_PLURAL, kind: PRODUCT_RELEASE_KIND, namespace: release.metadata.namespace, name: release.metadata.name },
      { ...(generation !== undefined ? { observedGeneration: generation } : {}), decision: 'Pending', conditions, evaluatedAt: rfc3339(now) },
      signal ? { signal } : {},
    );
    deps.onDecision?.(key, 'Pending');
  } catch (e) {
    deps.log.warn({ release: key, err: errorMessage(e) }, 'could not record the rejected request on the ProductRelease');
  }
}

function comparable(s: ProductReleaseStatus | undefined): string {
  if (!s) return '';
  // The sequence and signature are renewed on every write (see signatureCurrent for when they force one).
  // The due time of the input record moves with every evaluation; only its digest forces a write (a record
  // not rewritten keeps an earlier due time: a restart then re-evaluates sooner, never later).
  const { evaluatedAt: _e, evaluationSequence: _q, attestation: _a, inputs, ...rest } = s as ProductReleaseStatus & { evaluatedAt?: string };
  return canonicalJson({ ...rest, inputs: inputs?.digest ?? null });
}

/** Writes when anything but `evaluatedAt` differs, or when `evaluatedAt` has grown stale. */
export function needsWrite(
  previous: ProductReleaseStatus | undefined,
  next: ProductReleaseStatus,
  now: Date,
  refreshAfterMs: number,
): boolean {
  if (comparable(previous) !== comparable(next)) return true;
  const at = (previous)?.evaluatedAt;
  return !at || now.getTime() - Date.parse(at) >= refreshAfterMs;
}

function verdictChanged(previous: ProductReleaseStatus | undefined, ev: Evaluation): boolean {
  if (!previous?.decision) return true;
  if (previous.decision !== ev.decision) return true;
  const prevApproved = previous.conditions?.find((c) => c.type === 'Approved');
  return prevApproved?.message !== ev.message;
}
