import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelProblem, updateChannel, updateSupportPeriod } from './update.ts';
import { ctx, goodRelease, release } from './testkit.ts';
import type { ProductReleaseSpec } from './api.ts';

type Updates = NonNullable<ProductReleaseSpec['updates']>;
const channel = 'https://updates.acme.example/router/stable.json';

void test('update.channel passes', () => {
  const table: [Updates, RegExp][] = [
    [{ channel, automatic: true }, /automatic updates/],
    [{ channel, automatic: false, manualJustification: 'air-gapped OT installs; operators apply signed bundles' }, /manual \(justified\)/],
    [{ channel, manualJustification: 'updates are staged by the plant operator' }, /manual \(justified\)/],
  ];
  for (const [updates, message] of table) {
    const out = updateChannel.run(ctx(release({ updates })));
    assert.equal(out.result, 'Pass', JSON.stringify(updates));
    assert.equal(out.reason, 'Compliant');
    assert.match(out.message, message);
  }
});

void test('update.channel failure paths', () => {
  const table: [Updates | undefined, string, string[], RegExp][] = [
    [undefined, 'NoUpdateChannel', ['/spec/updates/channel', '/spec/updates/automatic'], /no update channel declared; automatic is not set/],
    [{ automatic: true }, 'NoUpdateChannel', ['/spec/updates/channel'], /no update channel/],
    [{ channel: '  ', automatic: true }, 'NoUpdateChannel', ['/spec/updates/channel'], /no update channel/],
    [{ channel: 'http://updates.acme.example/x', automatic: true }, 'InsecureUpdateChannel', ['/spec/updates/channel'], /uses http, not https/],
    [{ channel: 'ftp://updates.acme.example/x', automatic: true }, 'InsecureUpdateChannel', ['/spec/updates/channel'], /uses ftp/],
    [{ channel: 'updates.acme.example/x', automatic: true }, 'InsecureUpdateChannel', ['/spec/updates/channel'], /is not a URL/],
    [{ channel: 'https://u:p@updates.acme.example/x', automatic: true }, 'InsecureUpdateChannel', ['/spec/updates/channel'], /embeds credentials/],
    [{ channel, automatic: false }, 'ManualUpdatesWithoutJustification', ['/spec/updates/manualJustification'], /off without a manualJustification/],
    [{ channel, automatic: false, manualJustification: ' ' }, 'ManualUpdatesWithoutJustification', ['/spec/updates/manualJustification'], /off/],
    [{ channel }, 'ManualUpdatesWithoutJustification', ['/spec/updates/automatic'], /automatic is not set/],
    [{ channel: 'http://x.example', automatic: false }, 'InsecureUpdateChannel', ['/spec/updates/channel', '/spec/updates/manualJustification'], /not https; automatic/],
  ];
  for (const [updates, reason, pointers, message] of table) {
    const out = updateChannel.run(ctx(release(updates ? { updates } : {})));
    assert.equal(out.result, 'Fail', JSON.stringify(updates));
    assert.equal(out.reason, reason, JSON.stringify(updates));
    assert.deepEqual(out.findings?.map((f) => f.pointer), pointers, JSON.stringify(updates));
    assert.match(out.message, message);
  }
});

void test('update.channel: probe param', () => {
  const rel = release({ updates: { channel, automatic: true } });
  assert.equal(updateChannel.run(ctx(rel, { probe: false })).result, 'Pass');
  const probed = updateChannel.run(ctx(rel, { probe: true }));
  assert.equal(probed.result, 'Error');
  assert.equal(probed.reason, 'EvidenceUnavailable');
  assert.equal(updateChannel.run(ctx(rel, { probe: 'yes' })).reason, 'InvalidCheckParams');
});

void test('channelProblem', () => {
  assert.equal(channelProblem('https://a.example/x.json'), undefined);
  assert.equal(channelProblem('HTTPS://A.EXAMPLE/'), undefined);
  assert.match(channelProblem('x'.repeat(500))!, /…/);
});

function support(placedOnMarket: string | undefined, updates: Updates, params: Record<string, unknown> = {}) {
  const spec: Partial<ProductReleaseSpec> = { updates: { channel, automatic: true, ...updates } };
  if (placedOnMarket !== undefined) spec.placedOnMarket = placedOnMarket;
  return updateSupportPeriod.run(ctx(release(spec), params));
}

void test('update.support-period: month boundaries, YYYY-MM vs YYYY-MM-DD, leap years', () => {
  const table: [string, string, string, RegExp][] = [
    // YYYY-MM runs to the end of the month
    ['2028-01-15', '2033-01', 'Pass', /support 60 months \(2028-01-15 to end of 2033-01\)/],
    ['2028-01-01', '2032-12', 'Pass', /support 60 months/],
    ['2028-01-02', '2032-12', 'Fail', /support 59 months .* need supportEnd ≥ 2033-01-01/],
    ['2028-01-31', '2032-12', 'Fail', /59 months/],
    ['2028-01-31', '2033-01', 'Pass', /60 months/],
    // YYYY-MM-DD is inclusive of that day
    ['2028-01-15', '2033-01-14', 'Pass', /60 months/],
    ['2028-01-15', '2033-01-13', 'Fail', /59 months.*need supportEnd ≥ 2033-01-14/],
    // leap day placement: Feb 29 + 60 months clamps to Feb 28
    ['2028-02-29', '2033-02-27', 'Pass', /60 months/],
    ['2028-02-29', '2033-02-26', 'Fail', /59 months/],
    ['2028-02-29', '2033-02', 'Pass', /60 months/],
    // leap-year supportEnd
    ['2027-03-01', '2032-02-29', 'Pass', /60 months/],
    ['2027-03-01', '2032-02', 'Pass', /60 months/],
    ['2027-03-01', '2032-02-28', 'Fail', /59 months/],
    // long period
    ['2028-01-15', '2040-06', 'Pass', /149 months/],
  ];
  for (const [placed, end, result, message] of table) {
    const out = support(placed, { supportEnd: end });
    assert.equal(out.result, result, `${placed} → ${end}: ${out.message}`);
    assert.equal(out.reason, result === 'Pass' ? 'Compliant' : 'SupportPeriodTooShort');
    assert.match(out.message, message, out.message);
  }
});

void test('update.support-period: missing and invalid dates fail', () => {
  const table: [string | undefined, Updates, string, string][] = [
    [undefined, { supportEnd: '2033-01' }, 'MissingPlacedOnMarket', '/spec/placedOnMarket'],
    ['2028-13-01', { supportEnd: '2033-01' }, 'InvalidDate', '/spec/placedOnMarket'],
    ['2028-01-15', {}, 'MissingSupportEnd', '/spec/updates/supportEnd'],
    ['2028-01-15', { supportEnd: '2033-02-30' }, 'InvalidDate', '/spec/updates/supportEnd'],
    ['2028-01-15', { supportEnd: '2033' }, 'InvalidDate', '/spec/updates/supportEnd'],
    ['2028-01-15', { supportEnd: '2027-12' }, 'SupportPeriodTooShort', '/spec/updates/supportEnd'],
  ];
  for (const [placed, updates, reason, pointer] of table) {
    const out = support(placed, updates);
    assert.equal(out.result, 'Fail', JSON.stringify([placed, updates]));
    assert.equal(out.reason, reason);
    assert.equal(out.findings?.[0]?.pointer, pointer);
  }
  assert.match(support('2028-01-15', { supportEnd: '2027-12' }).message, /before placedOnMarket/);
});

void test('update.support-period: expected use period', () => {
  const table: [Updates, string, string, RegExp][] = [
    // shorter expected use with rationale, covered
    [{ supportEnd: '2031-01', expectedUsePeriod: { months: 36, rationale: 'trade-fair demo unit' } }, 'Pass', 'Compliant', /36 months .* expected use period of 36 months/],
    // shorter expected use, not covered
    [{ supportEnd: '2030-01', expectedUsePeriod: { months: 36, rationale: 'demo unit' } }, 'Fail', 'SupportPeriodTooShort', /24 months .* below the expected use period of 36 months/],
    // shorter expected use without rationale
    [{ supportEnd: '2031-01', expectedUsePeriod: { months: 36, rationale: ' ' } }, 'Fail', 'MissingExpectedUseRationale', /36 months is below 60/],
    // longer expected use: support must reflect it (Art. 13(8))
    [{ supportEnd: '2033-01', expectedUsePeriod: { months: 120, rationale: 'industrial router' } }, 'Fail', 'SupportPeriodTooShort', /below the expected use period of 120 months/],
    [{ supportEnd: '2038-01', expectedUsePeriod: { months: 120, rationale: 'industrial router' } }, 'Pass', 'Compliant', /120 months/],
    // equal to minimum
    [{ supportEnd: '2033-01', expectedUsePeriod: { months: 60, rationale: '' } }, 'Pass', 'Compliant', /60-month minimum/],
    // invalid months
    [{ supportEnd: '2033-01', expectedUsePeriod: { months: 0, rationale: 'x' } }, 'Fail', 'InvalidSpec', /positive integer/],
    [{ supportEnd: '2033-01', expectedUsePeriod: { months: 1.5, rationale: 'x' } }, 'Fail', 'InvalidSpec', /positive integer/],
  ];
  for (const [updates, result, reason, message] of table) {
    const out = support('2028-01-15', updates);
    assert.equal(out.result, result, JSON.stringify(updates));
    assert.equal(out.reason, reason, JSON.stringify(updates));
    assert.match(out.message, message, out.message);
  }
});

void test('update.support-period: minimumMonths param', () => {
  assert.equal(support('2028-01-15', { supportEnd: '2033-01' }, { minimumMonths: 84 }).reason, 'SupportPeriodTooShort');
  assert.match(support('2028-01-15', { supportEnd: '2033-01' }, { minimumMonths: 84 }).message, /84-month minimum/);
  assert.equal(support('2028-01-15', { supportEnd: '2035-01' }, { minimumMonths: 84 }).result, 'Pass');
  for (const bad of ['60', 0, -1, 2.5, null]) {
    const out = support('2028-01-15', { supportEnd: '2033-01' }, { minimumMonths: bad });
    assert.equal(out.result, 'Error', String(bad));
    assert.equal(out.reason, 'InvalidCheckParams');
  }
});

void test('goodRelease passes both update checks', () => {
  assert.equal(updateChannel.run(ctx(goodRelease())).result, 'Pass');
  assert.equal(updateSupportPeriod.run(ctx(goodRelease())).result, 'Pass');
});

void test('update.support-period: fails once the evaluation time is past supportEnd; changesAt is that moment', () => {
  const rel = release({ placedOnMarket: '2028-01-15', updates: { channel, automatic: true, supportEnd: '2033-01' } });
  const end = new Date('2033-02-01T00:00:00Z');
  const before = updateSupportPeriod.run(ctx(rel, {}, new Date(end.getTime() - 1)));
  assert.equal(before.result, 'Pass');
  assert.equal(before.changesAt?.toISOString(), end.toISOString());
  for (const now of [end, new Date('2040-06-01T00:00:00Z')]) {
    const after = updateSupportPeriod.run(ctx(rel, {}, now));
    assert.deepEqual([after.result, after.reason], ['Fail', 'SupportEnded'], now.toISOString());
    assert.equal(after.findings?.[0]?.pointer, '/spec/updates/supportEnd');
    assert.match(after.message, /support period ended with 2033-01/);
    assert.equal(after.changesAt, undefined);
  }
  // a YYYY-MM-DD supportEnd is inclusive: support ends at the following midnight UTC
  const day = release({ placedOnMarket: '2028-01-15', updates: { channel, automatic: true, supportEnd: '2033-01-20' } });
  assert.equal(updateSupportPeriod.run(ctx(day, {}, new Date('2033-01-20T23:59:59Z'))).result, 'Pass');
  assert.equal(updateSupportPeriod.run(ctx(day, {}, new Date('2033-01-21T00:00:00Z'))).reason, 'SupportEnded');
  // too short and ended: both findings
  const short = updateSupportPeriod.run(ctx(release({ placedOnMarket: '2028-01-15', updates: { channel, automatic: true, supportEnd: '2030-01' } }), {}, new Date('2031-01-01T00:00:00Z')));
  assert.equal(short.reason, 'SupportPeriodTooShort');
  assert.equal(short.findings?.length, 2);
  assert.match(short.message, /support has also ended/);
});
