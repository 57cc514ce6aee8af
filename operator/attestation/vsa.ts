/**
 * The verdict and the CRA file as signed in-toto statements (https://in-toto.io/Statement/v1), for whoever
 * consumes the release downstream:
 * - a SLSA Verification Summary Attestation (predicate https://slsa.dev/verification_summary/v1): cra-gate
 *   (the verifier) verified the release's artifacts against a ReleasePolicy, with the result PASSED (Approved) or
 *   FAILED (Blocked); `verifiedLevels` carries the custom level `CRA_GATE_APPROVED` (custom values must not start
 *   with SLSA_), and `policy` names the ReleasePolicy by name, generation and digest;
 * - the dossier itself (predicate https://cra-gate.dev/dossier/v1).
 * Subjects are the release's artifacts with their digests. Each statement is wrapped in a DSSE envelope (payload
 * type application/vnd.in-toto+json) signed with the operator's Ed25519 decision key, so
 * `cosign verify-attestation --key <published key> --type <predicate type>` verifies them once attached to an
 * image (`cosign attach attestation`). Pure except for the signature.
 */
import { sign as edSign } from 'node:crypto';
import { dsse } from '@sigstore/core';
import type { ProductRelease } from '../api/types.ts';
import type { Dossier } from '../dossier/model.ts';
import { canonicalJson } from '../util/canonical.ts';
import { createHash } from 'node:crypto';
import type { DecisionKey } from './decision.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
export const DOSSIER_PREDICATE_TYPE = 'https://cra-gate.dev/dossier/v1';
export const VERIFIER_ID = 'https://cra-gate.dev/operator';

export interface Subject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

export interface InTotoStatement<P> {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate: P;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly { keyid: string; sig: string }[];
}

/** The release's artifacts as in-toto subjects: `algorithm:hex` digests, images by repository. */
export function subjectsOf(release: ProductRelease): Subject[] {
  const out: Subject[] = [];
  for (const a of release.spec.artifacts ?? []) {
    const ref = a.image ?? a.url ?? a.name;
    const digest = a.digest ?? (a.image?.includes('@') ? a.image.slice(a.image.indexOf('@') + 1) : undefined);
    const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(digest ?? '');
    if (!m) continue;
    const name = a.image ? ref.replace(/@.*$/, '').replace(/:[^/:]+$/, '') : ref;
    out.push({ name, digest: { [m[1]!]: m[2]! } });
  }
  return out;
}

export interface VsaPredicate {
  readonly verifier: { readonly id: string; readonly version: Readonly<Record<string, string>> };
  readonly timeVerified: string;
  readonly resourceUri: string;
  readonly policy: { readonly uri: string; readonly digest?: Readonly<Record<string, string>> };
  readonly verificationResult: 'PASSED' | 'FAILED';
  readonly verifiedLevels: readonly string[];
}

export function vsaStatement(dossier: Dossier, release: ProductRelease, opts: { version: string; policyDigest?: string }): InTotoStatement<VsaPredicate> {
  const passed = dossier.verdict.decision === 'Approved';
  const r = dossier.release;
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: subjectsOf(release),
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: VERIFIER_ID, version: { 'cra-gate': opts.version } },
      timeVerified: dossier.generatedAt,
      resourceUri: `cra-gate.dev/productreleases/${r.namespace}/${r.name}${r.uid ? `?uid=${r.uid}` : ''}`,
      policy: {
        uri: `cra-gate.dev/releasepolicies/${dossier.verdict.policy ?? 'unknown'}${dossier.verdict.policyGeneration !== undefined ? `?generation=${dossier.verdict.policyGeneration}` : ''}`,
        ...(opts.policyDigest ? { digest: { sha256: opts.policyDigest } } : {}),
      },
      verificationResult: passed ? 'PASSED' : 'FAILED',
      verifiedLevels: passed ? ['CRA_GATE_APPROVED'] : ['FAILED'],
    },
  };
}

export function dossierStatement(dossier: Dossier, release: ProductRelease): InTotoStatement<Dossier> {
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: subjectsOf(release), predicateType: DOSSIER_PREDICATE_TYPE, predicate: dossier };
}

/** sha256 (hex) of a policy's canonical JSON spec: what the VSA's policy digest names. */
export function policyDigest(spec: unknown): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

export function signInToto(key: DecisionKey, statement: InTotoStatement<unknown>): DsseEnvelope {
  if (!key.privateKey) throw new Error('signing needs the private decision key');
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = edSign(null, dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), key.privateKey);
  return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }] };
}
