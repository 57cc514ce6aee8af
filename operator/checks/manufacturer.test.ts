import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEmailAddress, manufacturerIdentity } from './manufacturer.ts';
import { ctx, release } from './testkit.ts';
import type { Manufacturer } from './api.ts';

const full: Manufacturer = {
  name: 'ACME Networks GmbH',
  email: 'psirt@acme.example',
  url: 'https://acme.example',
  address: 'Musterstr. 1, 10115 Berlin, DE',
};

function run(m: Manufacturer | undefined) {
  return manufacturerIdentity.run(ctx(release({ product: { name: 'acme-router', ...(m ? { manufacturer: m } : {}) } })));
}

void test('manufacturer.identity passes with name, address and email or url', () => {
  for (const m of [full, { ...full, url: undefined }, { ...full, email: undefined }, { ...full, email: 'not-an-email' }]) {
    const out = run(m);
    assert.equal(out.result, 'Pass', JSON.stringify(m));
    assert.equal(out.reason, 'Compliant');
    assert.match(out.message, /ACME Networks GmbH/);
  }
});

void test('manufacturer.identity: each missing field has its reason and pointer', () => {
  const table: [Manufacturer, string, string[], RegExp][] = [
    [{ ...full, name: undefined }, 'MissingManufacturerName', ['/spec/product/manufacturer/name'], /name is missing/],
    [{ ...full, name: '   ' }, 'MissingManufacturerName', ['/spec/product/manufacturer/name'], /name/],
    [{ ...full, address: '' }, 'MissingPostalAddress', ['/spec/product/manufacturer/address'], /postal address/],
    [{ ...full, email: undefined, url: undefined }, 'MissingContactChannel', ['/spec/product/manufacturer/email'], /neither email nor url/],
    [{ ...full, email: 'psirt(at)acme', url: undefined }, 'MissingContactChannel', ['/spec/product/manufacturer/email'], /not a valid address/],
    [{ ...full, email: undefined, url: 'ftp://acme.example' }, 'MissingContactChannel', ['/spec/product/manufacturer/url'], /not an http\(s\) URL/],
    [
      { email: 'x@y.example' },
      'IncompleteManufacturerIdentity',
      ['/spec/product/manufacturer/name', '/spec/product/manufacturer/address'],
      /name is missing; postal address is missing/,
    ],
  ];
  for (const [m, reason, pointers, message] of table) {
    const out = run(m);
    assert.equal(out.result, 'Fail');
    assert.equal(out.reason, reason, JSON.stringify(m));
    assert.deepEqual(out.findings?.map((f) => f.pointer), pointers);
    assert.match(out.message, message);
  }
});

void test('manufacturer.identity: no manufacturer at all lists three findings', () => {
  const out = run(undefined);
  assert.equal(out.reason, 'IncompleteManufacturerIdentity');
  assert.equal(out.findings?.length, 3);
});

void test('isEmailAddress', () => {
  for (const ok of ['a@b.co', 'psirt+cra@acme.example', 'first.last@sub.acme.example']) assert.ok(isEmailAddress(ok), ok);
  for (const bad of ['', 'a@b', '@b.co', 'a@', 'a b@c.de', 'a@b.co,c@d.de', `${'x'.repeat(250)}@b.co`]) assert.ok(!isEmailAddress(bad), bad);
});
