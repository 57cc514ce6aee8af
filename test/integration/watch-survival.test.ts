/**
 * Watch survival: the operator keeps deciding releases across a kube-apiserver restart mid-stream and
 * across a forced 410 Gone (etcd compacted past the operator's resourceVersion).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, compliantRelease, baselinePolicy, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';

describe('watch survival', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns: string;

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    ns = await cluster.namespace('survive');
    // Short server-side watch timeouts so reconnects happen often during the test.
    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-survive', args: ['--leader-elect', 'false'] });
    await op.port();
    await cluster.apply(compliantRelease(ns, 'before-restart'));
    await waitForDecision(cluster, ns, 'before-restart');
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
  });

  it('decides releases created while and after kube-apiserver restarts', async () => {
    await cluster.cp.stopApiServer();
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.cp.startApiServer();
    for (let i = 0; i < 5; i++) {
      await cluster.apply(compliantRelease(ns, `after-restart-${i}`, i % 2 ? { spec: { updates: { automatic: false } } } : {}));
    }
    for (let i = 0; i < 5; i++) {
      const r = await waitForDecision(cluster, ns, `after-restart-${i}`, () => true, 90_000);
      assert.equal(r.status?.decision, i % 2 ? 'Blocked' : 'Approved');
    }
    assert.ok((await op.metric('cra_gate_watch_restarts_total')) > 0, 'the watch was restarted');
  });

  it('re-lists after a 410 Gone (etcd compaction) and still decides every release', async () => {
    // Freeze the operator so its watch falls behind, write a lot, compact etcd, restart the
    // apiserver (its watch cache restarts from the compacted revision), then let the operator resume.
    op.kill('SIGSTOP');
    try {
      for (let i = 0; i < 20; i++) {
        await cluster.kubectl(['create', 'configmap', '-n', ns, `churn-${i}`, `--from-literal=i=${i}`]);
      }
      await cluster.apply(compliantRelease(ns, 'during-freeze'));
      await cluster.cp.compactEtcd();
      await cluster.cp.restartApiServer();
    } finally {
      op.kill('SIGCONT');
    }
    await waitFor(
      'the operator to see 410 Gone and re-list',
      async () => ((await op.metric('cra_gate_watch_restarts_total', { reason: 'gone' })) > 0 ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const r = await waitForDecision(cluster, ns, 'during-freeze', () => true, 90_000);
    assert.equal(r.status?.decision, 'Approved');
    await cluster.apply(compliantRelease(ns, 'after-compaction'));
    assert.equal((await waitForDecision(cluster, ns, 'after-compaction', () => true, 60_000)).status?.decision, 'Approved');
  });
});
