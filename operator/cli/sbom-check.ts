/**
 * The analysis behind `cra-gate sbom check`: SBOM bytes → the rules' findings, as plain data (so that it can run
 * in a worker thread, ./sbom-worker.ts, and come back by structured clone). No I/O, never throws for content.
 */
import { analyzeSbomAsync, localiseFinding } from '../sbom/analyze.ts';
import type { SbomLimits } from '../sbom/parse.ts';
import {
  ruleBsiFields,
  ruleComplete,
  ruleFormatVersion,
  ruleLicenceIds,
  ruleNoVulnData,
  ruleNtia,
  ruleSchemaValid,
  ruleTopLevelDeps,
} from '../sbom/rules.ts';
import type { RuleFinding, SbomProfile } from '../sbom/rules.ts';

/** Every finding is listed with all its pointers up to this many per group. */
export const CLI_MAX_POINTERS = 10_000;

export type SbomCheckReport =
  | {
      readonly ok: true;
      readonly digest: string;
      readonly format: string;
      readonly specVersion: string;
      readonly schema: { readonly kind: string; readonly name: string; readonly valid: boolean };
      readonly components: number;
      readonly rules: readonly { readonly id: string; readonly findings: readonly RuleFinding[] }[];
    }
  | { readonly ok: false; readonly reason: string; readonly message: string; readonly digest?: string };

export async function checkSbomBytes(bytes: Uint8Array, limits: SbomLimits, profile: SbomProfile): Promise<SbomCheckReport> {
  const a = await analyzeSbomAsync(bytes, limits);
  if (!a.ok) return { ok: false, reason: a.reason, message: a.message, digest: a.digest };
  const raw: { id: string; findings: RuleFinding[] }[] = [
    { id: 'sbom.format-valid', findings: ruleSchemaValid(a) },
    { id: 'sbom.format-version', findings: ruleFormatVersion(a, profile) },
    {
      id: 'sbom.bsi-tr-03183-fields',
      findings: profile === 'ntia' ? ruleNtia(a.model, CLI_MAX_POINTERS) : ruleBsiFields(a.model, profile, CLI_MAX_POINTERS),
    },
    { id: 'sbom.top-level-deps', findings: ruleTopLevelDeps(a.model) },
    { id: 'sbom.complete', findings: ruleComplete(a.model, CLI_MAX_POINTERS) },
    { id: 'sbom.licence-ids', findings: ruleLicenceIds(a.model, CLI_MAX_POINTERS) },
    { id: 'sbom.no-vuln-data', findings: ruleNoVulnData(a.model) },
  ];
  return {
    ok: true,
    digest: a.digest,
    format: a.format,
    specVersion: a.specVersion,
    schema: { kind: a.schema.schema, name: a.schema.schemaName, valid: a.schema.valid },
    components: a.model.components.length,
    // XML SBOMs: pointers become XPath into the document.
    rules: raw.map((r) => ({ id: r.id, findings: r.findings.map((f) => localiseFinding(a, f)) })),
  };
}
