/**
 * Network settings from the environment, parsed once by a composition root: the operator's configuration
 * (./config.ts) and the CLI's evaluation (./cli/evaluate-files.ts, from its `io.env`). Library code never reads
 * the environment; it receives these settings inside the EvidenceRuntime (./evidence/runtime.ts).
 *
 * - CRA_GATE_HTTP_ALLOW_HOSTS (comma-separated host[:port]) and CRA_GATE_HTTP_CA_FILE (PEM) for HTTPS evidence;
 * - CRA_GATE_REGISTRY_ALLOW_HOSTS (else CRA_GATE_HTTP_ALLOW_HOSTS), CRA_GATE_REGISTRY_INSECURE_HOSTS (plain
 *   http; labs/tests only), CRA_GATE_REGISTRY_CA_FILE (else CRA_GATE_HTTP_CA_FILE), CRA_GATE_REGISTRY_TIMEOUT_MS.
 */
import { readFileSync } from 'node:fs';
import type { NetworkSettings } from './evidence/runtime.ts';

export type Env = Readonly<Record<string, string | undefined>>;

function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function readCa(name: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${name}: cannot read ${file}: ${(err as Error).message.slice(0, 160)}`, { cause: err });
  }
}

/** Throws a plain Error naming the variable when a CA file cannot be read or a number is invalid. */
export function networkSettingsFromEnv(env: Env): Required<NetworkSettings> {
  const httpAllow = list(env.CRA_GATE_HTTP_ALLOW_HOSTS);
  const httpCa = env.CRA_GATE_HTTP_CA_FILE ? readCa('CRA_GATE_HTTP_CA_FILE', env.CRA_GATE_HTTP_CA_FILE) : undefined;
  const registryCa = env.CRA_GATE_REGISTRY_CA_FILE ? readCa('CRA_GATE_REGISTRY_CA_FILE', env.CRA_GATE_REGISTRY_CA_FILE) : httpCa;
  const registryAllow = list(env.CRA_GATE_REGISTRY_ALLOW_HOSTS);
  const rawTimeout = env.CRA_GATE_REGISTRY_TIMEOUT_MS;
  let timeoutMs: number | undefined;
  if (rawTimeout !== undefined && rawTimeout !== '') {
    timeoutMs = Number(rawTimeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
      throw new Error(`invalid CRA_GATE_REGISTRY_TIMEOUT_MS: ${JSON.stringify(rawTimeout)} (an integer from 1 to 600000)`);
    }
  }
  return {
    http: { allowHosts: httpAllow, ...(httpCa ? { ca: httpCa } : {}) },
    registry: {
      allowHosts: registryAllow.length ? registryAllow : httpAllow,
      insecureHosts: list(env.CRA_GATE_REGISTRY_INSECURE_HOSTS),
      ...(registryCa ? { ca: registryCa } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    },
  };
}
