/** URL artifacts: `<url>.sigstore.json` or `<url>.sig` published beside the file, verified over its bytes. */
import { createHash } from 'node:crypto';
import { craError, isCraGateError } from '../../errors.ts';
import { dssePayload, parseBundle, verifyBundle, verifyPayloadSignature } from '../../sigstore/verify.ts';
import type { TrustPolicy } from '../../sigstore/verify.ts';
import type { Rejection, SignatureEvidence, SignerSeen } from '../../types/evidence.ts';
import { fetchBytes } from '../https.ts';
import type { FetchOptions } from '../https.ts';
import { COSIGN_SIGN_PREDICATE, inTotoStatement, URL_SIGNATURE_PREDICATES } from './in-toto.ts';
import { rejection } from './trust.ts';

function hexDigest(bytes: Buffer, alg: string): string {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

function is404(err: unknown): boolean {
  return isCraGateError(err) && /HTTP 404\b/.test(err.message);
}

/** A url artifact: `<url>.sigstore.json` (Sigstore bundle) or `<url>.sig` (cosign sign-blob), verified over the file. */
export async function verifyUrlArtifact(artifact: string, url: string, declaredDigest: string, trust: TrustPolicy, fetchOptions: FetchOptions): Promise<SignatureEvidence> {
  const alg = declaredDigest.split(':')[0] ?? 'sha256';
  const file = await fetchBytes(url, fetchOptions);
  const actual = hexDigest(file.bytes, alg);
  if (actual !== declaredDigest) throw craError('RegistryContentInvalid', `${url} does not have the declared digest ${declaredDigest.slice(0, 19)}… (got ${actual.slice(0, 19)}…)`);
  const sha256 = hexDigest(file.bytes, 'sha256');
  const verified: SignerSeen[] = [];
  const rejected: Rejection[] = [];
  const small = { ...fetchOptions, maxBytes: 4 * 1024 * 1024 };
  let found = false;
  try {
    const b = await fetchBytes(`${url}.sigstore.json`, small);
    found = true;
    const source = `${url}.sigstore.json`;
    let json: unknown;
    try {
      json = JSON.parse(b.bytes.toString('utf8'));
    } catch {
      throw craError('RegistryContentInvalid', `${source} is not JSON`);
    }
    const bundle = parseBundle(json, source);
    const dsse = dssePayload(bundle);
    const v = verifyBundle(bundle, file.bytes, trust);
    const st = dsse ? inTotoStatement(dsse.payloadType, dsse.payload) : undefined;
    // What counts as a signature of the file (docs/signing.md): a message signature over its bytes (what
    // `cosign sign-blob --bundle` writes; the verifier checks its SHA-256 digest against the file), or a DSSE
    // statement of cosign's signing predicate (URL_SIGNATURE_PREDICATES) whose subject is the file's SHA-256.
    // Any other in-toto predicate (a scan result, provenance, `cosign attest-blob --type …`) is an attestation
    // about the file, not a signature of it, whatever it says.
    const notSignature = dsse && (!st || !URL_SIGNATURE_PREDICATES.has(st.predicateType));
    const signed = dsse ? (st?.subjectDigests ?? []) : [sha256];
    if (!v.ok) rejected.push(rejection(v, source));
    else if (notSignature) {
      const what = st ? `an in-toto attestation with predicate ${st.predicateType.slice(0, 100)}` : `a DSSE envelope of type ${dsse.payloadType.slice(0, 60)}`;
      rejected.push({ signer: v.signer, reason: 'SignatureInvalid', source, message: `${what}, not a signature: only a message signature or the predicate ${COSIGN_SIGN_PREDICATE} counts` });
    } else if (!signed.includes(sha256) && !signed.includes(declaredDigest)) rejected.push({ signer: v.signer, reason: 'SignedDigestMismatch', source, message: 'the bundle does not cover this file' });
    else verified.push({ signer: v.signer, kind: v.kind, source, ...(v.signedAt ? { signedAt: v.signedAt } : {}) });
  } catch (err) {
    if (!is404(err)) throw err;
  }
  if (verified.length === 0) {
    try {
      const s = await fetchBytes(`${url}.sig`, { ...small, maxBytes: 64 * 1024 });
      found = true;
      const v = verifyPayloadSignature(file.bytes, Buffer.from(s.bytes.toString('utf8').trim(), 'base64'), trust);
      if (v.ok) verified.push({ signer: v.signer, kind: v.kind, source: `${url}.sig` });
      else rejected.push(rejection(v, `${url}.sig`));
    } catch (err) {
      if (!is404(err)) throw err;
    }
  }
  void found;
  return { artifact, subject: url, digest: declaredDigest, verified, rejected, rejectedAttestations: [] };
}
