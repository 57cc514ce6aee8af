import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from './metrics.ts';

const EXPECTED = [
  'cra_gate_reconcile_total',
  'cra_gate_reconcile_errors_total',
  'cra_gate_reconcile_duration_seconds',
  'cra_gate_check_results_total',
  'cra_gate_releases',
  'workqueue_depth',
  'workqueue_adds_total',
  'workqueue_retries_total',
  'workqueue_queue_duration_seconds',
  'workqueue_work_duration_seconds',
  'workqueue_unfinished_work_seconds',
  'workqueue_longest_running_processor_seconds',
  'cra_gate_leader',
  'cra_gate_evaluation_duration_seconds',
  'cra_gate_watch_restarts_total',
];

void test('registers every metric in its own registry, with default process metrics', async () => {
  const m = createMetrics();
  const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
  for (const n of EXPECTED) assert.ok(names.includes(n), `missing ${n}`);
  assert.ok(names.includes('process_cpu_seconds_total'), 'default metrics keep standard names');
  // Custom metrics follow the conventions.
  for (const n of names.filter((x) => x.startsWith('cra_gate_'))) {
    const meta = (await m.registry.getSingleMetric(n)?.get())!;
    if (String(meta.type) === 'counter') assert.match(n, /_total$/, n);
    if (String(meta.type) === 'histogram') assert.match(n, /_seconds$/, n);
  }
});

void test('several instances do not collide (no global registry)', async () => {
  const a = createMetrics({ defaultMetrics: false });
  const b = createMetrics({ defaultMetrics: false });
  a.leader.set(1);
  assert.match(await a.registry.metrics(), /^cra_gate_leader 1$/m);
  assert.match(await b.registry.metrics(), /^cra_gate_leader 0$/m);
});

void test('exposition carries labels and values', async () => {
  const m = createMetrics({ defaultMetrics: false });
  m.observeReconcile('success', 0.2);
  m.observeReconcile('error', 1.5, 'EvidenceUnavailable');
  m.observeReconcile('error', 0.1);
  m.checkResultsTotal.labels('sbom.present', 'Fail').inc();
  m.setReleaseCounts({ Approved: 3, Blocked: 1 });
  m.watchRestartsTotal.labels('productreleases', 'Gone').inc();
  m.evaluationDuration.observe(0.03);
  const text = await m.registry.metrics();
  assert.match(text, /^cra_gate_reconcile_total\{result="success"\} 1$/m);
  assert.match(text, /^cra_gate_reconcile_total\{result="error"\} 2$/m);
  assert.match(text, /^cra_gate_reconcile_total\{result="requeue"\} 0$/m);
  assert.match(text, /^cra_gate_reconcile_errors_total\{reason="EvidenceUnavailable"\} 1$/m);
  assert.match(text, /^cra_gate_reconcile_errors_total\{reason="Unknown"\} 1$/m);
  assert.match(text, /^cra_gate_reconcile_duration_seconds_count 3$/m);
  assert.match(text, /^cra_gate_reconcile_duration_seconds_bucket\{le="0.25"\} 2$/m);
  assert.match(text, /^cra_gate_check_results_total\{check="sbom.present",result="Fail"\} 1$/m);
  assert.match(text, /^cra_gate_releases\{decision="Approved"\} 3$/m);
  assert.match(text, /^cra_gate_releases\{decision="Blocked"\} 1$/m);
  assert.match(text, /^cra_gate_releases\{decision="Pending"\} 0$/m);
  assert.match(text, /^cra_gate_watch_restarts_total\{resource="productreleases",reason="Gone"\} 1$/m);
  assert.match(text, /^cra_gate_evaluation_duration_seconds_count 1$/m);
  assert.match(text, /^# TYPE cra_gate_releases gauge$/m);
  assert.match(text, /^# HELP cra_gate_leader .+$/m);
});

void test('queue hooks feed the workqueue metrics under controller-runtime names, labelled by queue name', async () => {
  const m = createMetrics({ defaultMetrics: false });
  const h = m.queueHooks();
  h.add?.('a'); h.add?.('b'); h.depth?.(2); h.retry?.('a'); h.queueDuration?.(0.25); h.workDuration?.(0.5, 'error');
  m.observeQueue('productrelease', { unfinishedWorkSeconds: () => 7, longestRunningSeconds: () => 4 });
  const text = await m.registry.metrics();
  assert.match(text, /^workqueue_adds_total\{name="productrelease"\} 2$/m);
  assert.match(text, /^workqueue_depth\{name="productrelease"\} 2$/m);
  assert.match(text, /^workqueue_retries_total\{name="productrelease"\} 1$/m);
  assert.match(text, /^workqueue_queue_duration_seconds_sum\{name="productrelease"\} 0.25$/m);
  assert.match(text, /^workqueue_work_duration_seconds_sum\{name="productrelease"\} 0.5$/m);
  assert.match(text, /^workqueue_unfinished_work_seconds\{name="productrelease"\} 7$/m);
  assert.match(text, /^workqueue_longest_running_processor_seconds\{name="productrelease"\} 4$/m);
});

void test('default labels apply to every series', async () => {
  const m = createMetrics({ defaultMetrics: false, defaultLabels: { pod: 'cra-gate-0' } });
  assert.match(await m.registry.metrics(), /^cra_gate_leader\{pod="cra-gate-0"\} 0$/m);
});
