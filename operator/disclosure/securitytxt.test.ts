import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSecurityTxt } from './securitytxt.ts';

const now = new Date('2026-06-01T00:00:00Z');

describe('security.txt (RFC 9116)', () => {
  it('accepts a valid file, comments and case-insensitive names', () => {
    const r = parseSecurityTxt('# Our security policy\nContact: mailto:psirt@acme.example\ncontact: https://acme.example/report\nEXPIRES: 2027-01-01T00:00:00.000Z\nPolicy: https://acme.example/cvd\n', now);
    assert.deepEqual(r.problems, []);
    assert.equal(r.contact.length, 2);
    assert.equal(r.expires?.toISOString(), '2027-01-01T00:00:00.000Z');
    assert.equal(r.expired, false);
  });
  it('reports a missing Contact, Policy or Expires and several Expires', () => {
    assert.deepEqual(parseSecurityTxt('Expires: 2027-01-01T00:00:00Z\nPolicy: https://a.example/p\n', now).problems, ['no Contact field']);
    assert.match(parseSecurityTxt('Contact: mailto:a@b.example\nExpires: 2027-01-01T00:00:00Z\n', now).problems.join(), /no Policy/);
    assert.match(parseSecurityTxt('Contact: mailto:a@b.example\nPolicy: https://a.example/p\n', now).problems.join(), /no Expires/);
    assert.match(parseSecurityTxt('Contact: mailto:a@b.example\nPolicy: https://a.example/p\nExpires: 2027-01-01T00:00:00Z\nExpires: 2027-02-01T00:00:00Z\n', now).problems.join(), /2 Expires fields/);
    assert.match(parseSecurityTxt('Contact: acme\nPolicy: https://a.example/p\nExpires: 2027-01-01\n', now).problems.join(), /not a mailto.*not an RFC 3339/);
  });
  it('detects expiry, and unwraps an OpenPGP cleartext signature', () => {
    const text = '-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nContact: mailto:a@b.example\nPolicy: https://a.example/p\nExpires: 2026-05-01T00:00:00Z\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n';
    const r = parseSecurityTxt(text, now);
    assert.deepEqual(r.problems, []);
    assert.equal(r.expired, true);
  });
});
