import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ProductRelease } from '../api/types.ts';
import { review, type AdmissionContext, type AdmissionRequest } from './admission.ts';
import { ReleaseIndex } from './gate.ts';
import { MAX_CONTAINERS } from './workload.ts';

const empty = { list: (): ProductRelease[] => [], get: (): ProductRelease | undefined => undefined, on: () => undefined };

function ctx(): AdmissionContext {
  return {
    index: new ReleaseIndex(empty, () => [], { policyGeneration: () => 1 }),
    settings: () => ({}),
    namespace: (name) => Promise.resolve({ metadata: { name, uid: 'ns-uid', labels: { 'cra-gate.dev/admission': 'enforce' } } }),
    exemptNamespaces: ['kube-system'],
    exemptServiceAccounts: [],
    defaultMode: 'audit',
    log: pino({ level: 'silent' }),
  };
}

const pod = (containers: unknown[], ephemeral: unknown[] = []) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team' }, spec: { containers, ephemeralContainers: ephemeral } });
const req = (over: Partial<AdmissionRequest>): AdmissionRequest => ({ uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'team', operation: 'CREATE', ...over });

void test('a Pod with more containers than the limit is denied in enforce, not checked in part', async () => {
  const many = Array.from({ length: MAX_CONTAINERS + 1 }, (_, i) => ({ name: `c${i}`, image: `x@sha256:${'1'.repeat(64)}` }));
  const r = await review(ctx(), 'enforce', req({ object: pod(many) }));
  assert.equal(r.response.allowed, false);
  assert.deepEqual(r.violations.map((v) => v.reason), ['AdmissionLimitExceeded']);
});

void test('an ephemeral container added through pods/ephemeralcontainers is judged; other subresources are not', async () => {
  const running = pod([{ name: 'c', image: `x@sha256:${'1'.repeat(64)}` }]);
  const debugged = pod([{ name: 'c', image: `x@sha256:${'1'.repeat(64)}` }], [{ name: 'debugger', image: 'busybox:latest' }]);
  const r = await review(ctx(), 'enforce', req({ operation: 'UPDATE', subResource: 'ephemeralcontainers', object: debugged, oldObject: running }));
  assert.equal(r.response.allowed, false);
  assert.deepEqual(r.violations.map((v) => v.reason), ['DigestRequired']);
  const status = await review(ctx(), 'enforce', req({ operation: 'UPDATE', subResource: 'status', object: debugged, oldObject: running }));
  assert.equal(status.outcome, 'skipped');
});

void test('a ReplicationController template is judged', async () => {
  const rc = { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } } };
  const r = await review(ctx(), 'enforce', req({ kind: { group: '', version: 'v1', kind: 'ReplicationController' }, object: rc }));
  assert.equal(r.response.allowed, false);
  assert.match(r.response.status?.message ?? '', /not pinned by digest/);
});
