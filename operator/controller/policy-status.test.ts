import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReleasePolicy } from '../api/types.ts';
import { buildPolicyStatus, policyProblems } from './policy-status.ts';

function policy(checks: ReleasePolicy['spec']['checks'], status?: ReleasePolicy['status']): ReleasePolicy {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'p', generation: 3 },
    spec: { checks },
    ...(status ? { status } : {}),
  };
}

test('a policy of known checks is Ready', () => {
  const st = buildPolicyStatus(policy([{ id: 'update.channel', enforcement: 'Block' }]), new Date('2027-01-01T00:00:00Z'));
  assert.equal(st.observedGeneration, 3);
  assert.equal(st.conditions?.[0]?.status, 'True');
  assert.equal(st.conditions?.[0]?.reason, 'Valid');
});

test('unknown check ids and unknown params are named with their field path', () => {
  const p = policy([
    { id: 'update.channel', enforcement: 'Block', params: { nonsense: 1 } },
    { id: 'sbom.presnt', enforcement: 'Warn' },
  ]);
  const { reason, problems } = policyProblems(p);
  assert.equal(reason, 'UnknownCheck');
  assert.deepEqual(problems, ['spec.checks[1].id: unknown check "sbom.presnt"', 'spec.checks[0].params.nonsense: not a parameter of update.channel']);
  const st = buildPolicyStatus(p, new Date());
  assert.equal(st.conditions?.[0]?.status, 'False');
  assert.equal(st.conditions?.[0]?.reason, 'UnknownCheck');
});

test('lastTransitionTime is kept while Ready does not change', () => {
  const first = buildPolicyStatus(policy([{ id: 'update.channel', enforcement: 'Block' }]), new Date('2027-01-01T00:00:00Z'));
  const again = buildPolicyStatus(policy([{ id: 'update.channel', enforcement: 'Warn' }], first), new Date('2027-02-01T00:00:00Z'));
  assert.equal(again.conditions?.[0]?.lastTransitionTime, '2027-01-01T00:00:00Z');
});
