/**
 * Issue 13 item 4 on a real kube-apiserver: an Approved release flips to Blocked at the moment its support
 * period ends, driven only by the check's `changesAt` (the reconcile requeue), with a Warning Event and the
 * metrics moving. The controller runs in-process so its clock can start at a chosen instant — 2033-01-31
 * 23:59:55 UTC, 5 s before the end of `supportEnd: 2033-01` — and then flows in real time. The clock stays
 * frozen at that instant until the first Approved status is seen, so the first evaluation is always before
 * the end however slow the machine; the flip then needs no edit, no policy change and no re-list.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { ReleaseController } from '../../operator/controller/controller.ts';
import { createEvidenceRuntime } from '../../operator/evidence/runtime.ts';
import { EventRecorder } from '../../operator/kube/events.ts';
import { createMetrics, type Metrics } from '../../operator/metrics.ts';
import { baselinePolicy, compliantRelease, startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { waitFor } from '../harness/wait.ts';

const END = Date.parse('2033-02-01T00:00:00Z'); // supportEnd 2033-01 is inclusive: support ends at this instant
const START = END - 5_000;

async function sample(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  let sum = 0;
  for (const v of (m?.values ?? []) as { labels: Record<string, string | number>; value: number }[]) {
    if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
  }
  return sum;
}

describe('support period ends: re-evaluation flips an Approved release at that moment', () => {
  let cluster: Cluster;
  let controller: ReleaseController;
  let metrics: Metrics;
  let ns: string;
  let flowingSince: number | undefined;
  const clock = () => new Date(flowingSince === undefined ? START : START + (Date.now() - flowingSince));

  before(async () => {
    cluster = await startCluster();
    ns = await cluster.namespace('support-end');
    await cluster.apply(baselinePolicy('support-end-policy'));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.cp.kubeconfigPath);
    const log = pino({ level: 'warn' });
    metrics = createMetrics();
    controller = new ReleaseController({
      kubeConfig,
      log,
      metrics,
      events: new EventRecorder({ kubeConfig, log, reportingInstance: 'support-end-test' }),
      defaultPolicy: 'support-end-policy',
      concurrency: 2,
      evidence: createEvidenceRuntime({ network: 'allow' }),
      namespace: ns,
      now: clock,
    });
    await controller.startInformers();
    controller.startLeading();
  });

  after(async () => {
    await controller?.stop();
    await cluster?.stop();
  });

  it('Approved before supportEnd, Blocked (SupportEnded) after it, with a Warning Event and metrics', async () => {
    const name = 'router-eol';
    await cluster.apply(compliantRelease(ns, name, { spec: { policyRef: 'support-end-policy', updates: { supportEnd: '2033-01' } } }));
    const approved = await waitForDecision(cluster, ns, name, (r) => r.status?.decision === 'Approved');
    flowingSince = Date.now();
    const sp = approved.status?.checks?.find((c) => c.id === 'update.support-period');
    assert.equal(sp?.result, 'Pass', sp?.message);
    assert.ok(Date.parse(approved.status?.evaluatedAt ?? '') < END, 'first evaluated before the end of support');
    const generation = approved.metadata.generation;

    const blocked = await waitForDecision(cluster, ns, name, (r) => r.status?.decision === 'Blocked', 60_000);
    assert.equal(blocked.metadata.generation, generation, 'no spec edit: the requeue alone re-evaluated it');
    assert.ok(Date.parse(blocked.status?.evaluatedAt ?? '') >= END, 'blocked by an evaluation at or after the end of support');
    const c = blocked.status?.checks?.find((x) => x.id === 'update.support-period');
    assert.deepEqual([c?.result, c?.reason, c?.enforcement], ['Fail', 'SupportEnded', 'Block']);
    assert.match(c?.message ?? '', /support period ended with 2033-01/);
    const cond = blocked.status?.conditions?.find((x) => x.type === 'Approved');
    assert.equal(cond?.status, 'False');

    const event = await waitFor('a Blocked Warning Event for the release', async () => {
      const out = JSON.parse(await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])) as {
        items: { reason: string; type: string; regarding: { name: string }; note?: string }[];
      };
      return out.items.find((e) => e.regarding.name === name && e.reason === 'Blocked' && e.type === 'Warning');
    });
    assert.match(event.note ?? '', /update\.support-period/);

    assert.ok((await sample(metrics, 'cra_gate_check_results_total', { check: 'update.support-period', result: 'Fail' })) >= 1);
    assert.equal(await sample(metrics, 'cra_gate_releases', { decision: 'Blocked' }), 1);
    assert.equal(await sample(metrics, 'cra_gate_releases', { decision: 'Approved' }), 0);
  });
});
