import { test } from 'node:test';
import assert from 'node:assert/strict';
import { craApplicability } from './applicability.ts';
import { ctx, release } from './testkit.ts';
import type { ReleasePolicy } from './api.ts';
import { evaluate } from '../engine/evaluate.ts';

void test('cra.applicability: table', () => {
  const table: [string | undefined, string, string, RegExp][] = [
    ['2028-01-15', 'Pass', 'Compliant', /all CRA obligations apply/],
    ['2027-12-11', 'Pass', 'Compliant', /all CRA obligations apply/],
    ['2027-12-10', 'Pass', 'Compliant', /reporting \(Art\. 14\) applies; other obligations bind releases placed from 2027-12-11/],
    ['2026-09-11', 'Pass', 'Compliant', /reporting \(Art\. 14\) applies/],
    ['2026-09-10', 'Pass', 'Compliant', /before CRA dates; reporting \(Art\. 14\) applies from 2026-09-11/],
    [undefined, 'Fail', 'MissingPlacedOnMarket', /not set/],
    ['', 'Fail', 'MissingPlacedOnMarket', /not set/],
    ['2027-02-29', 'Fail', 'InvalidDate', /not a valid YYYY-MM-DD/],
    ['2028/01/15', 'Fail', 'InvalidDate', /not a valid/],
  ];
  for (const [placed, result, reason, message] of table) {
    const out = craApplicability.run(ctx(release(placed === undefined ? {} : { placedOnMarket: placed })));
    assert.equal(out.result, result, String(placed));
    assert.equal(out.reason, reason, String(placed));
    assert.match(out.message, message, String(placed));
    if (result === 'Fail') assert.equal(out.findings?.[0]?.pointer, '/spec/placedOnMarket');
  }
});

void test('cra.applicability: metadata', () => {
  assert.deepEqual(craApplicability.cra, ['Art. 69', 'Art. 71']);
  assert.equal(craApplicability.inForceFrom, '2026-09-11');
});

void test('cra.applicability: a placedOnMarket the evidence contradicts fails, and no Block turns into Warn (issue 13 item 5)', () => {
  const base = release({ placedOnMarket: '2025-01-01', updates: { channel: 'http://insecure.example/fw', automatic: true } });
  const rel = { ...base, metadata: { ...base.metadata, creationTimestamp: new Date('2026-12-01T08:00:00Z') } };
  const out = craApplicability.run(ctx(rel));
  assert.deepEqual([out.result, out.reason], ['Fail', 'PlacedOnMarketImplausible']);
  assert.match(out.message, /placedOnMarket 2025-01-01 is before the ProductRelease creationTimestamp 2026-12-01T08:00:00.000Z: all CRA obligations are treated as in force/);
  assert.deepEqual(out.findings?.map((f) => f.pointer), ['/spec/placedOnMarket', '/metadata/creationTimestamp']);
  assert.equal(craApplicability.run(ctx(rel, { placedOnMarketToleranceDays: 800 })).result, 'Pass');
  assert.match(craApplicability.run(ctx(rel, { placedOnMarketToleranceDays: 800 })).message, /no evidence time to compare it with/, 'creationTimestamp is compared but not counted: the offline CLI has none');
  assert.equal(craApplicability.run(ctx(rel, { placedOnMarketToleranceDays: 'x' })).reason, 'InvalidCheckParams');

  const policy = (params?: Record<string, unknown>): ReleasePolicy => ({
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'p' },
    spec: { checks: [{ id: 'cra.applicability', enforcement: 'Warn', ...(params ? { params } : {}) }, { id: 'update.channel', enforcement: 'Block' }] },
  });
  const now = new Date('2026-12-06T12:00:00Z');
  // trusted date before the CRA dates: update.channel only warns
  const trusted = evaluate({ release: base, policy: policy(), policyName: 'p', now });
  assert.equal(trusted.decision, 'Approved');
  assert.equal(trusted.checks.find((c) => c.id === 'update.channel')?.enforcement, 'Warn');
  // contradicted by creationTimestamp: it blocks
  const doubted = evaluate({ release: rel, policy: policy(), policyName: 'p', now });
  assert.equal(doubted.decision, 'Blocked');
  assert.equal(doubted.checks.find((c) => c.id === 'update.channel')?.enforcement, 'Block');
  assert.equal(doubted.checks.find((c) => c.id === 'cra.applicability')?.reason, 'PlacedOnMarketImplausible');
  // within the policy's tolerance: warns again; an invalid tolerance is the strictest
  assert.equal(evaluate({ release: rel, policy: policy({ placedOnMarketToleranceDays: 800 }), policyName: 'p', now }).decision, 'Approved');
  assert.equal(evaluate({ release: rel, policy: policy({ placedOnMarketToleranceDays: -3 }), policyName: 'p', now }).decision, 'Blocked');
});
