/**
 * The operator end to end on a real kube-apiserver: approve, block, re-evaluate on spec and policy
 * changes, never approve without a policy, repair a forged status, Events and metrics.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, compliantRelease, baselinePolicy, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';

describe('operator on a real control plane', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns: string;

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    ns = await cluster.namespace('acme');
    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-main', args: ['--leader-elect', 'false'] });
    await op.port();
  });

  after(async () => {
    const code = await op?.stop();
    await cluster?.stop();
    assert.equal(code, 0, 'the operator exits 0 on SIGTERM');
  });

  it('approves a compliant release, with conditions, an Event and kubectl wait', async () => {
    await cluster.apply(compliantRelease(ns, 'router-2-4-0'));
    const wait = await cluster.kubectl(['wait', '-n', ns, '--for=condition=Approved', 'productrelease/router-2-4-0', '--timeout=60s']);
    assert.match(wait, /condition met/);
    const r = await cluster.getRelease(ns, 'router-2-4-0');
    assert.equal(r.status?.decision, 'Approved');
    assert.equal(r.status?.observedGeneration, r.metadata.generation);
    const approved = r.status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(approved?.status, 'True');
    assert.equal(approved?.observedGeneration, r.metadata.generation);
    assert.equal(r.status?.conditions?.find((c) => c.type === 'Evaluated')?.status, 'True');
    assert.deepEqual(r.status?.policy, { name: 'cra-baseline', generation: 1 });
    assert.equal(r.status?.checks?.length, 5);
    for (const c of r.status?.checks ?? []) {
      assert.equal(c.result, 'Pass', `${c.id}: ${c.message}`);
      assert.ok((c.cra ?? []).length > 0, `${c.id} carries its CRA reference`);
    }
    const events = await waitFor('an Approved event', async () => {
      const out = JSON.parse(await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])) as { items: { reason: string; regarding: { name: string }; type: string }[] };
      const e = out.items.filter((x) => x.regarding.name === 'router-2-4-0' && x.reason === 'Approved');
      return e.length ? e : undefined;
    });
    assert.equal(events[0]!.type, 'Normal');
    const table = await cluster.kubectl(['get', 'prel', '-n', ns]);
    assert.match(table, /PRODUCT\s+VERSION\s+DECISION\s+FAILED\s+AGE/);
    assert.match(table, /router-2-4-0\s+acme-router\s+2\.4\.0\s+Approved\s+0/);
  });

  it('blocks a non-compliant release with failing check ids, reasons and a Warning Event', async () => {
    await cluster.apply(
      compliantRelease(ns, 'camera-1-0-0', {
        spec: {
          product: { name: 'legacy-camera', manufacturer: { name: 'Vendor', url: 'https://vendor.example', email: null, address: null } },
          updates: { channel: 'https://vendor.example/fw.json', automatic: false, supportEnd: '2030-01' },
          vulnerabilityHandling: { contact: 'https://vendor.example/' },
        },
      }),
    );
    const r = await waitForDecision(cluster, ns, 'camera-1-0-0');
    assert.equal(r.status?.decision, 'Blocked');
    const failed = new Map((r.status?.checks ?? []).filter((c) => c.result === 'Fail').map((c) => [c.id, c]));
    assert.deepEqual([...failed.keys()].sort(), ['disclosure.contact', 'manufacturer.identity', 'update.channel', 'update.support-period']);
    for (const c of failed.values()) {
      assert.equal(c.enforcement, 'Block');
      assert.match(c.reason ?? '', /^[A-Z][A-Za-z0-9]+$/);
      assert.ok((c.message ?? '').length > 0);
    }
    assert.equal(r.status?.summary?.failed, 4);
    const approved = r.status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(approved?.status, 'False');
    assert.match(approved?.message ?? '', /update\.support-period/);
    await waitFor('a Blocked warning event', async () => {
      const out = JSON.parse(await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])) as { items: { reason: string; type: string; regarding: { name: string }; note: string }[] };
      return out.items.find((x) => x.regarding.name === 'camera-1-0-0' && x.reason === 'Blocked' && x.type === 'Warning');
    });
    const describe = await cluster.kubectl(['describe', 'prel', '-n', ns, 'camera-1-0-0']);
    assert.match(describe, /update\.support-period/);
  });

  it('re-evaluates after a spec edit: observedGeneration follows generation', async () => {
    const before = await cluster.getRelease(ns, 'camera-1-0-0');
    await cluster.kubectl([
      'patch', 'prel', '-n', ns, 'camera-1-0-0', '--type=merge', '-p',
      JSON.stringify({
        spec: {
          product: { manufacturer: { email: 'security@vendor.example', address: 'Hauptstr. 2, 80331 München, DE' } },
          updates: { automatic: true, supportEnd: '2034-12' },
          vulnerabilityHandling: { contact: 'mailto:security@vendor.example' },
        },
      }),
    ]);
    const r = await waitForDecision(cluster, ns, 'camera-1-0-0', (x) => (x.metadata.generation ?? 0) > (before.metadata.generation ?? 0));
    assert.equal(r.status?.observedGeneration, r.metadata.generation);
    assert.equal(r.status?.decision, 'Approved', JSON.stringify(r.status?.checks));
  });

  it('re-evaluates the releases a policy governs when the policy changes', async () => {
    const name = 'strict-camera';
    await cluster.apply(baselinePolicy('strict-policy'));
    await cluster.apply(
      compliantRelease(ns, name, { spec: { policyRef: 'strict-policy', updates: { automatic: false } } }),
    );
    let r = await waitForDecision(cluster, ns, name);
    assert.equal(r.status?.decision, 'Blocked');
    await cluster.apply(baselinePolicy('strict-policy', { 'update.channel': 'Warn' }));
    r = await waitForDecision(cluster, ns, name, (x) => x.status?.policy?.generation === 2);
    assert.equal(r.status?.decision, 'Approved');
    const ch = r.status?.checks?.find((c) => c.id === 'update.channel');
    assert.equal(ch?.result, 'Fail');
    assert.equal(ch?.enforcement, 'Warn');
    assert.equal(r.status?.summary?.warned, 1);
    // Off removes the check from the evaluation entirely.
    await cluster.apply(baselinePolicy('strict-policy', { 'update.channel': 'Off' }));
    r = await waitForDecision(cluster, ns, name, (x) => x.status?.policy?.generation === 3);
    assert.equal(r.status?.checks?.find((c) => c.id === 'update.channel'), undefined);
  });

  it('never approves a release whose policy does not exist, and evaluates it once the policy appears', async () => {
    const name = 'orphan';
    await cluster.apply(compliantRelease(ns, name, { spec: { policyRef: 'not-yet-there' } }));
    let r = await waitForDecision(cluster, ns, name);
    assert.equal(r.status?.decision, 'Pending');
    const approved = r.status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(approved?.status, 'False');
    assert.equal(approved?.reason, 'PolicyNotFound');
    assert.match(approved?.message ?? '', /not-yet-there/);
    await cluster.apply(baselinePolicy('not-yet-there'));
    r = await waitForDecision(cluster, ns, name, (x) => x.status?.decision !== 'Pending');
    assert.equal(r.status?.decision, 'Approved');
    // Deleting the policy takes the approval away again.
    await cluster.kubectl(['delete', 'rpol', 'not-yet-there']);
    r = await waitForDecision(cluster, ns, name, (x) => x.status?.decision === 'Pending');
    assert.equal(r.status?.conditions?.find((c) => c.type === 'Approved')?.status, 'False');
  });

  it('blocks on a policy that names an unknown check (fail closed)', async () => {
    await cluster.apply({
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'typo-policy' },
      spec: { checks: [{ id: 'manufacturer.identity', enforcement: 'Block' }, { id: 'sbom.presnt', enforcement: 'Block' }] },
    });
    await cluster.apply(compliantRelease(ns, 'typo', { spec: { policyRef: 'typo-policy' } }));
    const r = await waitForDecision(cluster, ns, 'typo');
    assert.equal(r.status?.decision, 'Blocked');
    const c = r.status?.checks?.find((x) => x.id === 'sbom.presnt');
    assert.equal(c?.result, 'Error');
    assert.equal(c?.reason, 'UnknownCheck');
    // The policy itself says why it is not usable.
    const ready = await waitFor('typo-policy to report Ready=False', async () => {
      const p = JSON.parse(await cluster.kubectl(['get', 'rpol', 'typo-policy', '-o', 'json'])) as { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] } };
      const cond = p.status?.conditions?.find((x) => x.type === 'Ready');
      return cond && p.status?.observedGeneration === p.metadata.generation ? cond : undefined;
    });
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'UnknownCheck');
    assert.match(ready.message, /spec\.checks\[1\]\.id: unknown check "sbom\.presnt"/);
    const baseline = JSON.parse(await cluster.kubectl(['get', 'rpol', 'cra-baseline', '-o', 'json'])) as { status?: { conditions?: { type: string; status: string }[] } };
    assert.equal(baseline.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
  });

  it('repairs a forged status: writing Approved by hand does not stick', async () => {
    const name = 'forged';
    await cluster.apply(compliantRelease(ns, name, { spec: { updates: { automatic: false } } }));
    await waitForDecision(cluster, ns, name, (x) => x.status?.decision === 'Blocked');
    await cluster.kubectl(['patch', 'prel', '-n', ns, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { decision: 'Approved' } })]);
    const r = await waitForDecision(cluster, ns, name, (x) => x.status?.decision === 'Blocked', 30_000);
    assert.equal(r.status?.decision, 'Blocked');
  });

  it('exposes Prometheus metrics', async () => {
    assert.ok((await op.metric('cra_gate_reconcile_total', { result: 'success' })) > 0);
    assert.ok((await op.metric('cra_gate_check_results_total', { check: 'update.channel', result: 'Fail' })) > 0);
    assert.ok((await op.metric('cra_gate_releases', { decision: 'Approved' })) >= 2);
    assert.ok((await op.metric('cra_gate_releases', { decision: 'Blocked' })) >= 1);
    const text = await op.metrics();
    assert.match(text, /cra_gate_reconcile_duration_seconds_bucket/);
    assert.match(text, /workqueue_depth\{name="productrelease"\}/);
    assert.match(text, /process_cpu_seconds_total/);
    const ready = await fetch(`http://127.0.0.1:${await op.port()}/readyz`);
    assert.equal(ready.status, 200);
  });
});
