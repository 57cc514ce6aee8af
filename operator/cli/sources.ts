/**
 * Evidence sources for the CLI: ConfigMaps and Secrets come from the manifests given as files (exactly what the
 * operator reads from the API server: `data`, Secret values decoded, missing ⇒ undefined). Only Secrets the user
 * gave are read, so the operator's namespace rule for Secrets (cra-gate.dev/evidence-secrets) has no counterpart. Network evidence (registries, HTTPS) goes through
 * the same sources as in the operator, unless `--offline`: then every network read fails with
 * EvidenceUnavailable "not fetched (--offline)", and the checks that need it report Error (fail closed).
 */
import { CraGateError } from '../errors.ts';
import type { EvidenceSources } from '../evidence/collect.ts';

export interface CliSourceOptions {
  /** `namespace/name` → data. */
  readonly configMaps: ReadonlyMap<string, Record<string, string>>;
  /** `namespace/name` → decoded data. */
  readonly secrets?: ReadonlyMap<string, Record<string, string>>;
  readonly offline: boolean;
}

/** The error a network read gets with `--offline`. */
export function offlineError(what: string): CraGateError {
  return new CraGateError('EvidenceUnavailable', `${what} not fetched (--offline)`);
}

export function cliSources(opts: CliSourceOptions): EvidenceSources & { readonly offline: boolean } {
  return {
    offline: opts.offline,
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
