import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import type { ProductRelease, ProductReleaseStatus } from '../api/types.ts';
import { decisionKey, signDecision, trustedDecision, verifyEnvelope, statementFor } from './decision.ts';

const key = decisionKey(generateKeyPairSync('ed25519').privateKey);
const otherKey = decisionKey(generateKeyPairSync('ed25519').privateKey);

function release(decision: 'Approved' | 'Blocked' | 'Pending', uid = 'uid-1', generation = 2): ProductRelease {
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
  r.status = { ...status, attestation: signDecision(key, r, status) };
  return r;
}

void test('a signed Approved decision is trusted; signing is deterministic', () => {
  const r = release('Approved');
  assert.equal(trustedDecision(r, [key]).state, 'Approved');
  assert.deepEqual(signDecision(key, r, r.status!), r.status!.attestation);
});

void test('a verified Blocked decision carries the failing checks', () => {
  const t = trustedDecision(release('Blocked'), [key]);
  assert.equal(t.state, 'Blocked');
  assert.deepEqual(t.state === 'Blocked' && t.statement.failedChecks, ['manufacturer.identity']);
});

void test('forgeries are Unverified: no envelope, other key, copied envelope, flipped verdict, edited checks', () => {
  const blocked = release('Blocked');
  const forged = structuredClone(blocked);
  forged.status!.decision = 'Approved';
  delete forged.status!.attestation;
  assert.equal(trustedDecision(forged, [key]).state, 'Unverified');

  assert.equal(trustedDecision(release('Approved'), [otherKey]).state, 'Unverified');

  const copied = structuredClone(blocked);
  const other = release('Approved', 'uid-2');
  copied.status = structuredClone(other.status);
  assert.match(JSON.stringify(trustedDecision(copied, [key])), /another object/);

  const flipped = structuredClone(blocked);
  flipped.status!.decision = 'Approved';
  assert.equal(trustedDecision(flipped, [key]).state, 'Unverified');

  const edited = structuredClone(blocked);
  edited.status!.checks![0]!.result = 'Pass';
  assert.equal(trustedDecision(edited, [key]).state, 'Unverified');
});

void test('a decision for an older generation is Pending, not Approved', () => {
  const r = release('Approved');
  r.metadata.generation = 3;
  assert.equal(trustedDecision(r, [key]).state, 'Pending');
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

void test('the statement binds uid, generation, verdict and evidence digest', () => {
  const r = release('Blocked');
  const st = statementFor(r, r.status!);
  assert.equal(st.release.uid, 'uid-1');
  assert.equal(st.release.generation, 2);
  assert.equal(st.decision, 'Blocked');
  assert.match(st.evidenceDigest, /^sha256:[0-9a-f]{64}$/);
});
