/**
 * Prometheus metrics of the operator. Everything lives in a registry owned by the returned object (never
 * prom-client's global one), so tests and several operator instances in one process do not collide.
 *
 * Conventions: custom metrics use the `cra_gate_` prefix, base units (seconds), `_total` for counters and
 * only bounded label values (results, decisions, check ids and reasons from fixed catalogues). Default
 * process/Node.js metrics keep their standard names (`process_cpu_seconds_total`, ...).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueMetricsHooks } from './controller/queue.ts';

/** Result label of `cra_gate_reconcile_total`. */
export type ReconcileResult = 'success' | 'error' | 'requeue';
/** Release decisions, as in `status.decision`. */
export type ReleaseDecision = 'Pending' | 'Approved' | 'Blocked';
/** All decision values, so the gauge always exposes every series (0 when none). */
export const RELEASE_DECISIONS: readonly ReleaseDecision[] = ['Pending', 'Approved', 'Blocked'];

/** Buckets (seconds) for reconcile and evaluation latency: 5 ms .. 2 min. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Collect the default process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** Labels added to every series (e.g. `{ pod: 'cra-gate-0' }`); keep them bounded. */
  defaultLabels?: Record<string, string>;
}

/** The operator's metrics: the registry plus typed handles. */
export interface Metrics {
  /** The registry to expose on `/metrics`. */
  readonly registry: Registry;
  /** `cra_gate_reconcile_total{result}`: reconciles by outcome. */
  readonly reconcileTotal: Counter<'result'>;
  /** `cra_gate_reconcile_errors_total{reason}`: failed reconciles by error-catalogue code. */
  readonly reconcileErrorsTotal: Counter<'reason'>;
  /** `cra_gate_reconcile_duration_seconds`: wall time of one reconcile. */
  readonly reconcileDuration: Histogram;
  /** `cra_gate_check_results_total{check,result}`: check results by check id and result (Pass/Fail/Warn/...). */
  readonly checkResultsTotal: Counter<'check' | 'result'>;
  /** `cra_gate_releases{decision}`: releases currently known per decision (set from the cache). */
  readonly releases: Gauge<'decision'>;
  /** `cra_gate_workqueue_depth`: keys waiting in the work queue. */
  readonly workqueueDepth: Gauge;
  /** `cra_gate_workqueue_adds_total`: adds to the work queue. */
  readonly workqueueAddsTotal: Counter;
  /** `cra_gate_workqueue_retries_total`: retries scheduled after failures. */
  readonly workqueueRetriesTotal: Counter;
  /** `cra_gate_workqueue_work_duration_seconds`: time a handler took. */
  readonly workqueueWorkDuration: Histogram;
  /** `cra_gate_leader`: 1 while this replica holds the leader lease. */
  readonly leader: Gauge;
  /** `cra_gate_evaluation_duration_seconds`: time of the pure check + decision evaluation. */
  readonly evaluationDuration: Histogram;
  /** `cra_gate_watch_restarts_total{resource,reason}`: watch re-establishments. */
  readonly watchRestartsTotal: Counter<'resource' | 'reason'>;
  /** Records one reconcile outcome (`result` counter, duration, and the error reason when failed). */
  observeReconcile(result: ReconcileResult, seconds: number, errorReason?: string): void;
  /** Sets `cra_gate_releases` from counts per decision; decisions not given are set to 0. */
  setReleaseCounts(counts: Partial<Record<ReleaseDecision, number>>): void;
  /** Hooks to pass to `new WorkQueue({ metrics })`. */
  queueHooks(): QueueMetricsHooks;
}

/** Creates a fresh registry with all operator metrics registered. */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultLabels) registry.setDefaultLabels(opts.defaultLabels);
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const reconcileTotal = new Counter({
    name: 'cra_gate_reconcile_total',
    help: 'Reconciles of ProductReleases by result (success, error, requeue).',
    labelNames: ['result'] as const,
    registers,
  });
  const reconcileErrorsTotal = new Counter({
    name: 'cra_gate_reconcile_errors_total',
    help: 'Failed reconciles by error code from the error catalogue.',
    labelNames: ['reason'] as const,
    registers,
  });
  const reconcileDuration = new Histogram({
    name: 'cra_gate_reconcile_duration_seconds',
    help: 'Duration of one reconcile of a ProductRelease, in seconds.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const checkResultsTotal = new Counter({
    name: 'cra_gate_check_results_total',
    help: 'Check results by check id and result.',
    labelNames: ['check', 'result'] as const,
    registers,
  });
  const releases = new Gauge({
    name: 'cra_gate_releases',
    help: 'ProductReleases currently known, by decision (Pending, Approved, Blocked).',
    labelNames: ['decision'] as const,
    registers,
  });
  const workqueueDepth = new Gauge({
    name: 'cra_gate_workqueue_depth',
    help: 'Keys waiting in the reconcile work queue.',
    registers,
  });
  const workqueueAddsTotal = new Counter({
    name: 'cra_gate_workqueue_adds_total',
    help: 'Adds to the reconcile work queue.',
    registers,
  });
  const workqueueRetriesTotal = new Counter({
    name: 'cra_gate_workqueue_retries_total',
    help: 'Retries scheduled by the reconcile work queue after failures.',
    registers,
  });
  const workqueueWorkDuration = new Histogram({
    name: 'cra_gate_workqueue_work_duration_seconds',
    help: 'Time a work queue handler took, in seconds.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const leader = new Gauge({
    name: 'cra_gate_leader',
    help: '1 while this replica holds the leader election lease, else 0.',
    registers,
  });
  const evaluationDuration = new Histogram({
    name: 'cra_gate_evaluation_duration_seconds',
    help: 'Duration of evaluating checks and the decision for one release, in seconds.',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const watchRestartsTotal = new Counter({
    name: 'cra_gate_watch_restarts_total',
    help: 'Watch restarts by resource and reason.',
    labelNames: ['resource', 'reason'] as const,
    registers,
  });

  // Initialise bounded label sets so series exist (at 0) from the first scrape.
  for (const r of ['success', 'error', 'requeue'] as const) reconcileTotal.labels(r).inc(0);
  for (const d of RELEASE_DECISIONS) releases.labels(d).set(0);
  leader.set(0);
  workqueueDepth.set(0);

  return {
    registry,
    reconcileTotal,
    reconcileErrorsTotal,
    reconcileDuration,
    checkResultsTotal,
    releases,
    workqueueDepth,
    workqueueAddsTotal,
    workqueueRetriesTotal,
    workqueueWorkDuration,
    leader,
    evaluationDuration,
    watchRestartsTotal,
    observeReconcile(result, seconds, errorReason) {
      reconcileTotal.labels(result).inc();
      if (Number.isFinite(seconds) && seconds >= 0) reconcileDuration.observe(seconds);
      if (result === 'error') reconcileErrorsTotal.labels(errorReason ?? 'Unknown').inc();
    },
    setReleaseCounts(counts) {
      for (const d of RELEASE_DECISIONS) releases.labels(d).set(counts[d] ?? 0);
    },
    queueHooks() {
      return {
        depth: (n) => workqueueDepth.set(n),
        add: () => workqueueAddsTotal.inc(),
        retry: () => workqueueRetriesTotal.inc(),
        workDuration: (s) => workqueueWorkDuration.observe(s),
      };
    },
  };
}
