import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProductRelease } from '../api/types.ts';
import type { Evaluation } from '../engine/evaluate.ts';
import { needsWrite } from './reconcile.ts';
import { buildStatus } from '../engine/status.ts';
import { updateCause } from './controller.ts';

const release = (generation: number, status?: ProductRelease['status']): ProductRelease => ({
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ProductRelease',
  metadata: { name: 'r', namespace: 'ns', generation, labels: { a: '1' } },
  spec: { product: { name: 'p' }, version: '1.0.0' },
  ...(status ? { status } : {}),
});

function evaluation(decision: Evaluation['decision'], message = 'm'): Evaluation {
  return {
    decision,
    reason: decision === 'Approved' ? 'AllChecksPassed' : decision === 'Blocked' ? 'PolicyViolation' : 'PolicyNotFound',
    message,
    checks: [],
    summary: { passed: 0, failed: 0, warned: 0, waived: 0, errored: 0, skipped: 0 },
    ...(decision === 'Pending' ? {} : { policy: { name: 'cra-baseline', generation: 1 } }),
  } as unknown as Evaluation;
}

test('Approved condition is True exactly when the decision is Approved', () => {
  for (const d of ['Approved', 'Blocked', 'Pending'] as const) {
    const st = buildStatus(release(2), evaluation(d), new Date('2027-01-01T00:00:00Z'));
    const approved = st.conditions?.find((c) => c.type === 'Approved');
    assert.equal(approved?.status, d === 'Approved' ? 'True' : 'False');
    assert.equal(approved?.observedGeneration, 2);
    assert.equal(st.observedGeneration, 2);
    assert.equal(st.conditions?.find((c) => c.type === 'Evaluated')?.status, d === 'Pending' ? 'False' : 'True');
  }
});

test('lastTransitionTime moves only when a condition status changes', () => {
  const t1 = new Date('2027-01-01T00:00:00Z');
  const t2 = new Date('2027-01-02T00:00:00Z');
  const first = buildStatus(release(1), evaluation('Blocked', 'a'), t1);
  const same = buildStatus(release(2, first), evaluation('Blocked', 'b'), t2);
  assert.equal(same.conditions?.find((c) => c.type === 'Approved')?.lastTransitionTime, '2027-01-01T00:00:00Z');
  const flipped = buildStatus(release(3, same), evaluation('Approved'), t2);
  assert.equal(flipped.conditions?.find((c) => c.type === 'Approved')?.lastTransitionTime, '2027-01-02T00:00:00Z');
});

test('needsWrite ignores evaluatedAt until it is stale, and ignores key order', () => {
  const now = new Date('2027-01-01T00:10:00Z');
  const st = buildStatus(release(1), evaluation('Approved'), new Date('2027-01-01T00:00:00Z'));
  const next = buildStatus(release(1, st), evaluation('Approved'), now);
  const reordered = Object.fromEntries(Object.entries(st).reverse()) as typeof st;
  assert.equal(needsWrite(reordered, next, now, 3600_000), false);
  assert.equal(needsWrite(st, next, now, 5 * 60_000), true, 'stale evaluatedAt is refreshed');
  assert.equal(needsWrite(st, buildStatus(release(1, st), evaluation('Blocked'), now), now, 3600_000), true);
  assert.equal(needsWrite(undefined, next, now, 3600_000), true);
});

test('needsWrite ignores the evaluation sequence and the signature (signatureCurrent decides about those)', () => {
  const now = new Date('2027-01-01T00:10:00Z');
  const st = buildStatus(release(1), evaluation('Approved'), now);
  const sealed = { ...st, evaluationSequence: 42, attestation: { payloadType: 't', payload: 'cA==', signatures: [{ sig: 'cw==' }] } };
  assert.equal(needsWrite(sealed, buildStatus(release(1, sealed), evaluation('Approved'), now), now, 3600_000), false);
});

test('predicate: own writes are recognised by the resourceVersion we wrote, not by content', () => {
  const st = buildStatus(release(1), evaluation('Approved'), new Date());
  const at = (rv: string, r: ProductRelease): ProductRelease => ({ ...r, metadata: { ...r.metadata, resourceVersion: rv } });
  const old = at('10', release(1, st));
  assert.equal(updateCause(at('11', release(2, st)), old, '11'), 'spec', 'generation changed, even at our version');
  const relabelled = at('11', { ...release(1, st), metadata: { ...release(1, st).metadata, labels: { a: '2' } } });
  assert.equal(updateCause(relabelled, old, undefined), 'labels');
  const forged = at('12', release(1, { ...st, decision: 'Approved', checks: [], conditions: [] }));
  assert.equal(updateCause(forged, old, '11'), 'status', 'a status written by someone else');
  assert.equal(updateCause(at('11', release(1, st)), old, '11'), 'own', 'the echo of our own write');
  assert.equal(updateCause(at('12', release(1, st)), at('11', release(1, st)), '11'), 'none', 'metadata-only change (same status)');
  assert.equal(updateCause(at('11', release(1, { ...st, observedGeneration: 0 })), old, '11'), 'status', 'status of an older generation is never ours');
  assert.equal(updateCause(at('10', release(1, st)), old, '11'), 'none', 'a resync (same version)');
  assert.equal(updateCause(at('10', release(1, st)), undefined, undefined), 'spec', 'first sight');
});
