/**
 * The SBOM rule profiles, alone in a module: `cra-gate sbom check` checks its --profile on the main thread without
 * loading the rules (and their SPDX-expression and URI-format dependencies), which run in the analysis worker.
 */
export type SbomProfile = 'bsi-2.1' | 'bsi-2.0' | 'ntia';
export const PROFILES: readonly SbomProfile[] = ['bsi-2.1', 'bsi-2.0', 'ntia'];

export function isProfile(v: unknown): v is SbomProfile {
  return typeof v === 'string' && (PROFILES as readonly string[]).includes(v);
}
