import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyContact, disclosureContact } from './disclosure.ts';
import { ctx, release } from './testkit.ts';

const manufacturer = { name: 'ACME', email: 'psirt@acme.example', url: 'https://acme.example', address: 'x' };

function run(contact: string | undefined, m: typeof manufacturer | null = manufacturer) {
  return disclosureContact.run(
    ctx(
      release({
        product: { name: 'p', ...(m ? { manufacturer: m } : {}) },
        ...(contact === undefined ? {} : { vulnerabilityHandling: { contact } }),
      }),
    ),
  );
}

void test('disclosure.contact passes for mailto and https reporting pages', () => {
  const table: [string | undefined, RegExp][] = [
    ['mailto:psirt@acme.example', /mailto:psirt@acme.example/],
    ['MAILTO:psirt@acme.example?subject=vuln', /MAILTO/],
    ['mailto:psirt%2Bcra@acme.example', /mailto/],
    ['https://acme.example/security/report', /https:\/\/acme.example\/security\/report/],
    ['https://acme.example/.well-known/security.txt', /security.txt/],
    ['https://security.acme.example/', /dedicated reporting site \(security\.acme\.example\)/],
    ['https://psirt.acme.example', /dedicated reporting site/],
    ['https://bugs.acme.example/', /dedicated reporting site/],
    ['https://bugbounty.acme.example/submit', /dedicated reporting site/],
    ['https://hackerone.com/acme', /a program on hackerone\.com/],
    ['https://app.intigriti.com/programs/acme/acme-router', /a program on intigriti\.com/],
    ['https://github.com/acme/router/security/advisories/new', /a reporting page/],
    ['https://acme.example/en/vulnerability-disclosure', /a reporting page/],
    ['https://acme.example/psirt', /a reporting page/],
    ['https://acme.example/support/cvd', /a reporting page/],
    [undefined, /mailto:psirt@acme.example/], // falls back to the manufacturer email
    ['  ', /mailto:psirt@acme.example/],
  ];
  for (const [contact, message] of table) {
    const out = run(contact);
    assert.equal(out.result, 'Pass', String(contact));
    assert.equal(out.reason, 'Compliant');
    assert.match(out.message, message);
  }
});

void test('disclosure.contact failure paths', () => {
  const table: [string | undefined, typeof manufacturer | null, string, string][] = [
    [undefined, null, 'NoVulnerabilityContact', '/spec/vulnerabilityHandling/contact'],
    [undefined, { ...manufacturer, email: '' }, 'NoVulnerabilityContact', '/spec/vulnerabilityHandling/contact'],
    [undefined, { ...manufacturer, email: 'not an email' }, 'InvalidContact', '/spec/product/manufacturer/email'],
    ['https://acme.example', manufacturer, 'ContactIsHomepage', '/spec/vulnerabilityHandling/contact'],
    ['https://acme.example/', manufacturer, 'ContactIsHomepage', '/spec/vulnerabilityHandling/contact'],
    ['https://other.example/?q=1', manufacturer, 'ContactIsHomepage', '/spec/vulnerabilityHandling/contact'],
    ['https://acme.example/en/', { ...manufacturer, url: 'https://ACME.example/en' }, 'ContactIsHomepage', '/spec/vulnerabilityHandling/contact'],
    ['http://acme.example/security', manufacturer, 'InvalidContact', '/spec/vulnerabilityHandling/contact'],
    ['psirt@acme.example', manufacturer, 'InvalidContact', '/spec/vulnerabilityHandling/contact'],
    ['mailto:', manufacturer, 'InvalidContact', '/spec/vulnerabilityHandling/contact'],
    ['mailto:a@b.example,c@d.example', manufacturer, 'InvalidContact', '/spec/vulnerabilityHandling/contact'],
    ['mailto:%E0%A4%A', manufacturer, 'InvalidContact', '/spec/vulnerabilityHandling/contact'],
    ['tel:+4930123', manufacturer, 'InvalidContact', '/spec/vulnerabilityHandling/contact'],
    ['https://hackerone.com/', manufacturer, 'ContactIsHomepage', '/spec/vulnerabilityHandling/contact'],
    ['https://www.acme.example/', manufacturer, 'ContactIsHomepage', '/spec/vulnerabilityHandling/contact'],
    ['https://acme.example/products/router', manufacturer, 'ContactNotReportingChannel', '/spec/vulnerabilityHandling/contact'],
    ['https://acme.example/contact', manufacturer, 'ContactNotReportingChannel', '/spec/vulnerabilityHandling/contact'],
    ['https://acme.example/securityfeatures', manufacturer, 'ContactNotReportingChannel', '/spec/vulnerabilityHandling/contact'],
    ['https://insecurity.example/about', manufacturer, 'ContactNotReportingChannel', '/spec/vulnerabilityHandling/contact'],
    ['not a url', manufacturer, 'InvalidContact', '/spec/vulnerabilityHandling/contact'],
  ];
  for (const [contact, m, reason, pointer] of table) {
    const out = run(contact, m);
    assert.equal(out.result, 'Fail', String(contact));
    assert.equal(out.reason, reason, String(contact));
    assert.equal(out.findings?.[0]?.pointer, pointer, String(contact));
  }
  assert.match(run('psirt@acme.example').message, /use mailto:psirt@acme.example/);
  assert.match(run('https://acme.example/').message, /homepage/);
});

void test('classifyContact reports the kind and why', () => {
  assert.deepEqual(classifyContact('mailto:a@b.example'), { ok: true, kind: 'mailto', why: 'an email address' });
  assert.deepEqual(classifyContact('https://b.example/cvd'), { ok: true, kind: 'https', why: 'a reporting page' });
  assert.deepEqual(classifyContact('https://b.example/cvd', 'not a url'), { ok: true, kind: 'https', why: 'a reporting page' });
});

void test('a Contact of the release\'s own security.txt is a reporting channel whatever its URL looks like', () => {
  const txt = `Contact: https://acme.example/forms/42\nContact: mailto:psirt@acme.example\nExpires: 2030-01-01T00:00:00Z\nPolicy: https://acme.example/security/cvd\n`;
  const withTxt = (contact: string, text = txt, ok = true) => disclosureContact.run(ctx(
    release({ product: { name: 'p', manufacturer }, vulnerabilityHandling: { contact, securityTxt: 'https://acme.example/.well-known/security.txt' } }),
    {}, undefined,
    { disclosure: { securityTxt: { url: 'https://acme.example/.well-known/security.txt', ok, ...(ok ? { text } : {}) } } },
  ));
  assert.deepEqual([withTxt('https://acme.example/forms/42/').result, withTxt('https://acme.example/forms/42').message], ['Pass', 'vulnerability reports go to https://acme.example/forms/42 (listed as Contact in security.txt)']);
  assert.match(withTxt('mailto:PSIRT@acme.example').message, /listed in security\.txt/);
  assert.equal(withTxt('https://acme.example/forms/43').reason, 'ContactNotReportingChannel');
  assert.equal(withTxt('https://acme.example/forms/42', txt, false).reason, 'ContactNotReportingChannel', 'an unfetched security.txt lists nothing');
});
