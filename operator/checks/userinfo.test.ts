import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userInformationAnnexII } from './userinfo.ts';
import { ctx, goodRelease } from './testkit.ts';
import { ANNEX_II_ITEMS, statesSupportEnd, supportEndRenderings, type UserInformationSpec } from '../conformity/user-information.ts';
import type { Evidence } from './types.ts';

const text = (t: string) => ({ text: t });
const complete: UserInformationSpec = {
  productIdentification: text('ACME router AR-2400, hardware revision B, firmware 2.4.0; serial on the label'),
  intendedPurpose: text('Home and small-office internet router'),
  foreseeableMisuse: text('Exposing the admin interface to the internet'),
  supportPeriod: text('Security updates until 31 January 2033 (end of support).'),
  secureCommissioning: text('Change the admin password at first login'),
  changesAffectingSecurity: text('Third-party firmware voids signature checks'),
  installingUpdates: text('Updates install automatically; manual upload under System > Update'),
  secureDecommissioning: text('Factory reset erases all user data'),
  disablingAutomaticUpdates: text('System > Update > Automatic: off'),
};
const run = (ui: UserInformationSpec | undefined, evidence: Evidence = {}, supportEnd = '2033-01') =>
  userInformationAnnexII.run(
    ctx(goodRelease({ ...(ui ? { userInformation: ui } : {}), updates: { channel: 'https://u.example/x', automatic: true, supportEnd } }), {}, new Date('2028-02-01T00:00:00Z'), evidence),
  );

void test('every required Annex II item given → Pass', () => {
  const out = run(complete);
  assert.equal(out.result, 'Pass', out.message);
});

void test('each required item, when missing, is a finding at its pointer', () => {
  for (const item of ANNEX_II_ITEMS.filter((i) => i.required === 'always' || i.required === 'automatic-updates')) {
    const ui: Record<string, unknown> = { ...complete };
    delete ui[item.key];
    const out = run(ui);
    assert.equal(out.result, 'Fail', item.key);
    assert.ok(out.findings?.some((f) => f.pointer === `/spec/userInformation/${item.key}`), item.key);
  }
  const none = run(undefined);
  assert.equal(none.result, 'Fail');
  assert.equal(none.reason, 'UserInformationMissing');
});

void test('conditional items: (8)(e) only with automatic updates, (9) only when the SBOM is made available', () => {
  const { disablingAutomaticUpdates: _d, ...rest } = complete;
  const manual = userInformationAnnexII.run(ctx(goodRelease({ userInformation: rest, updates: { channel: 'https://u.example/x', automatic: false, manualJustification: 'OT', supportEnd: '2033-01' } })));
  assert.equal(manual.result, 'Pass', manual.message);
  const sbom = run({ ...complete, sbomAvailableToUsers: true });
  assert.equal(sbom.result, 'Fail');
  assert.ok(sbom.findings?.some((f) => f.pointer === '/spec/userInformation/sbomLocation'));
  assert.equal(run({ ...complete, sbomAvailableToUsers: true, sbomLocation: text('https://acme.example/sbom') }).result, 'Pass');
});

void test('URLs: not fetched → Error; not resolving → Fail; resolving → counted', () => {
  const ui = { ...complete, intendedPurpose: { url: 'https://acme.example/purpose' } };
  assert.equal(run(ui).result, 'Error');
  const bad = run(ui, { userInformation: { intendedPurpose: { url: 'https://acme.example/purpose', ok: false, error: { reason: 'FetchFailed', message: 'HTTP 404', httpStatus: 404 } } } });
  assert.equal(bad.result, 'Fail');
  assert.equal(bad.reason, 'UserInformationUnreachable');
  assert.deepEqual(bad.findings?.map((f) => f.pointer), ['/spec/userInformation/intendedPurpose/url']);
  // Not assessable (network, TLS, SSRF guard, --offline): Error, never Pass or a verdict on the manufacturer.
  const net = run(ui, { userInformation: { intendedPurpose: { url: 'https://acme.example/purpose', ok: false, error: { reason: 'EvidenceUnavailable', message: 'not fetched (--offline)' } } } });
  assert.equal(net.result, 'Error');
  assert.equal(net.reason, 'EvidenceUnavailable');
  const ok = run(ui, { userInformation: { intendedPurpose: { url: 'https://acme.example/purpose', ok: true, status: 200, digest: 'sha256:00' } } });
  assert.equal(ok.result, 'Pass', ok.message);
});

void test('the support end stated to users must be spec.updates.supportEnd (Art. 13(19))', () => {
  const wrong = run({ ...complete, supportPeriod: text('Security updates until 31 December 2032.') });
  assert.equal(wrong.result, 'Fail');
  assert.equal(wrong.reason, 'SupportEndMismatch');
  // From a fetched document.
  const ui = { ...complete, supportPeriod: { url: 'https://acme.example/support' } };
  const fetched = (t: string): Evidence => ({ userInformation: { supportPeriod: { url: 'https://acme.example/support', ok: true, status: 200, text: t } } });
  assert.equal(run(ui, fetched('<p>Supported until <b>2033-01-31</b></p>')).result, 'Pass');
  assert.equal(run(ui, fetched('<p>Supported until 2034-01-31</p>')).reason, 'SupportEndMismatch');
  // A document whose text was not kept (e.g. binary) cannot show the date: never a pass.
  assert.equal(run(ui, { userInformation: { supportPeriod: { url: 'https://acme.example/support', ok: true, status: 200 } } }).result, 'Fail');
});

void test('support end renderings: month and day forms, whole tokens only', () => {
  assert.ok(supportEndRenderings('2033-01').includes('January 2033'));
  assert.ok(supportEndRenderings('2033-01').includes('31.01.2033'));
  assert.ok(supportEndRenderings('2032-02').includes('29 February 2032'), 'leap year end of month');
  for (const t of ['until 2033-01-31.', 'bis 31.01.2033', 'until January 31, 2033', 'until 31 Jan 2033', 'through January 2033', '(01/2033)']) assert.ok(statesSupportEnd(t, '2033-01'), t);
  assert.ok(!statesSupportEnd('until 2033-01-311', '2033-01'));
  assert.ok(!statesSupportEnd('until 12033-01-31', '2033-01'));
  assert.ok(statesSupportEnd('until 5 March 2031', '2031-03-05'));
  assert.ok(!statesSupportEnd('until March 2031', '2031-03-05'), 'a day date needs the day');
});
