/**
 * Signed decisions. The leader signs every decision it writes into a ProductRelease status as a DSSE
 * envelope (https://github.com/secure-systems-lab/dsse) whose payload binds the verdict to the release's
 * uid and generation and to a digest of the evidence-bearing check results. The admission webhook trusts a
 * decision only when the envelope verifies with the operator's key AND matches the object it reads, so
 * someone who can write the status subresource cannot get a workload admitted by writing `Approved`.
 *
 * Crypto: Ed25519 through node:crypto (deterministic signatures, so an unchanged decision re-signs to the
 * same bytes and does not cause a status write); the DSSE pre-authentication encoding from @sigstore/core.
 */
import { createHash, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { dsse } from '@sigstore/core';
import type { DecisionAttestation, ProductRelease, ProductReleaseStatus } from '../api/types.ts';
import { canonicalJson } from '../util/canonical.ts';

export const DECISION_PAYLOAD_TYPE = 'application/vnd.cra-gate.decision+json';
export const DECISION_STATEMENT_VERSION = 'cra-gate.dev/decision/v1';

/** What is signed. Every field is derived from the object and its status; nothing time-dependent. */
export interface DecisionStatement {
  apiVersion: typeof DECISION_STATEMENT_VERSION;
  release: { uid: string; namespace: string; name: string; generation: number };
  decision: string;
  reason: string;
  /** sha256 over the canonical check results (id, result, enforcement, reason, evidence digest). */
  evidenceDigest: string;
  /** Ids of the checks whose failure blocks the release. */
  failedChecks: string[];
  policy: { name: string; generation?: number } | null;
}

export interface DecisionKey {
  /** Present on the operator (signing); absent where only verification is needed. */
  privateKey?: KeyObject;
  publicKey: KeyObject;
  /** Hex SHA-256 of the public key's DER SubjectPublicKeyInfo. */
  keyid: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function decisionKey(privateKey: KeyObject | undefined, publicKey?: KeyObject): DecisionKey {
  const pub = publicKey ?? (privateKey ? createPublicKey(privateKey) : undefined);
  if (!pub) throw new Error('a decision key needs a public or a private key');
  if (pub.asymmetricKeyType !== 'ed25519') throw new Error(`decision keys are Ed25519, not ${pub.asymmetricKeyType}`);
  return { ...(privateKey ? { privateKey } : {}), publicKey: pub, keyid: keyIdOf(pub) };
}

/** Failing checks whose effective enforcement blocks the release (or that errored under Block). */
export function failedChecks(status: ProductReleaseStatus | undefined): string[] {
  return (status?.checks ?? [])
    .filter((c) => (c.result === 'Fail' || c.result === 'Error') && c.enforcement === 'Block')
    .map((c) => c.id)
    .sort();
}

export function evidenceDigest(status: ProductReleaseStatus | undefined): string {
  const checks = (status?.checks ?? [])
    .map((c) => ({ id: c.id, result: c.result, enforcement: c.enforcement, reason: c.reason, evidence: c.evidence }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return `sha256:${createHash('sha256').update(canonicalJson(checks)).digest('hex')}`;
}

export function statementFor(release: ProductRelease, status: ProductReleaseStatus): DecisionStatement {
  const approved = status.conditions?.find((c) => c.type === 'Approved');
  return {
    apiVersion: DECISION_STATEMENT_VERSION,
    release: {
      uid: release.metadata?.uid ?? '',
      namespace: release.metadata?.namespace ?? '',
      name: release.metadata?.name ?? '',
      generation: status.observedGeneration ?? release.metadata?.generation ?? 0,
    },
    decision: status.decision ?? 'Pending',
    reason: approved?.reason ?? '',
    evidenceDigest: evidenceDigest(status),
    failedChecks: failedChecks(status),
    policy: status.policy ? { name: status.policy.name, ...(status.policy.generation !== undefined ? { generation: status.policy.generation } : {}) } : null,
  };
}

export function signStatement(key: DecisionKey, statement: DecisionStatement): DecisionAttestation {
  if (!key.privateKey) throw new Error('the decision key has no private half');
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const sig = edSign(null, dsse.preAuthEncoding(DECISION_PAYLOAD_TYPE, payload), key.privateKey);
  return { payloadType: DECISION_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }] };
}

/** Signs the decision a status carries (the status must already hold observedGeneration, decision, checks). */
export function signDecision(key: DecisionKey, release: ProductRelease, status: ProductReleaseStatus): DecisionAttestation {
  return signStatement(key, statementFor(release, status));
}

const MAX_PAYLOAD = 64 * 1024;

/** The statement of an envelope that verifies with one of `keys`; undefined otherwise (never throws). */
export function verifyEnvelope(env: unknown, keys: readonly DecisionKey[]): DecisionStatement | undefined {
  if (!env || typeof env !== 'object') return undefined;
  const e = env as Partial<DecisionAttestation>;
  if (e.payloadType !== DECISION_PAYLOAD_TYPE || typeof e.payload !== 'string' || e.payload.length > MAX_PAYLOAD * 2) return undefined;
  if (!Array.isArray(e.signatures) || e.signatures.length === 0 || e.signatures.length > 4) return undefined;
  const payload = Buffer.from(e.payload, 'base64');
  if (payload.length === 0 || payload.length > MAX_PAYLOAD) return undefined;
  const pae = dsse.preAuthEncoding(DECISION_PAYLOAD_TYPE, payload);
  const ok = e.signatures.some((s) => {
    if (!s || typeof s.sig !== 'string') return false;
    const candidates = s.keyid ? keys.filter((k) => k.keyid === s.keyid) : keys;
    const sig = Buffer.from(s.sig, 'base64');
    return candidates.some((k) => {
      try {
        return edVerify(null, pae, k.publicKey, sig);
      } catch {
        return false;
      }
    });
  });
  if (!ok) return undefined;
  try {
    const st = JSON.parse(payload.toString('utf8')) as DecisionStatement;
    if (st?.apiVersion !== DECISION_STATEMENT_VERSION || !st.release || typeof st.decision !== 'string') return undefined;
    return st;
  } catch {
    return undefined;
  }
}

/** The trusted state of a release as the webhook sees it. */
export type TrustedState =
  | { state: 'Approved'; statement: DecisionStatement }
  | { state: 'Blocked'; statement: DecisionStatement }
  /** No decision yet for the current generation (new, re-evaluating, or status wiped). */
  | { state: 'Pending'; why: string }
  /** The status claims a decision that no valid signature backs: tampered or forged. */
  | { state: 'Unverified'; why: string };

/**
 * What the webhook may believe about a release. Approved only when a verifying envelope says Approved for this
 * uid and the object's current generation, and the status agrees with it; a verified Blocked is Blocked; a
 * status that claims a verdict the envelope does not back is Unverified (treated as Blocked).
 */
export function trustedDecision(release: ProductRelease, keys: readonly DecisionKey[]): TrustedState {
  const status = release.status;
  const claimed = status?.decision;
  const env = status?.attestation;
  if (!env) {
    if (claimed === 'Approved' || claimed === 'Blocked') return { state: 'Unverified', why: `status says ${claimed} but carries no signed decision` };
    return { state: 'Pending', why: claimed ? `decision is ${claimed}` : 'not evaluated yet' };
  }
  const st = verifyEnvelope(env, keys);
  if (!st) return { state: 'Unverified', why: 'the signed decision does not verify with the operator key' };
  const uid = release.metadata?.uid ?? '';
  if (st.release.uid !== uid || st.release.namespace !== (release.metadata?.namespace ?? '') || st.release.name !== (release.metadata?.name ?? '')) {
    return { state: 'Unverified', why: 'the signed decision belongs to another object' };
  }
  if (claimed !== st.decision) return { state: 'Unverified', why: `status says ${claimed ?? 'nothing'} but the signed decision says ${st.decision}` };
  if (status?.observedGeneration !== st.release.generation) return { state: 'Unverified', why: 'observedGeneration differs from the signed decision' };
  if (evidenceDigest(status) !== st.evidenceDigest) return { state: 'Unverified', why: 'status.checks differ from the signed decision' };
  if (st.release.generation !== release.metadata?.generation) {
    return { state: 'Pending', why: `generation ${release.metadata?.generation ?? '?'} is not evaluated yet (signed decision is for ${st.release.generation})` };
  }
  if (st.decision === 'Approved') return { state: 'Approved', statement: st };
  if (st.decision === 'Blocked') return { state: 'Blocked', statement: st };
  return { state: 'Pending', why: `decision is ${st.decision}` };
}
