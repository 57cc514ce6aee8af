/**
 * Restart without a re-decide storm (issue 16), on a real kube-apiserver with the operator process:
 *
 *  - N settled releases (spec-only evidence) carry status.inputs; a restarted operator is ready, re-decides
 *    none of them (zero reconciles, no status write: same resourceVersions) and leaves them for their periodic
 *    re-evaluation;
 *  - releases of a policy with a vulnerability feed: the restarted operator loads the feed once, finds the
 *    content their decisions recorded, and re-decides none of them (the feed's first load is no "change");
 *  - fail closed: a release edited while the operator was down, and the releases whose decision read a
 *    ConfigMap (evidence whose change while down nobody watched, so no input record is written — among them
 *    the one whose reconcile loaded the feed ConfigMap), are re-evaluated — exactly those.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ProductRelease } from '../../operator/api/types.ts';
import { startCluster, compliantRelease, baselinePolicy, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';

const N = 50;
/** Releases under the feed policy. */
const F = 10;
/** After the restart's queue went idle, how long we keep watching for a late reconcile. */
const QUIET_MS = 5_000;
const FX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vuln');

interface List { items: ProductRelease[] }

async function releases(cluster: Cluster, ns: string): Promise<ProductRelease[]> {
  return (JSON.parse(await cluster.kubectl(['get', 'prel', '-n', ns, '-o', 'json'])) as List).items;
}

async function idle(op: OperatorProcess): Promise<void> {
  await waitFor('the work queue to be idle', async () =>
    (await op.metric('workqueue_depth', { name: 'productrelease' })) === 0 &&
    (await op.metric('workqueue_longest_running_processor_seconds', { name: 'productrelease' })) === 0,
  { timeoutMs: 60_000, intervalMs: 200 });
}

const reconciles = (op: OperatorProcess) => op.metric('cra_gate_reconcile_total');

describe('restart with settled releases', () => {
  let cluster: Cluster;
  let ns: string;
  let op: OperatorProcess | undefined;
  /** Releases whose decision recorded no inputs (they are re-evaluated after the restart). */
  const unrecorded: string[] = [];

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    ns = await cluster.namespace('restart');
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: ns, name: 'sbom' },
      data: { 'bom.json': readFileSync(path.join(FX, 'sbom', 'cern-lhc-vdm-editor.cdx.json'), 'utf8') },
    });
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'cra-gate', name: 'kev-feed' }, data: { 'kev.json': readFileSync(path.join(FX, 'kev', 'kev-subset-without-log4shell.json'), 'utf8') } });
    const feedPolicy = baselinePolicy('with-feed') as { spec: { checks: unknown[]; vulnerabilityFeeds?: unknown[] } };
    feedPolicy.spec.checks.push({ id: 'vuln.no-known-exploited', enforcement: 'Warn' });
    feedPolicy.spec.vulnerabilityFeeds = [{ kev: { configMapRef: { namespace: 'cra-gate', name: 'kev-feed', key: 'kev.json' } } }];
    await cluster.apply(feedPolicy);
    const items = Array.from({ length: N }, (_, i) => compliantRelease(ns, `r-${i}`));
    for (let i = 0; i < F; i++) items.push(compliantRelease(ns, `f-${i}`, { spec: { policyRef: 'with-feed' } }));
    items.push(compliantRelease(ns, 'reads-configmap', { spec: { sboms: [{ artifact: 'router', configMapRef: { name: 'sbom', key: 'bom.json' } }] } }));
    await cluster.apply({ apiVersion: 'v1', kind: 'List', items });
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
  });

  it('records the inputs of every decision it can confirm later, and none where it read a ConfigMap', async () => {
    const first = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-restart-1', args: ['--leader-elect', 'false', '--watch-namespace', ns] });
    op = first;
    await first.ready();
    await waitFor(`${N + F + 1} releases decided`, async () => {
      const all = await releases(cluster, ns);
      return all.length === N + F + 1 && all.every((r) => r.status?.decision && r.status.decision !== 'Pending' && r.status.observedGeneration === r.metadata.generation);
    }, { timeoutMs: 120_000, intervalMs: 500 });
    await idle(first);
    const all = await releases(cluster, ns);
    // Stopped before asserting: the restart test must not find it still running.
    assert.equal(await first.stop(), 0);
    op = undefined;
    for (const r of all) {
      if (r.metadata.name?.startsWith('f-') && r.status?.inputs === undefined) {
        unrecorded.push(r.metadata.name);
        continue;
      }
      if (r.metadata.name === 'reads-configmap') {
        assert.equal(r.status?.inputs, undefined, 'no record: a ConfigMap read cannot be confirmed unchanged without reading it');
        continue;
      }
      assert.match(r.status?.inputs?.digest ?? '', /^sha256:[0-9a-f]{64}$/, r.metadata.name);
      const due = Date.parse(r.status?.inputs?.reevaluateAt ?? '');
      assert.ok(due > Date.parse(r.status?.evaluatedAt ?? ''), 'the periodic re-evaluation is due after the decision');
      assert.ok(due - Date.now() > 3600_000, `${r.metadata.name}: not due within the test (${r.status?.inputs?.reevaluateAt})`);
    }
    // A reconcile that loaded the feed itself may have read its ConfigMap through the release's sources: that
    // decision records nothing. Every other one records the feed's content digest.
    assert.ok(unrecorded.length < F, `feed releases without a record: ${unrecorded.join(', ')}`);
    unrecorded.push('reads-configmap');
  });

  it('a restarted operator re-decides nothing whose inputs are unchanged; what changed or cannot be confirmed is re-evaluated', async () => {
    // While the operator is down: one release is edited.
    await cluster.kubectl(['patch', 'prel', '-n', ns, 'r-0', '--type=merge', '-p', JSON.stringify({ spec: { version: '2.4.1' } })]);
    const before = new Map((await releases(cluster, ns)).map((r) => [r.metadata.name!, r.metadata.resourceVersion]));

    const started = performance.now();
    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-restart-2', args: ['--leader-elect', 'false', '--watch-namespace', ns] });
    await op.ready();
    const readyMs = performance.now() - started;
    await waitFor('the edited release decided for its new generation', async () => {
      const r = await cluster.getRelease(ns, 'r-0');
      return r.status?.observedGeneration === r.metadata.generation;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await idle(op);
    await sleep(QUIET_MS);
    await idle(op);

    assert.equal(await reconciles(op), 1 + unrecorded.length, `exactly the edited release and those without a record (${unrecorded.join(', ')}) were re-evaluated`);
    const after = await releases(cluster, ns);
    const rewritten = after.filter((r) => r.metadata.resourceVersion !== before.get(r.metadata.name!)).map((r) => r.metadata.name!).sort();
    // The edited release is written; a release without a record may get one now (the feed is cached: no read).
    assert.ok(rewritten.includes('r-0'), 'the edited release is decided again');
    for (const name of rewritten) assert.ok(name === 'r-0' || unrecorded.includes(name), `${name} was written although its inputs were unchanged`);
    const plan = op.logs.find((l) => typeof l.deferred === 'number');
    assert.equal(plan?.deferred, N - 1, 'the settled releases of the feed-less policy wait for their periodic re-evaluation at once');
    assert.equal(plan?.waitingForFeeds, F - (unrecorded.length - 1), 'the recorded feed-policy releases wait for the feed to load');
    assert.ok(readyMs < 60_000, `ready in ${Math.round(readyMs)} ms`);
  });
});
