/**
 * Issue 16: the informers cache a projection of each release and policy. It must keep everything a reader needs
 * (reconcile, webhook, metrics read spec, status and identity: those stay equal, value for value) and drop the
 * bookkeeping no reader uses; equal strings across releases become one string.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { StringInterner, projectObject, projectPolicy, projectRelease, type CachedRelease } from './projection.ts';
import { stripBookkeeping } from './informer.ts';
import { evaluate } from '../engine/evaluate.ts';
import { buildStatus } from '../engine/status.ts';
import { policyFixture, policySpecs, releaseFixture } from '../../test/fixtures/releases.ts';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import { evidenceDigest, failedChecks, statementFor } from '../attestation/decision.ts';
import { needsWrite } from '../controller/reconcile.ts';
import { updateCause } from '../controller/controller.ts';

const now = new Date('2028-02-01T00:00:00Z');

/** A release as the API server returns it: managed fields, kubectl's last-applied copy, owner references, a full status. */
function served(i: number): ProductRelease {
  const r = releaseFixture('full', 'acme', `router-${i}`, { team: 'net' }) as unknown as ProductRelease;
  const policy = policyFixture(policySpecs.full(), 'cra-baseline') as unknown as ReleasePolicy;
  r.metadata = {
    ...r.metadata,
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resourceVersion: String(1000 + i),
    generation: 2,
    creationTimestamp: new Date('2028-01-01T00:00:00Z'),
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ spec: r.spec }), 'acme.example/owner': 'psirt' },
    managedFields: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'cra-gate.dev/v1alpha1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }],
    ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u' }],
    finalizers: ['acme.example/keep'],
  };
  const ev = evaluate({ release: r, policy, policyName: 'cra-baseline', now, evidence: {} });
  r.status = buildStatus(r, ev, now);
  // What the watch delivers: a fresh decode of the JSON (no shared strings between releases).
  return JSON.parse(JSON.stringify(r)) as ProductRelease;
}

test('the projection drops bookkeeping and keeps identity, labels, other annotations, spec and status value for value', () => {
  const original = served(1);
  const copy = JSON.parse(JSON.stringify(original)) as ProductRelease;
  const p = projectRelease(copy);
  assert.equal(p.metadata.name, 'router-1');
  assert.equal(p.metadata.namespace, 'acme');
  assert.equal(p.metadata.uid, original.metadata.uid);
  assert.equal(p.metadata.resourceVersion, original.metadata.resourceVersion);
  assert.equal(p.metadata.generation, 2);
  assert.deepEqual(p.metadata.labels, { team: 'net' });
  assert.deepEqual(p.metadata.annotations, { 'acme.example/owner': 'psirt' });
  assert.equal(p.metadata.creationTimestamp, original.metadata.creationTimestamp);
  for (const dropped of ['managedFields', 'ownerReferences', 'finalizers']) assert.equal(dropped in p.metadata, false, dropped);
  assert.deepEqual(p.spec, original.spec);
  assert.deepEqual(p.status, original.status);
  assert.ok((p.status?.checks ?? []).length > 0, 'a real status with checks');
});

test('every reader computes the same on the projection as on the served object', () => {
  const a = served(1);
  const pa = projectRelease(JSON.parse(JSON.stringify(a)) as ProductRelease);
  // Readers take the projected type (a reader of a dropped field would not compile).
  const readers: ((r: CachedRelease) => unknown)[] = [
    (r) => evidenceDigest(r.status),
    (r) => failedChecks(r.status),
    (r) => statementFor(r, r.status!),
    (r) => needsWrite(r.status, buildStatus(r, evaluate({ release: r, policy: undefined, policyName: 'x', now }), now), now, 60_000),
    (r) => updateCause(r, r, r.metadata.resourceVersion),
    (r) => [r.status?.decision, r.status?.summary, r.status?.exploited, r.status?.vulnerabilityCoverage, r.status?.conditions, r.status?.attestation],
  ];
  for (const read of readers) assert.deepEqual(read(pa), read(a));
});

test('a policy: spec kept, bookkeeping dropped', () => {
  const pol = policyFixture(policySpecs.full(), 'p') as unknown as ReleasePolicy;
  pol.metadata.managedFields = [{ manager: 'helm' }];
  const p = projectPolicy(JSON.parse(JSON.stringify(pol)) as ReleasePolicy);
  assert.deepEqual(p.spec, pol.spec);
  assert.equal('managedFields' in p.metadata, false);
});

test('the intern table is bounded: when full it starts afresh', () => {
  const t = new StringInterner(4);
  for (let i = 0; i < 10; i++) t.intern(`s${i}`);
  assert.ok(t.size <= 4);
  assert.equal(t.intern('x'.repeat(600)).length, 600, 'long strings pass through');
});

test('2,000 cached releases take less heap projected than with bookkeeping stripped only (equal strings shared)', () => {
  const interner = new StringInterner();
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  const measure = (project: (r: ProductRelease) => unknown): number => {
    gc();
    const before = getHeapStatistics().used_heap_size;
    const cache: unknown[] = [];
    for (let i = 0; i < 2000; i++) {
      const r = served(i);
      cache.push(project(r));
    }
    gc();
    const used = getHeapStatistics().used_heap_size - before;
    assert.equal(cache.length, 2000);
    return used;
  };
  const raw = measure((r) => r);
  const stripped = measure((r) => stripBookkeeping(r)); // what the informers cached before
  const projected = measure((r) => projectObject(r, interner));
  const mib = (x: number): string => (x / 2 ** 20).toFixed(1);
  console.log(`# 2,000 releases: served ${mib(raw)} MiB, bookkeeping stripped ${mib(stripped)} MiB, projected ${mib(projected)} MiB of heap`);
  assert.ok(projected < stripped * 0.7, `projected ${projected} vs stripped ${stripped}`);
  // A bound per cached release (measured 1.8 KiB with this fixture's 20-odd checks): a reader that starts keeping a
  // second copy, or a projection that stops sharing strings, shows here.
  assert.ok(projected / 2000 < 2.5 * 1024, `${(projected / 2000).toFixed(0)} bytes per projected release`);
});

test('a decision envelope keeps its payload and signatures value for value (payload type and key ids interned)', () => {
  const r = served(1);
  const envelope = { payloadType: 'application/vnd.cra-gate.decision+json', payload: 'eyJ4IjoxfQ==', signatures: [{ keyid: 'ab'.repeat(32), sig: 'c2ln' }] };
  r.status = { ...r.status, attestation: structuredClone(envelope) };
  const p = projectRelease(JSON.parse(JSON.stringify(r)) as ProductRelease);
  assert.deepEqual(p.status?.attestation, envelope);
  assert.equal(p.apiVersion, r.apiVersion);
  assert.equal(p.kind, r.kind);
});

test('equal check results are one frozen object across releases; a different one stays its own', () => {
  const interner = new StringInterner();
  const a = projectObject(served(1), interner);
  const b = projectObject(served(2), interner);
  const ca = a.status?.checks ?? [];
  const cb = b.status?.checks ?? [];
  assert.ok(ca.length >= 3, `${ca.length} checks`);
  const shared = ca.filter((c, i) => c === cb[i]);
  assert.ok(shared.length > ca.length / 2, `${shared.length} of ${ca.length} check results shared`);
  for (const c of shared) assert.ok(Object.isFrozen(c) && Object.isFrozen(c.cra ?? []), 'a shared record is frozen');
  assert.throws(() => {
    (shared[0] as { message?: string }).message = 'changed';
  }, TypeError);
  // A check whose message differs is not the other release's object, and values are unchanged.
  const r3 = served(3);
  r3.status!.checks![0]!.message = 'something else';
  const c = projectObject(JSON.parse(JSON.stringify(r3)) as ProductRelease, interner);
  assert.notEqual(c.status!.checks![0], ca[0]);
  assert.equal(c.status!.checks![0]!.message, 'something else');
  assert.deepEqual(a.status, served(1).status);
});
