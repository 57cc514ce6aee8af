/**
 * Evidence sources backed by the API server: ConfigMaps, and Secrets under a namespace restriction.
 *
 * Secret references (ReleasePolicy `spec.signing.keys[].secretRef`, `trustedRoot.secretRef`, `pullSecrets`,
 * ProductRelease `spec.imagePullSecrets`) are read only from the operator's own namespace and from namespaces
 * that opt in with the label `cra-gate.dev/evidence-secrets=allow` (docs/operations.md). Anything else is
 * refused with SecretRefNotAllowed BEFORE the API server is asked, so the answer is the same whether or not
 * such a Secret exists (no existence oracle across namespaces). Messages name the reference, never content.
 */
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CraGateError } from '../errors.ts';
import { requestOptions } from '../kube/request.ts';
import type { EvidenceSources } from './collect.ts';
import { apiClient } from '../kube/pool.ts';

/** The namespace label that opts a namespace in to Secret references (value `allow`). */
export const EVIDENCE_SECRETS_LABEL = 'cra-gate.dev/evidence-secrets';
export const EVIDENCE_SECRETS_ALLOW = 'allow';

/** namespace → whether it opted in to Secret references, and when that was read. */
export type OptInCache = Map<string, { allowed: boolean; at: number }>;

export interface ClusterSourcesOptions {
  /** The operator's namespace (default `cra-gate`; the operator passes config.ts's, from POD_NAMESPACE). Its Secrets are always usable. */
  readonly operatorNamespace?: string;
  /** How long a namespace's opt-in label is remembered (default 30 s). */
  readonly labelCacheMs?: number;
  readonly now?: () => number;
  /** The opt-in cache to use, so that per-reconcile sources share one (default: a new one). */
  readonly optInCache?: OptInCache;
  /** Cancels every read (a reconcile's signal: lost leadership, shutdown, deadline). */
  readonly signal?: AbortSignal;
}

/** Why a Secret reference is refused; the same text whether or not the Secret exists. */
export function secretRefNotAllowed(namespace: string, name: string, operatorNamespace: string): CraGateError {
  return new CraGateError(
    'SecretRefNotAllowed',
    `Secret ${namespace}/${name} was not read: Secret references must be in the operator's namespace ${operatorNamespace} or a namespace labelled ${EVIDENCE_SECRETS_LABEL}=${EVIDENCE_SECRETS_ALLOW}`,
  );
}

export function clusterSources(kubeConfig: KubeConfig, opts: ClusterSourcesOptions = {}): EvidenceSources {
  const core = apiClient(kubeConfig, CoreV1Api);
  const own = opts.operatorNamespace ?? 'cra-gate';
  const cacheMs = opts.labelCacheMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const optedIn: OptInCache = opts.optInCache ?? new Map<string, { allowed: boolean; at: number }>();
  const signal = opts.signal;
  const options = signal ? requestOptions({ signal }) : undefined;

  async function secretsAllowedIn(namespace: string): Promise<boolean> {
    if (namespace === own) return true;
    const hit = optedIn.get(namespace);
    if (hit && now() - hit.at < cacheMs) return hit.allowed;
    let allowed: boolean;
    try {
      const ns = await core.readNamespace({ name: namespace }, options);
      allowed = ns.metadata?.labels?.[EVIDENCE_SECRETS_LABEL] === EVIDENCE_SECRETS_ALLOW;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) allowed = false;
      else {
        const code = err instanceof ApiException ? err.code : undefined;
        throw new CraGateError('EvidenceUnavailable', `reading Namespace ${namespace} (for its ${EVIDENCE_SECRETS_LABEL} label) failed${code ? ` (HTTP ${code})` : ''}`, { cause: err });
      }
    }
    optedIn.set(namespace, { allowed, at: now() });
    if (optedIn.size > 1024) optedIn.delete(optedIn.keys().next().value!);
    return allowed;
  }

  return {
    ...(signal ? { signal } : {}),
    async readConfigMap(namespace, name) {
      try {
        const cm = await core.readNamespacedConfigMap({ namespace, name }, options);
        // Null prototype: a key named `constructor` or `toString` is absent unless the ConfigMap has it.
        return Object.assign(Object.create(null), cm.data ?? {}) as Record<string, string>;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        const code = err instanceof ApiException ? err.code : undefined;
        throw new CraGateError('EvidenceUnavailable', `reading ConfigMap ${namespace}/${name} failed${code ? ` (HTTP ${code})` : ''}`, { cause: err });
      }
    },
    async readSecret(namespace, name) {
      if (!(await secretsAllowedIn(namespace))) throw secretRefNotAllowed(namespace, name, own);
      try {
        const secret = await core.readNamespacedSecret({ namespace, name }, options);
        // Null prototype: Secret keys are user-chosen (a key named `constructor` is just a key).
        const out = Object.create(null) as Record<string, string>;
        for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
        return out;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        const code = err instanceof ApiException ? err.code : undefined;
        // No `cause`: the client's error carries the response body, which must not reach logs or status.
        throw new CraGateError('EvidenceUnavailable', `reading Secret ${namespace}/${name} failed${code ? ` (HTTP ${code})` : ''}`);
      }
    },
  };
}
