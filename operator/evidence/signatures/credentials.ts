/** Registry credentials for the signature collector: the release's imagePullSecrets and the policy's pullSecrets. */
import type { ProductRelease, ReleasePolicy } from '../../api/types.ts';
import { parseDockerConfig } from '../oci/auth.ts';
import type { Credentials } from '../oci/auth.ts';
import type { EvidenceSources } from '../collect.ts';
import { readKey } from './trust.ts';

/** Registry credentials from the release's imagePullSecrets and the policy's pullSecrets. */
export async function loadCredentials(release: ProductRelease, policy: ReleasePolicy | undefined, sources: EvidenceSources): Promise<Map<string, Credentials>> {
  const ns = release.metadata?.namespace ?? 'default';
  const refs = [...(release.spec.imagePullSecrets ?? []).map((s) => ({ namespace: ns, name: s.name })), ...(policy?.spec.signing?.pullSecrets ?? [])];
  const out = new Map<string, Credentials>();
  for (const r of refs) {
    const json = await readKey(sources, 'Secret', { ...r, key: '.dockerconfigjson' });
    for (const [host, c] of parseDockerConfig(json, `Secret ${r.namespace}/${r.name}`)) if (!out.has(host)) out.set(host, c);
  }
  return out;
}
