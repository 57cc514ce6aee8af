import { execSync } from 'node:child_process';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startCluster } from '../test/harness/fixture.ts';

const cluster = await startCluster();
try {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.cp.kubeconfigPath);
  const port = new URL(kc.getCurrentCluster()!.server).port;
  const api = kc.makeApiClient(CustomObjectsApi);
  const count = () => Number(execSync(`ss -tnH state all '( dport = :${port} )' | grep -c . || true`).toString().trim());
  const before = count();
  for (let i = 0; i < 50; i++) await api.listClusterCustomObject({ group: 'cra-gate.dev', version: 'v1alpha1', plural: 'productreleases', limit: 1 });
  console.log('client connections to the apiserver after 50 sequential requests:', count() - before);
} finally {
  await cluster.stop();
}
process.exit(0);
