/** Image artifacts: signatures (legacy and bundles), SBOM attestations and attached/referrer SBOMs of one image. */
import { craError, errorMessage } from '../../errors.ts';
import type { SbomAnalysis } from '../../sbom/analyze.ts';
import type { SbomEvidence } from '../../sbom/evidence.ts';
import { dssePayload, parseBundle, verifyBundle, verifyDsseEnvelope, verifyPayloadSignature } from '../../sigstore/verify.ts';
import type { TrustPolicy, Verdict } from '../../sigstore/verify.ts';
import type { Rejection, SignatureEvidence, SignerSeen } from '../../types/evidence.ts';
import type { RegistryClient } from '../oci/client.ts';
import { discover } from '../oci/discover.ts';
import { formatReference, parseImageReference } from '../oci/reference.ts';
import { COSIGN_SIGN_PREDICATE, inTotoStatement, isSbomPredicate, simpleSigningDigest } from './in-toto.ts';
import type { Statement } from './in-toto.ts';
import { rejection } from './trust.ts';

/** SBOM bytes to analysis; the collector passes the policy's limits through the shared analysis path. */
export type AnalyseSbom = (bytes: Buffer) => Promise<SbomAnalysis>;

export interface ImageResult {
  readonly evidence: SignatureEvidence;
  readonly sboms: SbomEvidence[];
}

/** Verifies one image: signatures (legacy and bundles), attestations (SBOMs), attached/referrer SBOMs. */
export async function verifyImage(client: RegistryClient, artifact: string, image: string, trust: TrustPolicy, analyse: AnalyseSbom): Promise<ImageResult> {
  const ref = parseImageReference(image);
  const subject = formatReference(ref);
  const digest = await client.resolve(ref);
  if (!digest) throw craError('ImageNotFound', `${subject} does not exist in the registry`);
  // The image manifest itself: it must exist and match its digest (a tampered manifest is caught here).
  const manifest = await client.manifest({ registry: ref.registry, repository: ref.repository, digest });
  if (!manifest) throw craError('ImageNotFound', `${subject} does not exist in the registry`);
  const found = await discover(client, ref.registry, ref.repository, digest);
  const verified: SignerSeen[] = [];
  const rejected: Rejection[] = [];
  const rejectedAttestations: Rejection[] = [];
  const attested: SignerSeen[] = [];
  const sboms: SbomEvidence[] = [];

  const noteSignature = (v: Verdict, signedDigests: string[], source: string) => {
    if (!v.ok) return rejected.push(rejection(v, source));
    if (!signedDigests.includes(digest)) {
      return rejected.push({ signer: v.signer, reason: 'SignedDigestMismatch', source, message: `a valid signature, but over ${signedDigests[0]?.slice(0, 19) ?? 'no digest'}…, not ${digest.slice(0, 19)}…` });
    }
    verified.push({ signer: v.signer, kind: v.kind, source, ...(v.signedAt ? { signedAt: v.signedAt } : {}) });
  };
  const noteAttestation = async (v: Verdict, st: Statement | undefined, source: string) => {
    if (!st) return;
    if (st.predicateType === COSIGN_SIGN_PREDICATE) return noteSignature(v, st.subjectDigests, source);
    if (!isSbomPredicate(st.predicateType)) return;
    if (!v.ok) return rejectedAttestations.push(rejection(v, source));
    if (!st.subjectDigests.includes(digest)) {
      return rejectedAttestations.push({ signer: v.signer, reason: 'SignedDigestMismatch', source, message: `attestation subject is not ${digest.slice(0, 19)}…` });
    }
    const pred = typeof st.predicate === 'string' ? st.predicate : JSON.stringify(st.predicate ?? null);
    if (v.signedAt) attested.push({ signer: v.signer, kind: v.kind, source, signedAt: v.signedAt });
    sboms.push({ artifact, source: `attestation ${st.predicateType} signed by ${v.signer} (${source})`, boundDigest: digest, analysis: await analyse(Buffer.from(pred, 'utf8')) });
  };

  for (const s of found.signatures) {
    if (s.certificate) {
      rejected.push({ signer: 'a certificate', reason: 'UntrustedSigner', source: s.source, message: 'legacy keyless signatures (certificate annotation without a bundle) are not supported; sign with a Sigstore bundle' });
      continue;
    }
    noteSignature(verifyPayloadSignature(s.payload, s.signature, trust), [simpleSigningDigest(s.payload) ?? ''], s.source);
  }
  for (const b of found.bundles) {
    let bundle;
    try {
      bundle = parseBundle(b.json, b.source);
    } catch (err) {
      rejected.push({ signer: 'unknown', reason: 'SignatureInvalid', source: b.source, message: errorMessage(err, 160) });
      continue;
    }
    const dsse = dssePayload(bundle);
    if (dsse) {
      await noteAttestation(verifyBundle(bundle, undefined, trust), inTotoStatement(dsse.payloadType, dsse.payload), b.source);
    } else {
      // A message signature over this image's manifest bytes.
      noteSignature(verifyBundle(bundle, manifest.bytes, trust), [digest], b.source);
    }
  }
  for (const e of found.envelopes) {
    const payload = dssePayload(e.json as { payload?: unknown; payloadType?: unknown });
    await noteAttestation(verifyDsseEnvelope(e.json, trust, e.source), payload ? inTotoStatement(payload.payloadType, payload.payload) : undefined, e.source);
  }
  // Attached artifacts whose manifest names another subject (e.g. a signed SBOM of an older image) never count.
  for (const f of found.foreign) {
    rejectedAttestations.push({
      signer: 'not checked',
      reason: 'SignedDigestMismatch',
      source: f.source,
      message: f.subject ? `attached to ${f.subject.slice(0, 19)}…, not to ${digest.slice(0, 19)}… (manifest subject); not counted` : `its manifest has no subject naming ${digest.slice(0, 19)}…; not counted`,
    });
  }
  // Attached / referrer SBOMs count only when their own manifest carries a trusted signature.
  for (const s of found.sboms) {
    const signers = await signaturesOf(client, ref.registry, ref.repository, s.manifestDigest, trust);
    if (signers.length === 0) {
      rejectedAttestations.push({ signer: 'none', reason: 'UntrustedSigner', source: s.source, message: 'attached SBOM is not signed by a trusted signer; not counted' });
      continue;
    }
    sboms.push({ artifact, source: `attached SBOM signed by ${signers[0]!.signer} (${s.source})`, boundDigest: digest, analysis: await analyse(s.bytes) });
  }
  return { evidence: { artifact, subject, digest, verified, rejected, rejectedAttestations, ...(attested.length > 0 ? { attested } : {}) }, sboms };
}

/** Trusted signers of an arbitrary manifest digest (used for attached SBOMs). */
async function signaturesOf(client: RegistryClient, registry: string, repository: string, digest: string, trust: TrustPolicy): Promise<SignerSeen[]> {
  const found = await discover(client, registry, repository, digest);
  const out: SignerSeen[] = [];
  for (const s of found.signatures) {
    const v = verifyPayloadSignature(s.payload, s.signature, trust);
    if (v.ok && simpleSigningDigest(s.payload) === digest) out.push({ signer: v.signer, kind: v.kind, source: s.source });
  }
  for (const b of found.bundles) {
    try {
      const bundle = parseBundle(b.json, b.source);
      const dsse = dssePayload(bundle);
      const st = dsse ? inTotoStatement(dsse.payloadType, dsse.payload) : undefined;
      if (!st || st.predicateType !== COSIGN_SIGN_PREDICATE || !st.subjectDigests.includes(digest)) continue;
      const v = verifyBundle(bundle, undefined, trust);
      if (v.ok) out.push({ signer: v.signer, kind: v.kind, source: b.source });
    } catch {
      // not a bundle: ignored (it verifies nothing)
    }
  }
  return out;
}
