/** Evidence sources backed by the API server (ConfigMaps in the release's namespace). */
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CraGateError } from '../errors.ts';
import type { EvidenceSources } from './collect.ts';

export function clusterSources(kubeConfig: KubeConfig): EvidenceSources {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async readConfigMap(namespace, name) {
      try {
        const cm = await core.readNamespacedConfigMap({ namespace, name });
        return cm.data ?? {};
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        const code = err instanceof ApiException ? err.code : undefined;
        throw new CraGateError('EvidenceUnavailable', `reading ConfigMap ${namespace}/${name} failed${code ? ` (HTTP ${code})` : ''}`, { cause: err });
      }
    },
    async readSecret(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ namespace, name });
        return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        const code = err instanceof ApiException ? err.code : undefined;
        throw new CraGateError('EvidenceUnavailable', `reading Secret ${namespace}/${name} failed${code ? ` (HTTP ${code})` : ''}`, { cause: err });
      }
    },
  };
}
