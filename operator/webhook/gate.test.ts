import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { AdmissionSettings, ProductRelease, ProductReleaseStatus } from '../api/types.ts';
import { decisionKey, sealStatus } from '../attestation/decision.ts';
import { SequenceHighWater } from '../attestation/high-water.ts';
import { objectKey, type InformerHandler } from '../kube/informer.ts';
import { parseImageReference } from '../evidence/oci/reference.ts';
import { gateSettings, judgeImages, normaliseRegistry, repositoryKey, ReleaseIndex, type DigestResolver, type ReleaseSource } from './gate.ts';

const key = decisionKey(generateKeyPairSync('ed25519').privateKey);
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

/** The informer's cache as the index reads it (list/get/on), fed by hand. */
class Store implements ReleaseSource {
  private readonly items = new Map<string, ProductRelease>();
  private readonly handlers: InformerHandler<ProductRelease>[] = [];
  list() {
    return [...this.items.values()];
  }
  get(k: string) {
    return this.items.get(k);
  }
  on(h: InformerHandler<ProductRelease>) {
    this.handlers.push(h);
  }
  put(r: ProductRelease) {
    const old = this.items.get(objectKey(r));
    this.items.set(objectKey(r), r);
    for (const h of this.handlers) h(old ? 'update' : 'add', r, old);
  }
}

let uidSeq = 0;
function release(ns: string, name: string, decision: 'Approved' | 'Blocked', images: string[]): ProductRelease {
  const r = {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ProductRelease',
    metadata: { name, namespace: ns, uid: `uid-${++uidSeq}`, generation: 1, resourceVersion: String(uidSeq) },
    spec: { artifacts: images.map((image, i) => ({ name: `a${i}`, image })) },
  } as unknown as ProductRelease;
  const status: ProductReleaseStatus = {
    observedGeneration: 1,
    decision,
    checks: decision === 'Blocked' ? [{ id: 'manufacturer.identity', result: 'Fail', enforcement: 'Block', reason: 'MissingPostalAddress', message: 'x', cra: [] }] : [],
    policy: { name: 'p', generation: 1 },
  };
  sealStatus(key, r, undefined, status, new Date(), 3600_000, new SequenceHighWater());
  r.status = status;
  return r;
}

function setup(...rels: ProductRelease[]) {
  const store = new Store();
  for (const r of rels) store.put(r);
  return new ReleaseIndex(store, () => [key], { policyGeneration: () => 1 });
}

const img = (image: string) => ({ where: 'containers[0]', container: 'main', image });
const settings = (admission: AdmissionSettings = {}, strict = false) => gateSettings(admission, strict);

void test('references are compared normalised: Docker Hub aliases, library/, the default HTTPS port, case of the host', () => {
  assert.equal(repositoryKey(parseImageReference('nginx:1')), 'docker.io/library/nginx');
  assert.equal(repositoryKey(parseImageReference('index.docker.io/library/nginx:1')), 'docker.io/library/nginx');
  assert.equal(repositoryKey(parseImageReference('docker.io/nginx@sha256:' + A)), 'docker.io/library/nginx');
  assert.equal(repositoryKey(parseImageReference('Registry.Acme.Example:443/router:1')), 'registry.acme.example/router');
  assert.equal(repositoryKey(parseImageReference('registry.acme.example:5000/router:1')), 'registry.acme.example:5000/router');
  assert.equal(normaliseRegistry('REGISTRY-1.docker.io'), 'docker.io');
});

void test('a release covers repository AND digest: the same digest under another repository is not covered', async () => {
  const idx = setup(release('team', 'router', 'Approved', [`registry.acme.example/router@sha256:${A}`, `nginx@sha256:${B}`]));
  const ok = await judgeImages([img(`registry.acme.example:443/router@sha256:${A}`), img(`docker.io/library/nginx@sha256:${B}`)], settings({}, true), idx, undefined, 'team');
  assert.deepEqual(ok.violations, []);
  assert.deepEqual(ok.approvedBy, ['team/router']);
  const other = await judgeImages([img(`evil.example/router@sha256:${A}`)], settings({}, true), idx, undefined, 'team');
  assert.deepEqual(other.violations.map((v) => v.reason), ['ImageNotCovered']);
});

void test('tags: denied by default (no registry asked); ResolveFromTrusted resolves only trusted registries', async () => {
  const idx = setup(release('team', 'router', 'Approved', [`registry.acme.example/router@sha256:${A}`]));
  const asked: string[] = [];
  const resolver: DigestResolver = { resolve: (ref) => (asked.push(ref.registry), Promise.resolve(`sha256:${A}`)) };
  const denied = await judgeImages([img('registry.acme.example/router:2.4.0')], settings(), idx, resolver, 'team');
  assert.deepEqual(denied.violations.map((v) => v.reason), ['DigestRequired']);
  assert.deepEqual(asked, []);
  const trusted = { tags: 'ResolveFromTrusted' as const, trustedRegistries: ['registry.acme.example:443'] };
  const untrusted = await judgeImages([img('evil.example/router:2.4.0')], settings(trusted), idx, resolver, 'team');
  assert.deepEqual(untrusted.violations.map((v) => v.reason), ['DigestRequired']);
  assert.match(untrusted.violations[0]!.message, /evil\.example is not in spec\.admission\.trustedRegistries/);
  assert.deepEqual(asked, []);
  const resolved = await judgeImages([img('registry.acme.example/router:2.4.0')], settings(trusted), idx, resolver, 'team');
  assert.deepEqual(resolved.violations, []);
  assert.deepEqual(resolved.approvedBy, ['team/router']);
  // requireDigest (deprecated) still means Deny.
  const legacy = await judgeImages([img('registry.acme.example/router:2.4.0')], settings({ ...trusted, requireDigest: true }), idx, resolver, 'team');
  assert.deepEqual(legacy.violations.map((v) => v.reason), ['DigestRequired']);
});

void test('a tag that cannot be resolved from a trusted registry is a violation even when not strict', async () => {
  const idx = setup();
  const failing: DigestResolver = { resolve: () => Promise.reject(new Error('the registry claims sha256:aaaa… but the manifest it served hashes to sha256:bbbb…')) };
  const r = await judgeImages([img('registry.acme.example/x:1')], settings({ tags: 'ResolveFromTrusted', trustedRegistries: ['registry.acme.example'] }), idx, failing, 'team');
  assert.deepEqual(r.violations.map((v) => v.reason), ['DigestUnresolved']);
  assert.match(r.violations[0]!.message, /hashes to/);
});

void test('an unparsable image reference is a violation, strict or not', async () => {
  const r = await judgeImages([img('UPPER/Case::bad')], settings(), setup(), undefined, 'team');
  assert.deepEqual(r.violations.map((v) => v.reason), ['ImageReferenceInvalid']);
});

void test('more tags than the per-review limit: a violation, never a partial check', async () => {
  const resolver: DigestResolver = { resolve: () => Promise.resolve(`sha256:${A}`) };
  const images = Array.from({ length: 20 }, (_, i) => img(`registry.acme.example/x${i}:1`));
  const r = await judgeImages(images, settings({ tags: 'ResolveFromTrusted', trustedRegistries: ['registry.acme.example'] }), setup(), resolver, 'team');
  assert.equal(r.violations.filter((v) => v.reason === 'AdmissionLimitExceeded').length, 4);
});

void test('a release covers its own namespace only, unless the policy grants its namespace more', async () => {
  const blocked = release('team-b', 'camera', 'Blocked', [`registry.acme.example/camera@sha256:${B}`]);
  const approved = release('team-b', 'router', 'Approved', [`registry.acme.example/router@sha256:${A}`]);
  const idx = setup(blocked, approved);
  // A Blocked release in B does not deny team A's workload ...
  const a1 = await judgeImages([img(`registry.acme.example/camera@sha256:${B}`)], settings(), idx, undefined, 'team-a');
  assert.deepEqual(a1.violations, []);
  // ... and an Approved one in B does not admit it (strict: not covered).
  const a2 = await judgeImages([img(`registry.acme.example/router@sha256:${A}`)], settings({}, true), idx, undefined, 'team-a');
  assert.deepEqual(a2.violations.map((v) => v.reason), ['ImageNotCovered']);
  assert.deepEqual(a2.approvedBy, []);
  // In B itself both count.
  const b = await judgeImages([img(`registry.acme.example/camera@sha256:${B}`)], settings(), idx, undefined, 'team-b');
  assert.deepEqual(b.violations.map((v) => v.reason), ['ReleaseBlocked']);
  // A grant extends B's releases to A (or everywhere).
  for (const workloadNamespaces of [['team-a'], ['*']]) {
    const granted = settings({ releaseNamespaces: [{ namespace: 'team-b', workloadNamespaces }] }, true);
    assert.deepEqual((await judgeImages([img(`registry.acme.example/camera@sha256:${B}`)], granted, idx, undefined, 'team-a')).violations.map((v) => v.reason), ['ReleaseBlocked']);
    assert.deepEqual((await judgeImages([img(`registry.acme.example/router@sha256:${A}`)], granted, idx, undefined, 'team-a')).approvedBy, ['team-b/router']);
  }
  const elsewhere = settings({ releaseNamespaces: [{ namespace: 'team-b', workloadNamespaces: ['team-c'] }] });
  assert.deepEqual((await judgeImages([img(`registry.acme.example/camera@sha256:${B}`)], elsewhere, idx, undefined, 'team-a')).violations, []);
});

void test('an older signed Approved written back after a newer Blocked was seen is denied (replay)', async () => {
  const store = new Store();
  const idx = new ReleaseIndex(store, () => [key], { policyGeneration: () => 1 });
  const approved = release('team', 'router', 'Approved', [`registry.acme.example/router@sha256:${A}`]);
  store.put(approved);
  const blocked = structuredClone(approved);
  const st: ProductReleaseStatus = { ...structuredClone(blocked.status!), decision: 'Blocked', checks: [{ id: 'manufacturer.identity', result: 'Fail', enforcement: 'Block', reason: 'MissingPostalAddress', message: 'x', cra: [] }] };
  sealStatus(key, blocked, approved.status, st, new Date(), 3600_000, new SequenceHighWater());
  blocked.status = st;
  blocked.metadata.resourceVersion = '1001';
  store.put(blocked);
  const replay = structuredClone(approved);
  replay.metadata.resourceVersion = '1002';
  store.put(replay);
  const r = await judgeImages([img(`registry.acme.example/router@sha256:${A}`)], settings(), idx, undefined, 'team');
  assert.deepEqual(r.violations.map((v) => v.reason), ['DecisionUnverified']);
  assert.match(r.violations[0]!.message, /replayed/);
});

void test('a decision made under an older generation of the policy does not admit', async () => {
  const store = new Store();
  const idx = new ReleaseIndex(store, () => [key], { policyGeneration: () => 2 });
  store.put(release('team', 'router', 'Approved', [`registry.acme.example/router@sha256:${A}`]));
  const r = await judgeImages([img(`registry.acme.example/router@sha256:${A}`)], settings(), idx, undefined, 'team');
  assert.deepEqual(r.violations.map((v) => v.reason), ['ReleaseNotApproved']);
  assert.match(r.violations[0]!.message, /policy p changed since the decision/);
});
