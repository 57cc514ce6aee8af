import { execSync } from 'node:child_process';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startCluster, compliantRelease } from '../test/harness/fixture.ts';
import { createBurst, cpuSeconds } from '../bench/lib/measure.ts';

function share(kc: KubeConfig): void {
  const k = kc as unknown as { createDispatcher: (c: unknown, o: unknown) => unknown };
  const orig = k.createDispatcher.bind(kc);
  let cached: unknown;
  k.createDispatcher = (c, o) => (cached ??= orig(c, o));
}
const cluster = await startCluster();
try {
  const pids = cluster.cp.pids();
  const ns = await cluster.namespace('ka');
  const N = 300;
  await createBurst(cluster.cp.kubeConfig(), ns, Array.from({ length: N }, (_, i) => compliantRelease(ns, `p-${i}`)));
  for (const shared of [false, true, false, true]) {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.cp.kubeconfigPath);
    if (shared) share(kc);
    const port = new URL(kc.getCurrentCluster()!.server).port;
    const count = () => Number(execSync(`ss -tnH state all '( dport = :${port} )' | grep -c . || true`).toString().trim());
    const api = kc.makeApiClient(CustomObjectsApi);
    const c0 = count();
    const a0 = cpuSeconds(pids.apiserver!);
    const t0 = performance.now();
    let i = 0;
    await Promise.all([0, 1, 2, 3].map(async () => { while (i < N) { const k = i++; await api.patchNamespacedCustomObjectStatus({ group: 'cra-gate.dev', version: 'v1alpha1', namespace: ns, plural: 'productreleases', name: `p-${k}`, body: { status: { decision: shared ? 'Approved' : 'Blocked', observedGeneration: 1 } }, fieldManager: 'x' }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)); } }));
    console.log('shared dispatcher', shared, 'connections', count() - c0, 'apiserver CPU ms/write', ((cpuSeconds(pids.apiserver!) - a0) * 1000 / N).toFixed(2), 'wall ms/write', ((performance.now() - t0) / N * 4).toFixed(1));
    await new Promise((r) => setTimeout(r, 2000));
  }
} finally {
  await cluster.stop();
}
process.exit(0);
