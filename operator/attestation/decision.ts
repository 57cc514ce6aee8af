/**
 * Signed decisions. The leader signs every decision it writes into a ProductRelease status as a DSSE
 * envelope (https://github.com/secure-systems-lab/dsse) whose payload binds the verdict to the release's
 * uid and generation and to a digest of the evidence-bearing check results. The admission webhook trusts a
 * decision only when the envelope verifies with the operator's key AND matches the object it reads, so
 * someone who can write the status subresource cannot get a workload admitted by writing `Approved`.
 *
 * Replay (issue 14): the statement also binds the policy generation it was decided under, a strictly
 * increasing evaluation sequence (status.evaluationSequence) and an expiry (notAfter). The webhook believes
 * only the newest sequence it has seen per release uid (a bounded high-water mark, ../webhook/gate.ts), nothing
 * expired, and nothing decided under another generation of the policy than the current one, so an older
 * signed Approved written back through the status subresource admits nothing.
 *
 * Crypto: Ed25519 through node:crypto; the DSSE pre-authentication encoding from @sigstore/core. A status is
 * re-signed (new sequence, new expiry) only when it is written anyway or its signature nears expiry.
 */
import { createHash, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { dsse } from '@sigstore/core';
import type { DecisionAttestation, ProductRelease, ProductReleaseStatus } from '../api/types.ts';
import { canonicalJson } from '../util/canonical.ts';
import type { SequenceHighWater } from './high-water.ts';

export const DECISION_PAYLOAD_TYPE = 'application/vnd.cra-gate.decision+json';
export const DECISION_STATEMENT_VERSION = 'cra-gate.dev/decision/v2';

/** What is signed: derived from the object and its status, plus the sequence and expiry of this signing. */
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
  /** = status.evaluationSequence: strictly increasing per object. */
  sequence: number;
  /** RFC 3339; after it the decision is not believed (the leader re-signs well before). */
  notAfter: string;
}

/** Margin added to the re-evaluation interval for a signed decision's lifetime. */
export const DECISION_VALIDITY_MARGIN_MS = 15 * 60_000;

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

export function statementFor(release: ProductRelease, status: ProductReleaseStatus, notAfter: Date | string = new Date(0)): DecisionStatement {
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
    sequence: status.evaluationSequence ?? 0,
    notAfter: typeof notAfter === 'string' ? notAfter : notAfter.toISOString(),
  };
}

export function signStatement(key: DecisionKey, statement: DecisionStatement): DecisionAttestation {
  if (!key.privateKey) throw new Error('the decision key has no private half');
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const sig = edSign(null, dsse.preAuthEncoding(DECISION_PAYLOAD_TYPE, payload), key.privateKey);
  return { payloadType: DECISION_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }] };
}

/**
 * Signs the decision a status carries (the status must already hold observedGeneration, decision, checks and
 * evaluationSequence), valid until `notAfter`.
 */
export function signDecision(key: DecisionKey, release: ProductRelease, status: ProductReleaseStatus, notAfter: Date | string): DecisionAttestation {
  return signStatement(key, statementFor(release, status, notAfter));
}

/** How long a decision signed now stays valid: until the next re-evaluation, plus a margin. */
export function decisionValidityMs(requeueAfterMs: number): number {
  return Math.max(0, requeueAfterMs) + DECISION_VALIDITY_MARGIN_MS;
}

const comparableStatement = (st: DecisionStatement): string => canonicalJson({ ...st, sequence: 0, notAfter: '' });

/**
 * Whether the signature `previous` carries still stands for the status about to be (re)written as `next`: it
 * verifies with the current key, says the same as `next` would (sequence and expiry aside), matches
 * previous.evaluationSequence and has at least half of its lifetime left. Without a key: no signature expected.
 * `sealed`: the sequences this process signed, per release uid (the controller's; see sealStatus).
 */
export function signatureCurrent(
  key: DecisionKey | undefined,
  release: ProductRelease,
  previous: ProductReleaseStatus | undefined,
  next: ProductReleaseStatus,
  now: Date,
  validityMs: number,
  sealed: SequenceHighWater,
): boolean {
  if (!key) return previous?.attestation === undefined;
  const st = verifyEnvelope(previous?.attestation, [key]);
  if (!st || st.sequence !== previous?.evaluationSequence) return false;
  // An older decision of ours written back (replayed): re-sign, so the newest sequence is the status again.
  if (st.sequence < (sealed.get(st.release.uid) ?? 0)) return false;
  if (comparableStatement(st) !== comparableStatement(statementFor(release, next))) return false;
  return Date.parse(st.notAfter) - now.getTime() >= validityMs / 2;
}

/**
 * Prepares `next` for writing: the next evaluation sequence — above the sequence of the newest decision of ours
 * the previous status carries and at least the clock in ms, so it also exceeds what an earlier leader signed
 * when an older decision was written back meanwhile — and, with a key, the signed decision valid for
 * `validityMs`. `sealed` records the sequences this process signed, per release uid: owned by the controller (one
 * per process, passed in — no module state), it raises the next sequence above any it signed before.
 */
export function sealStatus(
  key: DecisionKey | undefined,
  release: ProductRelease,
  previous: ProductReleaseStatus | undefined,
  next: ProductReleaseStatus,
  now: Date,
  validityMs: number,
  sealed: SequenceHighWater,
): void {
  const verified = key ? verifyEnvelope(previous?.attestation, [key]) : undefined;
  const uid = release.metadata?.uid ?? '';
  const prevSeq = Math.max(verified?.sequence ?? 0, sealed.get(uid) ?? 0);
  next.evaluationSequence = Math.max(prevSeq + 1, now.getTime());
  sealed.observe(uid, next.evaluationSequence);
  if (key) next.attestation = signDecision(key, release, next, new Date(now.getTime() + validityMs));
  else delete next.attestation;
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
    if (!Number.isSafeInteger(st.sequence) || st.sequence < 0 || typeof st.notAfter !== 'string' || !Number.isFinite(Date.parse(st.notAfter))) return undefined;
    return st;
  } catch {
    return undefined;
  }
}

/** The trusted state of a release as the webhook sees it. */
export type TrustedState =
  | { state: 'Approved'; statement: DecisionStatement }
  | { state: 'Blocked'; statement: DecisionStatement }
  /** No decision believed yet: new, re-evaluating, status wiped, decision expired, or the policy changed since. */
  | { state: 'Pending'; why: string }
  /** The status claims a decision that no valid signature backs, or an older signed one replayed: tampered. */
  | { state: 'Unverified'; why: string };

/** What else the verdict depends on besides the object: the clock, the policies, what was seen before. */
export interface TrustContext {
  now: Date;
  /** metadata.generation of a ReleasePolicy now; undefined when it does not exist. */
  policyGeneration(name: string): number | undefined;
  /** The highest evaluation sequence verified so far for a release uid (the webhook's high-water mark). */
  newestSequence?(uid: string): number | undefined;
}

/**
 * What the webhook may believe about a release. Approved only when a verifying envelope says Approved for this
 * uid and the object's current generation, is not expired, was decided under the policy's current generation,
 * carries the newest sequence seen for the uid, and the status agrees with it; a verified Blocked is Blocked; a
 * status that claims a verdict the envelope does not back, or an older signed decision, is Unverified (treated
 * as Blocked). `verify` may be a cached verifyEnvelope.
 */
export function trustedDecision(
  release: ProductRelease,
  keys: readonly DecisionKey[],
  ctx: TrustContext,
  verify: (env: unknown, keys: readonly DecisionKey[]) => DecisionStatement | undefined = verifyEnvelope,
): TrustedState {
  const status = release.status;
  const claimed = status?.decision;
  const env = status?.attestation;
  if (!env) {
    if (claimed === 'Approved' || claimed === 'Blocked') return { state: 'Unverified', why: `status says ${claimed} but carries no signed decision` };
    return { state: 'Pending', why: claimed ? `decision is ${claimed}` : 'not evaluated yet' };
  }
  const st = verify(env, keys);
  if (!st) return { state: 'Unverified', why: 'the signed decision does not verify with the operator key' };
  const uid = release.metadata?.uid ?? '';
  if (st.release.uid !== uid || st.release.namespace !== (release.metadata?.namespace ?? '') || st.release.name !== (release.metadata?.name ?? '')) {
    return { state: 'Unverified', why: 'the signed decision belongs to another object' };
  }
  if (claimed !== st.decision) return { state: 'Unverified', why: `status says ${claimed ?? 'nothing'} but the signed decision says ${st.decision}` };
  if (status?.observedGeneration !== st.release.generation) return { state: 'Unverified', why: 'observedGeneration differs from the signed decision' };
  if (status?.evaluationSequence !== st.sequence) return { state: 'Unverified', why: 'evaluationSequence differs from the signed decision' };
  if (evidenceDigest(status) !== st.evidenceDigest) return { state: 'Unverified', why: 'status.checks differ from the signed decision' };
  const newest = ctx.newestSequence?.(uid);
  if (newest !== undefined && st.sequence < newest) {
    return { state: 'Unverified', why: `the signed decision (sequence ${st.sequence}) is older than one already seen for this release (sequence ${newest}): replayed` };
  }
  if (Date.parse(st.notAfter) <= ctx.now.getTime()) return { state: 'Pending', why: `the signed decision expired at ${st.notAfter} (not re-evaluated since)` };
  if (st.release.generation !== release.metadata?.generation) {
    return { state: 'Pending', why: `generation ${release.metadata?.generation ?? '?'} is not evaluated yet (signed decision is for ${st.release.generation})` };
  }
  if (!st.policy) return { state: 'Pending', why: 'the signed decision names no policy' };
  const pgen = ctx.policyGeneration(st.policy.name);
  if (pgen === undefined) return { state: 'Pending', why: `policy ${st.policy.name} does not exist` };
  if (st.policy.generation !== pgen) {
    return { state: 'Pending', why: `policy ${st.policy.name} changed since the decision (generation ${st.policy.generation ?? '?'}, now ${pgen}); not re-evaluated yet` };
  }
  if (st.decision === 'Approved') return { state: 'Approved', statement: st };
  if (st.decision === 'Blocked') return { state: 'Blocked', statement: st };
  return { state: 'Pending', why: `decision is ${st.decision}` };
}
