import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfiguration, mergePatchStatus } from './status.ts';

void test('the merge patch carries the whole status and nulls the top-level keys the previous status had and this one lacks', () => {
  const next = applyConfiguration({ decision: 'Approved', checks: [{ id: 'a' }], exploited: undefined, attestation: null });
  assert.deepEqual(next, { decision: 'Approved', checks: [{ id: 'a' }] });
  const previous = { decision: 'Blocked', checks: [{ id: 'a' }, { id: 'b' }], exploited: [{ vulnerability: 'CVE-2021-44228' }], attestation: { sig: 'x' } };
  assert.deepEqual(mergePatchStatus(next, previous), { decision: 'Approved', checks: [{ id: 'a' }], exploited: null, attestation: null });
});

void test('without a previous status, or with nothing removed, the patch is the status itself', () => {
  const next = { decision: 'Pending' };
  assert.equal(mergePatchStatus(next, undefined), next);
  assert.equal(mergePatchStatus(next, { decision: 'Approved' }), next);
});
