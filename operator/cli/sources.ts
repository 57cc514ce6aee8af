/**
 * Evidence sources for the CLI: ConfigMaps and Secrets come from the manifests given as files (exactly what the
 * operator reads from the API server: `data`, Secret values decoded, missing ⇒ undefined). Only Secrets the user
 * gave are read, so the operator's namespace rule for Secrets (cra-gate.dev/evidence-secrets) has no counterpart.
 * Network evidence (registries, HTTPS) is not a source: it goes through the EvidenceRuntime the CLI's evaluation
 * creates (./evaluate-files.ts), whose network capability is 'deny' with `--offline` — then every network read
 * fails with EvidenceUnavailable "not fetched (offline …)" at the HTTPS and registry clients, and the checks that
 * need it report Error (fail closed).
 */
import { requireNetwork } from '../evidence/https.ts';
import type { CraGateError } from '../errors.ts';
import type { EvidenceSources } from '../evidence/collect.ts';

export interface CliSourceOptions {
  /** `namespace/name` → data. */
  readonly configMaps: ReadonlyMap<string, Record<string, string>>;
  /** `namespace/name` → decoded data. */
  readonly secrets?: ReadonlyMap<string, Record<string, string>>;
}

/** The error a network read gets with `--offline` (the one the HTTPS and registry clients raise). */
export function offlineError(what: string): CraGateError {
  try {
    requireNetwork('deny', what);
  } catch (err) {
    return err as CraGateError;
  }
  throw new Error('unreachable: network access was not refused');
}

export function cliSources(opts: CliSourceOptions): EvidenceSources {
  return {
    readConfigMap(namespace, name) {
      const data = opts.configMaps.get(`${namespace}/${name}`);
      // A null-prototype copy: a key named `constructor` or `toString` is absent unless the ConfigMap has it.
      return Promise.resolve(data === undefined ? undefined : (Object.assign(Object.create(null), data) as Record<string, string>));
    },
    readSecret(namespace, name) {
      const data = opts.secrets?.get(`${namespace}/${name}`);
      return Promise.resolve(data === undefined ? undefined : (Object.assign(Object.create(null), data) as Record<string, string>));
    },
  };
}
