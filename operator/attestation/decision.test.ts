import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import type { ProductRelease, ProductReleaseStatus } from '../api/types.ts';
import { decisionKey, sealStatus, signatureCurrent, signDecision, trustedDecision, verifyEnvelope, statementFor, type TrustContext } from './decision.ts';
import { SequenceHighWater } from './high-water.ts';

const key = decisionKey(generateKeyPairSync('ed25519').privateKey);
const otherKey = decisionKey(generateKeyPairSync('ed25519').privateKey);
const NOW = new Date('2028-03-01T12:00:00Z');
const HOUR = 3600_000;
/** The controller's per-process record of signed sequences (one for this file, as one operator process). */
const sealed = new SequenceHighWater();
const ctx = (over: Partial<TrustContext> = {}): TrustContext => ({ now: NOW, policyGeneration: () => 1, ...over });

function bare(decision: 'Approved' | 'Blocked' | 'Pending', uid = 'uid-1', generation = 2): { r: ProductRelease; status: ProductReleaseStatus } {
  const status: ProductReleaseStatus = {
    observedGeneration: generation,
    decision,
    conditions: [{ type: 'Approved', status: decision === 'Approved' ? 'True' : 'False', reason: decision === 'Approved' ? 'AllChecksPassed' : 'PolicyViolation', message: 'm', lastTransitionTime: '2028-01-01T00:00:00Z' }],
    checks: [
      { id: 'manufacturer.identity', result: decision === 'Blocked' ? 'Fail' : 'Pass', enforcement: 'Block', reason: decision === 'Blocked' ? 'MissingPostalAddress' : 'Compliant', message: 'x', cra: ['Annex II(1)'] },
    ],
    policy: { name: 'cra-baseline', generation: 1 },
  };
  const r = { apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ProductRelease', metadata: { name: 'r', namespace: 'ns', uid, generation }, spec: {} } as unknown as ProductRelease;
  return { r, status };
}

/** A release whose status was sealed at `at` (sequence, signature valid for 6 h). */
function release(decision: 'Approved' | 'Blocked' | 'Pending', uid = 'uid-1', generation = 2, at = new Date(NOW.getTime() - HOUR)): ProductRelease {
  const { r, status } = bare(decision, uid, generation);
  sealStatus(key, r, undefined, status, at, 6 * HOUR, sealed);
  r.status = status;
  return r;
}

void test('a signed Approved decision is trusted; the statement carries sequence and expiry', () => {
  const r = release('Approved');
  assert.equal(trustedDecision(r, [key], ctx()).state, 'Approved');
  const st = verifyEnvelope(r.status!.attestation, [key])!;
  assert.equal(st.sequence, r.status!.evaluationSequence);
  assert.equal(st.notAfter, new Date(NOW.getTime() + 5 * HOUR).toISOString());
  assert.equal(st.policy?.generation, 1);
});

void test('a verified Blocked decision carries the failing checks', () => {
  const t = trustedDecision(release('Blocked'), [key], ctx());
  assert.equal(t.state, 'Blocked');
  assert.deepEqual(t.state === 'Blocked' && t.statement.failedChecks, ['manufacturer.identity']);
});

void test('forgeries are Unverified: no envelope, other key, copied envelope, flipped verdict, edited checks, edited sequence', () => {
  const blocked = release('Blocked');
  const forged = structuredClone(blocked);
  forged.status!.decision = 'Approved';
  delete forged.status!.attestation;
  assert.equal(trustedDecision(forged, [key], ctx()).state, 'Unverified');

  assert.equal(trustedDecision(release('Approved'), [otherKey], ctx()).state, 'Unverified');

  const copied = structuredClone(blocked);
  const other = release('Approved', 'uid-2');
  copied.status = structuredClone(other.status);
  assert.match(JSON.stringify(trustedDecision(copied, [key], ctx())), /another object/);

  const flipped = structuredClone(blocked);
  flipped.status!.decision = 'Approved';
  assert.equal(trustedDecision(flipped, [key], ctx()).state, 'Unverified');

  const edited = structuredClone(blocked);
  edited.status!.checks![0]!.result = 'Pass';
  assert.equal(trustedDecision(edited, [key], ctx()).state, 'Unverified');

  const resequenced = structuredClone(blocked);
  resequenced.status!.evaluationSequence! += 1;
  assert.match(JSON.stringify(trustedDecision(resequenced, [key], ctx())), /evaluationSequence differs/);
});

void test('replay: an older signed Approved written back over a newer Blocked is Unverified once the newer was seen', () => {
  const { r, status: approved } = bare('Approved');
  sealStatus(key, r, undefined, approved, new Date(NOW.getTime() - 2 * HOUR), 6 * HOUR, sealed);
  const older = { ...r, status: structuredClone(approved) } as ProductRelease;
  const { status: blocked } = bare('Blocked');
  sealStatus(key, r, approved, blocked, new Date(NOW.getTime() - HOUR), 6 * HOUR, sealed);
  const newer = { ...r, status: blocked } as ProductRelease;
  assert.ok(blocked.evaluationSequence! > approved.evaluationSequence!, 'the sequence increases');

  const hw = new SequenceHighWater();
  const seen = (rel: ProductRelease) => {
    const st = verifyEnvelope(rel.status?.attestation, [key]);
    if (st) hw.observe(st.release.uid, st.sequence);
  };
  // Watch events out of order: the newer first, then the replayed older one.
  seen(newer);
  seen(older);
  const c = ctx({ newestSequence: (uid) => hw.get(uid) });
  assert.equal(trustedDecision(newer, [key], c).state, 'Blocked');
  const t = trustedDecision(older, [key], c);
  assert.equal(t.state, 'Unverified');
  assert.match(JSON.stringify(t), /older than one already seen.*replayed/);
  // Without the high-water mark (today's behaviour) the replay would have been believed.
  assert.equal(trustedDecision(older, [key], ctx()).state, 'Approved');
});

void test('an expired decision and one decided under another policy generation are not believed', () => {
  const r = release('Approved');
  const st = verifyEnvelope(r.status!.attestation, [key])!;
  assert.equal(trustedDecision(r, [key], ctx({ now: new Date(Date.parse(st.notAfter)) })).state, 'Pending');
  assert.match(JSON.stringify(trustedDecision(r, [key], ctx({ now: new Date(Date.parse(st.notAfter) + 1) }))), /expired/);
  assert.match(JSON.stringify(trustedDecision(r, [key], ctx({ policyGeneration: () => 2 }))), /changed since the decision/);
  assert.match(JSON.stringify(trustedDecision(r, [key], ctx({ policyGeneration: () => undefined }))), /does not exist/);
});

void test('a decision for an older generation is Pending, not Approved', () => {
  const r = release('Approved');
  r.metadata.generation = 3;
  assert.equal(trustedDecision(r, [key], ctx()).state, 'Pending');
});

void test('sealStatus: sequence strictly increases (clock or previous + 1); signatureCurrent tells when to re-sign', () => {
  const { r, status: first } = bare('Approved', 'uid-seal');
  sealStatus(key, r, undefined, first, NOW, 6 * HOUR, sealed);
  assert.equal(first.evaluationSequence, NOW.getTime());
  // Same clock again (or a clock behind): previous + 1.
  const { status: second } = bare('Approved', 'uid-seal');
  sealStatus(key, r, first, second, new Date(NOW.getTime() - 5000), 6 * HOUR, sealed);
  assert.equal(second.evaluationSequence, NOW.getTime() + 1);
  // An unchanged decision with most of its lifetime left needs no new signature; near expiry, another key,
  // another verdict, or an older one of ours written back does.
  const { status: next } = bare('Approved', 'uid-seal');
  assert.equal(signatureCurrent(key, r, second, next, NOW, 6 * HOUR, sealed), true);
  assert.equal(signatureCurrent(key, r, second, next, new Date(NOW.getTime() + 4 * HOUR), 6 * HOUR, sealed), false);
  assert.equal(signatureCurrent(otherKey, r, second, next, NOW, 6 * HOUR, sealed), false);
  assert.equal(signatureCurrent(key, r, second, bare('Blocked', 'uid-seal').status, NOW, 6 * HOUR, sealed), false);
  assert.equal(signatureCurrent(key, r, first, next, NOW, 6 * HOUR, sealed), false, 'a replayed older decision is re-signed');
  assert.equal(signatureCurrent(undefined, r, second, next, NOW, 6 * HOUR, sealed), false, 'signing off: the old envelope goes');
  const third = bare('Approved', 'uid-seal').status;
  sealStatus(key, r, first, third, NOW, 6 * HOUR, sealed);
  assert.ok(third.evaluationSequence! > second.evaluationSequence, 'above what this process signed, even when the status was rolled back');
});

void test('any change to the payload or signature fails verification (property)', () => {
  const env = release('Approved').status!.attestation!;
  fc.assert(
    fc.property(fc.nat({ max: env.payload.length - 1 }), fc.constantFrom('A', 'B', '/', '+'), (i, ch) => {
      if (env.payload[i] === ch) return;
      const tampered = { ...env, payload: env.payload.slice(0, i) + ch + env.payload.slice(i + 1) };
      const st = verifyEnvelope(tampered, [key]);
      // base64 padding bits may decode to the same bytes; then the statement is identical.
      assert.ok(st === undefined || JSON.stringify(st) === JSON.stringify(verifyEnvelope(env, [key])));
    }),
    { numRuns: 200 },
  );
  assert.equal(verifyEnvelope({ ...env, signatures: [{ keyid: key.keyid, sig: Buffer.alloc(64).toString('base64') }] }, [key]), undefined);
  assert.equal(verifyEnvelope({ ...env, payloadType: 'application/json' }, [key]), undefined);
  assert.equal(verifyEnvelope('junk', [key]), undefined);
});

void test('the statement binds uid, generation, policy generation, verdict, evidence digest, sequence and expiry', () => {
  const r = release('Blocked');
  const st = statementFor(r, r.status!, '2028-03-01T17:00:00.000Z');
  assert.equal(st.release.uid, 'uid-1');
  assert.equal(st.release.generation, 2);
  assert.equal(st.decision, 'Blocked');
  assert.deepEqual(st.policy, { name: 'cra-baseline', generation: 1 });
  assert.match(st.evidenceDigest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(st.sequence, r.status!.evaluationSequence);
  assert.deepEqual(signDecision(key, r, r.status!, st.notAfter), r.status!.attestation, 'deterministic for the same sequence and expiry');
});

void test('the high-water mark is bounded and never lowered', () => {
  const hw = new SequenceHighWater(3);
  hw.observe('a', 5);
  hw.observe('a', 3);
  assert.equal(hw.get('a'), 5);
  for (const u of ['b', 'c', 'd']) hw.observe(u, 1);
  assert.equal(hw.size, 3);
  assert.equal(hw.get('a'), undefined, 'the least recently raised is forgotten');
});
