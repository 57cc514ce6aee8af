/**
 * artifact.hash-matches-sbom — BSI TR-03183-2 §5.2.2 (hash of the deployable component): the digest the
 * release declares for each artifact (spec.artifacts[].digest, or the image's @sha256:) equals the hash the
 * artifact's SBOM gives its primary component. Missing data on either side is a Fail, never a Pass.
 *
 * For images the binding may also live outside the document: an SBOM from a verified attestation (its in-toto
 * subject) or a trusted signed attached SBOM (its manifest subject) carries `boundDigest`, the image digest the
 * registry collector checked the signature's subject against. That digest must equal the declared one; an SBOM
 * without such a binding still needs the hash in its primary component.
 */
import type { Reason } from '../errors.ts';
import type { SbomAnalysisOk } from '../sbom/analyze.ts';
import { artifactDigest, digests, primaryHashes, registrySbomsUnknown } from './sbom.ts';
import { notAssessed } from '../sbom/evidence.ts';
import { errorOutcome, fail, pass } from './types.ts';
import type { CheckDefinition, Finding } from './types.ts';

export const artifactHashMatchesSbom: CheckDefinition = {
  id: 'artifact.hash-matches-sbom',
  title: 'The artifact digest equals the hash in its SBOM',
  // Guidance: the TR asks for the deployable component's hash (§5.2.2); the CRA text asks for no hash.
  cra: [],
  standards: ['BSI TR-03183-2 v2.1.0 §5.2.2'],
  concretises: ['Annex I Part II(1)'],
  reads: 'spec.artifacts[].digest / image digest, the SBOM\'s primary component hashes or (images) the subject of its verified attestation',
  passRule:
    'for every artifact, each SBOM describing it gives its primary component a hash of the same algorithm equal to the artifact\'s digest, or (images) is a verified attestation or signed attached SBOM whose subject is that digest',
  fix: 'Declare the artifact digest (sha512: preferred) and generate the SBOM from the shipped bytes so its primary component carries the same hash; for an image, attach the SBOM as a signed attestation of its digest (cosign attest --type cyclonedx).',
  inForceFrom: '2027-12-11',
  run(ctx) {
    const artifacts = ctx.release.spec.artifacts ?? [];
    if (artifacts.length === 0) {
      return fail('ArtifactHashUnavailable', 'the release declares no artifacts to compare', { findings: [{ pointer: '/spec/artifacts', message: 'no artifacts' }] });
    }
    const list = ctx.evidence.sboms;
    if (list === undefined && (ctx.release.spec.sboms ?? []).length > 0) return errorOutcome('EvidenceUnavailable', 'SBOM evidence was not collected');
    const problems: { reason: Reason; f: Finding }[] = [];
    let compared = 0;
    let bound = 0;
    for (const [i, a] of artifacts.entries()) {
      const pointer = `/spec/artifacts/${i}`;
      const d = artifactDigest(a);
      if (!d) {
        problems.push({ reason: 'ArtifactHashUnavailable', f: { pointer: `${pointer}/digest`, message: `artifact ${a.name} declares no digest` } });
        continue;
      }
      const mine = (list ?? []).filter((e) => e.artifact === a.name);
      const unavailable = mine.find((e) => notAssessed(e.analysis));
      if (unavailable) {
        const u = unavailable.analysis as { reason: Reason; message: string };
        return { result: 'Error', reason: u.reason, message: `SBOM of ${a.name} (${unavailable.source}) could not be read: ${u.message}`.slice(0, 300) };
      }
      const usable = mine.filter((e) => e.analysis.ok);
      const notRead = mine.length === 0 ? registrySbomsUnknown(ctx, a.name) : undefined;
      if (notRead) return errorOutcome('EvidenceUnavailable', notRead.slice(0, 300));
      if (usable.length === 0) {
        problems.push({ reason: 'ArtifactHashUnavailable', f: { pointer, message: `artifact ${a.name} has no usable SBOM to compare its digest with` } });
        continue;
      }
      for (const e of usable) {
        if (e.boundDigest !== undefined) {
          // Signed outside the document: the attestation's subject (checked by the collector against the resolved
          // image) must be the digest this release declares.
          compared++;
          if (e.boundDigest.toLowerCase() === `${d.alg}:${d.hex}`) bound++;
          else {
            problems.push({
              reason: 'ArtifactHashMismatch',
              f: { pointer: `${pointer}/image`, message: `artifact ${a.name}: the SBOM (${e.source}) is bound to ${e.boundDigest.slice(0, 19)}…, not ${d.alg}:${d.hex.slice(0, 12)}…` },
            });
          }
          continue;
        }
        const model = (e.analysis as SbomAnalysisOk).model;
        const primary = model.components.find((c) => c.primary);
        if (!primary) {
          problems.push({ reason: 'ArtifactHashUnavailable', f: { pointer, message: `artifact ${a.name}: the SBOM (${e.source}) has no primary component` } });
          continue;
        }
        const same = primaryHashes(primary).filter((h) => h.alg === d.alg);
        if (same.length === 0) {
          problems.push({
            reason: 'ArtifactHashUnavailable',
            f: { pointer: primary.pointer, message: `artifact ${a.name}: the SBOM's primary component carries no ${d.alg} hash to compare with ${d.alg}:${d.hex.slice(0, 12)}…` },
          });
          continue;
        }
        compared++;
        const bad = same.find((h) => h.hex !== d.hex);
        if (bad) {
          problems.push({
            reason: 'ArtifactHashMismatch',
            f: { pointer: bad.pointer, message: `artifact ${a.name}: digest ${d.alg}:${d.hex.slice(0, 12)}… differs from the SBOM's ${bad.alg}:${bad.hex.slice(0, 12)}…` },
          });
        }
      }
    }
    const evidence = list ? digests(list) : undefined;
    if (problems.length === 0) {
      const how = bound === 0 ? '' : bound === compared ? ' (bound by the signed attestation subject)' : ` (${bound} bound by the signed attestation subject)`;
      return pass(`${compared} artifact digest(s) equal the SBOM hashes${how}`, evidence ? { evidence } : {});
    }
    const mismatch = problems.find((p) => p.reason === 'ArtifactHashMismatch');
    const head = mismatch ?? problems[0]!;
    const msg = [head.f.message, ...problems.filter((p) => p !== head).slice(0, 2).map((p) => p.f.message)].join('; ') + (problems.length > 3 ? `; +${problems.length - 3} more` : '');
    return fail(head.reason, msg.slice(0, 300), { findings: problems.map((p) => ({ ...p.f, count: 1 })), ...(evidence ? { evidence } : {}) });
  },
};
