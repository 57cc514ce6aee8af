/**
 * signature.valid — Annex I Part I(2)(f) (integrity of what is shipped) and Part II(7) (secure distribution of
 * updates): every artifact carries a valid signature from a key or keyless identity the policy trusts
 * (`ReleasePolicy.spec.signing`), covering exactly the artifact's digest. Evidence comes from
 * ../evidence/signatures.ts (verified in-process with Sigstore's libraries); this check only judges it.
 */
import type { Reason } from '../errors.ts';
import type { SignatureEvidence } from '../types/evidence.ts';
import { errorOutcome, fail, pass } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome, Finding } from './types.ts';

function clip(s: string, n = 300): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Failure precedence: the most specific violation found across artifacts wins the reason. */
const ORDER: readonly Reason[] = ['SignedDigestMismatch', 'SignatureInvalid', 'UntrustedSigner', 'SignatureMissing'];

export const signatureValid: CheckDefinition = {
  id: 'signature.valid',
  title: 'Every artifact is signed by a trusted signer',
  cra: ['Annex I Part I(2)(f)', 'Annex I Part II(7)'],
  standards: ['Sigstore bundle v0.1–v0.3', 'cosign signature and attestation specifications', 'OCI distribution 1.1 referrers'],
  reads: 'spec.artifacts, signatures and Sigstore bundles from the registry (or beside url artifacts), ReleasePolicy.spec.signing',
  passRule: 'every artifact has at least one signature that verifies under a trusted key or keyless identity and covers its digest',
  fix: 'Sign each artifact (cosign sign --key … / keyless) with a signer listed in the policy\'s spec.signing, for the exact digest released; for files publish <url>.sigstore.json.',
  inForceFrom: '2027-12-11',
  run(ctx: CheckContext): CheckOutcome {
    const artifacts = ctx.release.spec.artifacts ?? [];
    if (artifacts.length === 0) {
      return fail('SignatureMissing', 'the release declares no artifacts (spec.artifacts), so nothing is signed', { findings: [{ pointer: '/spec/artifacts', message: 'no artifacts' }] });
    }
    const cfgErr = ctx.evidence.signingConfigError;
    if (cfgErr) return errorOutcome(cfgErr.reason, clip(`signing configuration: ${cfgErr.message}`));
    const signing = ctx.evidence.signatures;
    if (!signing) return errorOutcome('EvidenceUnavailable', 'signature evidence was not collected');
    const byName = new Map<string, SignatureEvidence>(signing.map((s) => [s.artifact, s]));
    const findings: (Finding & { reason: Reason })[] = [];
    const errors: SignatureEvidence[] = [];
    const signers = new Set<string>();
    artifacts.forEach((a, i) => {
      const pointer = `/spec/artifacts/${i}`;
      const ev = byName.get(a.name);
      if (!ev) return findings.push({ reason: 'SignatureMissing', pointer, message: `${a.name}: no signature evidence` });
      if (ev.error) return errors.push(ev);
      if (ev.verified.length > 0) {
        for (const v of ev.verified) signers.add(v.signer);
        return;
      }
      const r = [...ev.rejected].sort((x, y) => ORDER.indexOf(x.reason) - ORDER.indexOf(y.reason))[0];
      if (!r) return findings.push({ reason: 'SignatureMissing', pointer, message: `${a.name} (${ev.subject}) is not signed` });
      findings.push({ reason: r.reason, pointer, message: clip(`${a.name} (${ev.subject}): signer ${r.signer}: ${r.message}`, 240) });
    });
    if (findings.length > 0) {
      const first = [...findings].sort((x, y) => ORDER.indexOf(x.reason) - ORDER.indexOf(y.reason))[0]!;
      const more = findings.length > 1 ? ` (+${findings.length - 1} more)` : '';
      return fail(first.reason, clip(`${first.message}${more}`), { findings: findings.map(({ pointer, message }) => ({ pointer, message })) });
    }
    if (errors.length > 0) {
      const e = errors[0]!;
      return errorOutcome(e.error!.reason, clip(`${e.artifact} (${e.subject}): ${e.error!.message}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`));
    }
    const digests = signing.map((s) => s.digest).filter(Boolean);
    return pass(clip(`all ${artifacts.length} artifact(s) signed by trusted signers: ${[...signers].join(', ')}`), digests.length === 1 ? { evidence: digests[0]! } : {});
  },
};
