/**
 * Leader election with two operator processes on a real Lease: only the leader reconciles; after the
 * leader is SIGKILLed the other takes over within the lease duration plus a few seconds; a graceful
 * SIGTERM releases the Lease so the hand-over is immediate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, compliantRelease, baselinePolicy, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';

interface Lease {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
}

describe('leader election', () => {
  let cluster: Cluster;
  let ns: string;
  const ops: OperatorProcess[] = [];

  const holder = async (): Promise<string | undefined> => {
    const r = await cluster.cp.kubectl(['get', 'lease', '-n', 'cra-gate', 'cra-gate-operator', '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Lease).spec.holderIdentity || undefined : undefined;
  };

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    ns = await cluster.namespace('leader');
    for (const id of ['op-a', 'op-b']) {
      ops.push(startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: id }));
    }
    await Promise.all(ops.map((o) => o.port()));
  });

  after(async () => {
    await Promise.all(ops.map((o) => o.stop()));
    await cluster?.stop();
  });

  it('only the leader reconciles', async () => {
    const leaderId = await waitFor('a leader to be elected', holder, { timeoutMs: 30_000 });
    await cluster.apply(compliantRelease(ns, 'one'));
    await waitForDecision(cluster, ns, 'one');
    const leader = ops.find((o) => o.identity === leaderId)!;
    const follower = ops.find((o) => o.identity !== leaderId)!;
    assert.equal(await leader.metric('cra_gate_leader'), 1);
    assert.equal(await follower.metric('cra_gate_leader'), 0);
    assert.ok((await leader.metric('cra_gate_reconcile_total')) >= 1);
    assert.equal(await follower.metric('cra_gate_reconcile_total'), 0, 'the follower never reconciles');
  });

  it('a SIGKILLed leader is replaced within the lease duration plus a few seconds', async () => {
    const leaderId = (await holder())!;
    const leader = ops.find((o) => o.identity === leaderId)!;
    const follower = ops.find((o) => o.identity !== leaderId)!;
    const killedAt = Date.now();
    leader.kill('SIGKILL');
    await leader.exited();
    await waitFor('the follower to take the lease', async () => ((await holder()) === follower.identity ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs < 15_000 + 5_000, `takeover took ${takeoverMs} ms`);
    await cluster.apply(compliantRelease(ns, 'two', { spec: { updates: { automatic: false } } }));
    const r = await waitForDecision(cluster, ns, 'two');
    assert.equal(r.status?.decision, 'Blocked');
    assert.equal(await follower.metric('cra_gate_leader'), 1);
  });

  it('a graceful shutdown releases the lease at once', async () => {
    const successor = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-c' });
    ops.push(successor);
    await successor.port();
    const current = ops.find((o) => o.identity === 'op-b' || o.identity === 'op-a');
    const leaderId = (await holder())!;
    const leader = ops.find((o) => o.identity === leaderId && o.proc.exitCode === null) ?? current!;
    const stoppedAt = Date.now();
    assert.equal(await leader.stop(), 0);
    await waitFor('op-c to take the released lease', async () => ((await holder()) === 'op-c' ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    const handoverMs = Date.now() - stoppedAt;
    assert.ok(handoverMs < 8_000, `hand-over after release took ${handoverMs} ms`);
  });
});
