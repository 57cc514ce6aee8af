/** Registry configuration of the signature collector (and the webhook, the feed fetcher, the dossier push). */
import { fetchOptionsFromEnv } from '../https.ts';
import type { RegistryClientOptions } from '../oci/client.ts';

/**
 * Operator configuration for registries: CRA_GATE_REGISTRY_ALLOW_HOSTS (host[:port], comma-separated; else
 * CRA_GATE_HTTP_ALLOW_HOSTS), CRA_GATE_REGISTRY_INSECURE_HOSTS (plain http; labs/tests only),
 * CRA_GATE_REGISTRY_CA_FILE (else CRA_GATE_HTTP_CA_FILE), CRA_GATE_REGISTRY_TIMEOUT_MS.
 */
export function registryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryClientOptions {
  const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const http = fetchOptionsFromEnv({ ...env, CRA_GATE_HTTP_CA_FILE: env.CRA_GATE_REGISTRY_CA_FILE ?? env.CRA_GATE_HTTP_CA_FILE });
  const allow = list(env.CRA_GATE_REGISTRY_ALLOW_HOSTS);
  const timeout = Number(env.CRA_GATE_REGISTRY_TIMEOUT_MS);
  return {
    allowHosts: allow.length ? allow : (http.allowHosts ?? []),
    insecureHosts: list(env.CRA_GATE_REGISTRY_INSECURE_HOSTS),
    ...(http.ca ? { ca: http.ca } : {}),
    ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutMs: timeout } : {}),
  };
}
