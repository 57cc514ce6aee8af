import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conformityRoute, allowedModules } from './conformity.ts';
import { ctx, release } from './testkit.ts';
import { PRODUCT_CATEGORIES, productCategory } from '../conformity/categories.ts';

type Spec = Record<string, unknown>;
const run = (category: string | undefined, conformity: Spec | undefined, params: Record<string, unknown> = {}) =>
  conformityRoute.run(ctx(release({ product: { name: 'p', ...(category !== undefined ? { category } : {}) }, ...(conformity ? { conformity } : {}) } as never), params));

const full = [{ kind: 'HarmonisedStandard', reference: 'EN 18031-1:2024', application: 'Full' }];
const partial = [{ kind: 'HarmonisedStandard', reference: 'EN 18031-1:2024', application: 'Partial' }];
const nb = { notifiedBody: { number: '0123', name: 'NB GmbH' }, certificate: { id: 'EUTEC-2027-42' } };

void test('the category list is Annex III (19 class I, 4 class II), Annex IV (3) and default; ids unique', () => {
  const count = (cls: string) => PRODUCT_CATEGORIES.filter((c) => c.cls === cls).length;
  assert.equal(count('important-class-i'), 19);
  assert.equal(count('important-class-ii'), 4);
  assert.equal(count('critical'), 3);
  assert.equal(count('default'), 1);
  assert.equal(new Set(PRODUCT_CATEGORIES.map((c) => c.id)).size, PRODUCT_CATEGORIES.length);
  assert.equal(productCategory('router-modem-switch')?.ref, 'Annex III Class I(12)');
  assert.equal(productCategory('firewall-ids-ips')?.ref, 'Annex III Class II(2)');
  assert.equal(productCategory('smartcard-secure-element')?.ref, 'Annex IV(3)');
});

void test('default: any procedure of Art. 32(1)', () => {
  for (const module of ['A', 'B+C', 'H', 'EUCC']) {
    const out = run('default', { module, ...(module === 'A' ? {} : nb) });
    assert.equal(out.result, 'Pass', module);
    assert.match(out.message, /Art\. 32\(1\)/);
  }
});

void test('class I: module A only with standards applied in full (Art. 32(2))', () => {
  assert.equal(run('router-modem-switch', { module: 'A', standards: full }).result, 'Pass');
  const noStd = run('router-modem-switch', { module: 'A' });
  assert.equal(noStd.result, 'Fail');
  assert.equal(noStd.reason, 'ConformityRouteNotAllowed');
  assert.deepEqual(noStd.findings?.map((f) => f.pointer), ['/spec/conformity/module']);
  const part = run('router-modem-switch', { module: 'A', standards: partial });
  assert.equal(part.result, 'Fail');
  assert.match(part.message, /applied in part only: EN 18031-1:2024/);
  // A certification scheme counts only from assurance level "substantial".
  assert.equal(run('browser', { module: 'A', standards: [{ kind: 'CertificationScheme', reference: 'EUCC', application: 'Full', assuranceLevel: 'basic' }] }).result, 'Fail');
  assert.equal(run('browser', { module: 'A', standards: [{ kind: 'CertificationScheme', reference: 'EUCC', application: 'Full', assuranceLevel: 'substantial' }] }).result, 'Pass');
  // Other specifications do not open module A.
  assert.equal(run('vpn', { module: 'A', standards: [{ kind: 'OtherSpecification', reference: 'ETSI EN 303 645', application: 'Full' }] }).result, 'Fail');
  assert.equal(run('vpn', { module: 'B+C', ...nb }).result, 'Pass');
  assert.equal(run('vpn', { module: 'H', ...nb }).result, 'Pass');
});

void test('class II: B+C, H or a certificate (Art. 32(3)); never module A', () => {
  assert.equal(run('firewall-ids-ips', { module: 'A', standards: full }).result, 'Fail');
  for (const module of ['B+C', 'H', 'EUCC']) assert.equal(run('hypervisor-container-runtime', { module, ...nb }).result, 'Pass', module);
});

void test('Art. 32(5): free and open-source software in Annex III may use module A with public technical documentation', () => {
  const foss = { freeAndOpenSource: { technicalDocumentationUrl: 'https://docs.example.org/techdoc' } };
  assert.equal(run('firewall-ids-ips', { module: 'A', ...foss }).result, 'Pass');
  assert.equal(run('operating-system', { module: 'A', ...foss }).result, 'Pass');
  // Not for Annex IV.
  assert.equal(run('smart-meter-gateway', { module: 'A', ...foss }).result, 'Fail');
});

void test('critical: a certificate where a delegated act requires it (param), otherwise as class II (Art. 8(1), 32(4))', () => {
  assert.equal(run('smartcard-secure-element', { module: 'H', ...nb }).result, 'Pass');
  const req = run('smartcard-secure-element', { module: 'H', ...nb }, { certificateRequired: ['smartcard-secure-element'] });
  assert.equal(req.result, 'Fail');
  assert.match(req.message, /Art\. 8\(1\)/);
  assert.equal(run('smartcard-secure-element', { module: 'EUCC', certificate: { id: 'EUCC-1' } }, { certificateRequired: ['smartcard-secure-element'] }).result, 'Pass');
  assert.equal(run('hardware-security-box', { module: 'A', standards: full }).result, 'Fail');
  assert.equal(run('default', { module: 'A' }, { certificateRequired: ['browser'] }).result, 'Error');
  assert.equal(run('default', { module: 'A' }, { certificateRequired: 'x' }).reason, 'InvalidCheckParams');
});

void test('B+C and H name the notified body (4 digits) and certificate; EUCC names the certificate', () => {
  const noNb = run('firewall-ids-ips', { module: 'B+C' });
  assert.equal(noNb.result, 'Fail');
  assert.equal(noNb.reason, 'NotifiedBodyMissing');
  assert.deepEqual(noNb.findings?.map((f) => f.pointer), ['/spec/conformity/notifiedBody/number', '/spec/conformity/certificate']);
  assert.equal(run('firewall-ids-ips', { module: 'H', notifiedBody: { number: '12' }, certificate: { id: 'c' } }).reason, 'NotifiedBodyMissing');
  assert.equal(run('firewall-ids-ips', { module: 'EUCC' }).reason, 'NotifiedBodyMissing');
  assert.equal(run('firewall-ids-ips', { module: 'EUCC', certificate: { url: 'https://certs.example/1' } }).result, 'Pass');
});

void test('missing or unknown category or procedure fails closed', () => {
  const none = run(undefined, { module: 'A' });
  assert.equal(none.result, 'Fail');
  assert.equal(none.reason, 'NoProductCategory');
  assert.equal(run('toaster', { module: 'A' }).reason, 'NoProductCategory');
  const noModule = run('default', undefined);
  assert.equal(noModule.reason, 'NoConformityRoute');
  assert.deepEqual(noModule.findings?.map((f) => f.pointer), ['/spec/conformity/module']);
  assert.equal(run('default', { module: 'Z' }).reason, 'NoConformityRoute');
});

void test('allowedModules is the Art. 32 table', () => {
  const c = (id: string) => productCategory(id)!;
  assert.deepEqual(allowedModules(c('default'), {}, new Set()).allowed, ['A', 'B+C', 'H', 'EUCC']);
  assert.deepEqual(allowedModules(c('password-manager'), {}, new Set()).allowed, ['B+C', 'H']);
  assert.deepEqual(allowedModules(c('password-manager'), { standards: full }, new Set()).allowed, ['A', 'B+C', 'H', 'EUCC']);
  assert.deepEqual(allowedModules(c('tamper-resistant-microcontroller'), {}, new Set()).allowed, ['B+C', 'H', 'EUCC']);
  assert.deepEqual(allowedModules(c('smart-meter-gateway'), {}, new Set(['smart-meter-gateway'])).allowed, ['EUCC']);
});
