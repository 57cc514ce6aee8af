/** The registry of every check this operator knows. Ids are stable API. */
import { craApplicability } from './applicability.ts';
import { disclosureContact } from './disclosure.ts';
import { manufacturerIdentity } from './manufacturer.ts';
import { updateChannel, updateSupportPeriod } from './update.ts';
import { sbomChecks } from './sbom.ts';
import { artifactHashMatchesSbom } from './artifact-hash.ts';
import { configSecureDefaults } from './config.ts';
import { signatureValid } from './signature.ts';
import { vulnNoKnownExploitable, vulnNoKnownExploited } from './vuln.ts';
import { vexValid } from './vex.ts';
import { disclosureCvdPolicy, disclosureSecurityTxt } from './disclosure-web.ts';
import { conformityRoute } from './conformity.ts';
import { userInformationAnnexII } from './userinfo.ts';
import type { CheckDefinition } from './types.ts';

export type { CheckContext, CheckDefinition, CheckOutcome, CheckResult, Evidence, Finding } from './types.ts';

const all: readonly CheckDefinition[] = [
  craApplicability,
  manufacturerIdentity,
  updateChannel,
  updateSupportPeriod,
  disclosureContact,
  ...sbomChecks,
  artifactHashMatchesSbom,
  configSecureDefaults,
  signatureValid,
  vulnNoKnownExploitable,
  vulnNoKnownExploited,
  vexValid,
  disclosureSecurityTxt,
  disclosureCvdPolicy,
  conformityRoute,
  userInformationAnnexII,
];

export function buildRegistry(checks: readonly CheckDefinition[]): ReadonlyMap<string, CheckDefinition> {
  const map = new Map<string, CheckDefinition>();
  for (const c of checks) {
    if (map.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
    map.set(c.id, c);
  }
  return map;
}

export const checkRegistry: ReadonlyMap<string, CheckDefinition> = buildRegistry(all);

/** Every known check, sorted by id. */
export function listChecks(registry: ReadonlyMap<string, CheckDefinition> = checkRegistry): CheckDefinition[] {
  return [...registry.values()].sort((a, b) => a.id.localeCompare(b.id));
}
