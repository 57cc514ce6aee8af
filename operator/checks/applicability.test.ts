import { test } from 'node:test';
import assert from 'node:assert/strict';
import { craApplicability } from './applicability.ts';
import { ctx, release } from './testkit.ts';

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
