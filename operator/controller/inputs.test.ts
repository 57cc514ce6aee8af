import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProductRelease, ProductReleaseStatus, ReleasePolicy } from '../api/types.ts';
import { MAX_SPREAD_MS, inputDigest, inputsCurrent, restartPlan, spreadFraction, type InputContext } from './inputs.ts';
import { needsWrite } from './reconcile.ts';

const T0 = Date.parse('2027-03-01T10:00:00Z');
const HOUR = 3600_000;

const policy = (generation = 1, feeds = false): ReleasePolicy => ({
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ReleasePolicy',
  metadata: { name: 'cra-baseline', uid: 'p-uid', generation },
  spec: {
    checks: [{ id: 'manufacturer.identity', enforcement: 'Block' }],
    ...(feeds ? { vulnerabilityFeeds: [{ kev: { url: 'https://feeds.example/kev.json' } }] } : {}),
  },
} as unknown as ReleasePolicy);

const decided = (digest?: string, reevaluateAt = new Date(T0 + 6 * HOUR).toISOString()): ProductReleaseStatus => ({
  observedGeneration: 3,
  decision: 'Approved',
  checks: [{ id: 'manufacturer.identity', result: 'Pass' }],
  evaluatedAt: new Date(T0).toISOString(),
  ...(digest ? { inputs: { digest, reevaluateAt } } : {}),
} as unknown as ProductReleaseStatus);

const release = (status?: ProductReleaseStatus, patch: Partial<ProductRelease['metadata']> = {}): ProductRelease => ({
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ProductRelease',
  metadata: { name: 'r', namespace: 'ns', uid: 'r-uid', generation: 3, labels: { team: 'a' }, ...patch },
  spec: { product: { name: 'p' }, version: '1.0.0' },
  ...(status ? { status } : {}),
} as unknown as ProductRelease);

function ctx(rel: ProductRelease, over: Partial<InputContext> = {}): InputContext {
  return {
    release: rel,
    policyName: 'cra-baseline',
    policy: policy(),
    feedDigest: () => 'sha256:feed',
    engine: '1.2.3',
    signingKeyId: undefined,
    status: rel.status,
    ...over,
  };
}

/** A release as the reconciler leaves it: its status carries the record of the inputs it was decided on. */
function settled(reevaluateAt?: string, over: Partial<InputContext> = {}): ProductRelease {
  const st = decided();
  const digest = inputDigest(ctx(release(st), { ...over, status: st }));
  assert.ok(digest);
  return release({ ...st, inputs: { digest, reevaluateAt: reevaluateAt ?? new Date(T0 + 6 * HOUR).toISOString() } });
}

const now = new Date(T0 + HOUR);

void test('inputDigest: stable for the same inputs, different for any fetch-free input that changed', () => {
  const rel = release(decided());
  const base = inputDigest(ctx(rel));
  assert.match(base ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.equal(inputDigest(ctx(release(decided()))), base, 'same inputs, same digest');
  const variants: Array<[string, Partial<InputContext>]> = [
    ['engine version', { engine: '1.2.4' }],
    ['policy generation', { policy: policy(2) }],
    ['policy missing', { policy: undefined }],
    ['policy name', { policyName: 'other' }],
    ['signing key', { signingKeyId: 'abc' }],
    ['spec', { release: { ...rel, spec: { ...rel.spec, version: '1.0.1' } } }],
    ['labels', { release: release(decided(), { labels: { team: 'b' } }) }],
    ['uid (re-created)', { release: release(decided(), { uid: 'other' }) }],
    ['generation', { release: release(decided(), { generation: 4 }) }],
    ['outcome (status changed by someone else)', { status: { ...decided(), decision: 'Blocked' } }],
  ];
  for (const [what, over] of variants) assert.notEqual(inputDigest(ctx(rel, over)), base, what);
  // What every write renews is not part of it.
  const renewed = { ...decided(), evaluatedAt: new Date(T0 + 5000).toISOString(), evaluationSequence: 9 } as ProductReleaseStatus;
  assert.equal(inputDigest(ctx(rel, { status: renewed })), base);
});

void test('inputDigest: a policy feed whose content is not known yields no digest (cannot be confirmed)', () => {
  const rel = release(decided());
  const withFeed = ctx(rel, { policy: policy(1, true) });
  assert.ok(inputDigest(withFeed));
  assert.equal(inputDigest({ ...withFeed, feedDigest: () => undefined }), undefined);
  assert.notEqual(inputDigest({ ...withFeed, feedDigest: () => 'sha256:other' }), inputDigest(withFeed), 'feed content changed');
});

void test('restartPlan: unchanged inputs wait for the periodic re-evaluation, a little early, never late', () => {
  const rel = settled();
  const plan = restartPlan(ctx(rel), now, 'ns/r');
  assert.equal(plan.action, 'defer');
  if (plan.action !== 'defer') return;
  const remaining = 5 * HOUR;
  assert.ok(plan.afterMs <= remaining, 'never later than due');
  assert.ok(plan.afterMs >= remaining - MAX_SPREAD_MS, 'spread bounded');
  // Keys decided in one burst are spread apart.
  const afters = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const p = restartPlan(ctx(rel), now, `ns/r-${i}`);
    if (p.action === 'defer') afters.add(p.afterMs);
  }
  assert.ok(afters.size > 40, `due times spread (${afters.size} distinct of 50)`);
  const f = spreadFraction('ns/r');
  assert.ok(f >= 0 && f < 1);
});

void test('restartPlan: fails closed — anything not confirmed unchanged is re-evaluated', () => {
  const cases: Array<[string, ProductRelease, Partial<InputContext>, 'normal' | 'low']> = [
    ['never decided', release(), {}, 'normal'],
    ['spec edited while down', settled(undefined), { release: { ...settled(), metadata: { ...settled().metadata, generation: 4 } } }, 'normal'],
    ['no record', release(decided()), {}, 'low'],
    ['policy changed while down', settled(), { policy: policy(2) }, 'low'],
    ['policy deleted while down', settled(), { policy: undefined }, 'low'],
    ['engine upgraded', settled(), { engine: '2.0.0' }, 'low'],
    ['feed not loaded yet', settled(undefined, { policy: policy(1, true) }), { policy: policy(1, true), feedDigest: () => undefined }, 'low'],
    ['overdue', settled(new Date(T0 + HOUR - 1).toISOString()), {}, 'low'],
    ['unparsable due time', settled('soon'), {}, 'low'],
    ['due time before the decision', settled(new Date(T0 - 1).toISOString()), {}, 'low'],
    ['due time beyond any requeue', settled(new Date(T0 + 30 * 24 * HOUR).toISOString()), {}, 'low'],
    ['signature does not hold', settled(), { signatureHolds: () => false }, 'low'],
  ];
  for (const [what, rel, over, lane] of cases) {
    const c = ctx(rel, over);
    const plan = restartPlan({ ...c, status: c.release.status }, now, 'ns/r');
    assert.equal(plan.action, 'evaluate', what);
    if (plan.action === 'evaluate') assert.equal(plan.priority, lane, what);
  }
  // The status changed by someone else (decision flipped by hand) no longer matches its record.
  const rel = settled();
  const tampered = release({ ...rel.status!, decision: 'Blocked' });
  assert.equal(restartPlan(ctx(tampered), now, 'ns/r').action, 'evaluate');
  // A signature valid past the due time is fine.
  assert.equal(restartPlan(ctx(rel, { signatureHolds: (ms) => ms <= 5 * HOUR }), now, 'ns/r').action, 'defer');
});

void test('needsWrite: a moved due time alone does not force a status write; a changed digest does', () => {
  const at = new Date(T0 + 60_000);
  const prev = decided('sha256:a', new Date(T0 + 6 * HOUR).toISOString());
  const sameDigest = { ...decided('sha256:a', new Date(T0 + 7 * HOUR).toISOString()), evaluatedAt: at.toISOString() } as ProductReleaseStatus;
  assert.equal(needsWrite(prev, sameDigest, at, 10 * 60_000), false);
  const otherDigest = { ...decided('sha256:b'), evaluatedAt: at.toISOString() } as ProductReleaseStatus;
  assert.equal(needsWrite(prev, otherDigest, at, 10 * 60_000), true);
  assert.equal(needsWrite(decided(), sameDigest, at, 10 * 60_000), true, 'a record appears');
});

void test('inputsCurrent: true only when the record matches the inputs now (a feed notice then need not re-evaluate)', () => {
  const over = { policy: policy(1, true) };
  const rel = settled(undefined, over);
  assert.equal(inputsCurrent(ctx(rel, over)), true);
  assert.equal(inputsCurrent(ctx(rel, { ...over, feedDigest: () => 'sha256:new-content' })), false, 'the feed changed');
  assert.equal(inputsCurrent(ctx(rel, { ...over, feedDigest: () => undefined })), false, 'feed not loaded');
  assert.equal(inputsCurrent(ctx(release(decided()), over)), false, 'no record');
  assert.equal(inputsCurrent(ctx({ ...rel, metadata: { ...rel.metadata, generation: 4 } }, over)), false, 'edited');
});
