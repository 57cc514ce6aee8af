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
  /** `workqueue_depth{name}`: keys waiting in the work queue (controller-runtime's name). */
  readonly workqueueDepth: Gauge<'name'>;
  /** `workqueue_adds_total{name}`: adds to the work queue. */
  readonly workqueueAddsTotal: Counter<'name'>;
  /** `workqueue_retries_total{name}`: retries scheduled after failures. */
  readonly workqueueRetriesTotal: Counter<'name'>;
  /** `workqueue_queue_duration_seconds{name}`: how long a key waited between add and processing. */
  readonly workqueueQueueDuration: Histogram<'name'>;
  /** `workqueue_work_duration_seconds{name}`: time a handler took. */
  readonly workqueueWorkDuration: Histogram<'name'>;
  /** `cra_gate_leader`: 1 while this replica holds the leader lease. */
  readonly leader: Gauge;
  /** `cra_gate_evaluation_duration_seconds`: time of the pure check + decision evaluation. */
  readonly evaluationDuration: Histogram;
  /** `cra_gate_watch_restarts_total{resource,reason}`: watch re-establishments. */
  readonly watchRestartsTotal: Counter<'resource' | 'reason'>;
  /** `cra_gate_events_dropped_total{reason}`: Kubernetes Events not written (rate-limited, queue-full). */
  readonly eventsDroppedTotal: Counter<'reason'>;
  /** Records one reconcile outcome (`result` counter, duration, and the error reason when failed). */
  observeReconcile(result: ReconcileResult, seconds: number, errorReason?: string): void;
  /** Sets `cra_gate_releases` from counts per decision; decisions not given are set to 0. */
  setReleaseCounts(counts: Partial<Record<ReleaseDecision, number>>): void;
  /** Hooks to pass to `new WorkQueue({ metrics })`; `name` is the queue's label (default `productrelease`). */
  queueHooks(name?: string): QueueMetricsHooks;
  /**
   * Registers a queue whose unfinished work and longest running processor are read at scrape time
   * (`workqueue_unfinished_work_seconds{name}`, `workqueue_longest_running_processor_seconds{name}`).
   */
  observeQueue(name: string, probe: WorkQueueProbe): void;
}

/** What the scrape-time work-queue gauges read from a queue. */
export interface WorkQueueProbe {
  unfinishedWorkSeconds(): number;
  longestRunningSeconds(): number;
}

/** The name label of the ProductRelease work queue (controller-runtime labels its queues by controller name). */
export const RELEASE_QUEUE_NAME = 'productrelease';

/** controller-runtime's work-queue buckets: 10 ns .. 1000 s, ×10. */
export const WORKQUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];

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
  const eventsDroppedTotal = new Counter({
    name: 'cra_gate_events_dropped_total',
    help: 'Kubernetes Events not written: rate-limited, or the write queue was full.',
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
  // Work-queue metrics under controller-runtime's (client-go's) names, so existing dashboards and alerts for
  // Kubernetes controllers work unchanged.
  const workqueueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'] as const,
    registers,
  });
  const workqueueAddsTotal = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'] as const,
    registers,
  });
  const workqueueRetriesTotal = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'] as const,
    registers,
  });
  const workqueueQueueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const workqueueWorkDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_BUCKETS,
    registers,
  });
  const probes = new Map<string, WorkQueueProbe>();
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
    labelNames: ['name'] as const,
    registers,
    collect() {
      for (const [name, p] of probes) this.set({ name }, p.unfinishedWorkSeconds());
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames: ['name'] as const,
    registers,
    collect() {
      for (const [name, p] of probes) this.set({ name }, p.longestRunningSeconds());
    },
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
  workqueueDepth.labels(RELEASE_QUEUE_NAME).set(0);
  workqueueAddsTotal.labels(RELEASE_QUEUE_NAME).inc(0);
  workqueueRetriesTotal.labels(RELEASE_QUEUE_NAME).inc(0);
  for (const r of ['rate-limited', 'queue-full']) eventsDroppedTotal.labels(r).inc(0);

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
    workqueueQueueDuration,
    workqueueWorkDuration,
    leader,
    evaluationDuration,
    watchRestartsTotal,
    eventsDroppedTotal,
    observeReconcile(result, seconds, errorReason) {
      reconcileTotal.labels(result).inc();
      if (Number.isFinite(seconds) && seconds >= 0) reconcileDuration.observe(seconds);
      if (result === 'error') reconcileErrorsTotal.labels(errorReason ?? 'Unknown').inc();
    },
    setReleaseCounts(counts) {
      for (const d of RELEASE_DECISIONS) releases.labels(d).set(counts[d] ?? 0);
    },
    queueHooks(name = RELEASE_QUEUE_NAME) {
      return {
        depth: (n) => workqueueDepth.labels(name).set(n),
        add: () => workqueueAddsTotal.labels(name).inc(),
        retry: () => workqueueRetriesTotal.labels(name).inc(),
        queueDuration: (s) => workqueueQueueDuration.labels(name).observe(s),
        workDuration: (s) => workqueueWorkDuration.labels(name).observe(s),
      };
    },
    observeQueue(name, probe) {
      probes.set(name, probe);
    },
  };
}
