/**
 * The CRA file as the operator stores it for an Approved release: the dossier in HTML and JSON and, with a
 * decision signing key, the signed SLSA VSA and dossier statements (DSSE envelopes). Pure except for signing.
 * The digest covers everything but the generation time, so an unchanged file is neither rendered, signed nor
 * written again.
 */
import { createHash } from 'node:crypto';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import type { Evidence } from '../checks/types.ts';
import type { Evaluation } from '../engine/evaluate.ts';
import type { DecisionKey } from '../attestation/decision.ts';
import { dossierStatement, policyDigest, signInToto, subjectsOf, vsaStatement } from '../attestation/vsa.ts';
import { canonicalJson } from '../util/canonical.ts';
import { buildDossier } from './model.ts';
import { renderDossierHtml } from './render.ts';

/** ConfigMaps hold at most 1 MiB; the file stays well below, or its HTML is left out (the JSON carries it all). */
const MAX_FILE_BYTES = 900 * 1024;

export function craFileData(input: {
  release: ProductRelease;
  policy: ReleasePolicy | undefined;
  evaluation: Evaluation;
  evidence: Evidence;
  now: Date;
  tool: string;
  signingKey?: DecisionKey | undefined;
}): { digest: string; data: () => Record<string, string> } {
  const dossier = buildDossier({ release: input.release, evaluation: input.evaluation, evidence: input.evidence, now: input.now, tool: input.tool });
  const { generatedAt: _t, ...stable } = dossier;
  const digest = `sha256:${createHash('sha256').update(canonicalJson(stable)).digest('hex')}`;
  // Rendering and signing happen only when the file is to be written (its digest changed), not every reconcile.
  const data = (): Record<string, string> => {
    const out: Record<string, string> = { 'dossier.json': JSON.stringify(dossier), 'dossier.html': renderDossierHtml(dossier) };
    if (input.signingKey?.privateKey && subjectsOf(input.release).length > 0) {
      const version = input.tool.replace(/^cra-gate /, '');
      out['vsa.dsse.json'] = JSON.stringify(signInToto(input.signingKey, vsaStatement(dossier, input.release, { version, ...(input.policy ? { policyDigest: policyDigest(input.policy.spec) } : {}) })));
      out['dossier.dsse.json'] = JSON.stringify(signInToto(input.signingKey, dossierStatement(dossier, input.release)));
    }
    const size = Object.values(out).reduce((n, v) => n + Buffer.byteLength(v), 0);
    if (size > MAX_FILE_BYTES) delete out['dossier.html'];
    return out;
  };
  return { digest, data };
}
