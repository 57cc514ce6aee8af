import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Waiver } from '../api/types.ts';
import { activeWaivers, decideWaiver, isBlanketVulnWaiver, selectorMatches, waiverEnd } from './waivers.ts';

const base: Waiver = { check: 'vuln.no-known-exploitable', vulnerability: 'CVE-2021-44906', justification: 'not reachable', ticket: 'SEC-1', approvedBy: 'jane@acme.example', expires: '2026-06-30' };
/** A waiver of a check without subjects (covers the whole outcome). */
const whole: Waiver = { check: 'update.channel', justification: 'channel migrates next week', ticket: 'SEC-2', approvedBy: 'jane@acme.example', expires: '2026-06-30' };
const now = new Date('2026-06-01T00:00:00Z');
const fail = { result: 'Fail' as const, reason: 'KnownVulnerability' as const, message: 'x' };

describe('waivers', () => {
  it('expire at the end of the day (UTC); malformed dates never apply', () => {
    assert.equal(waiverEnd('2026-06-30')?.toISOString(), '2026-07-01T00:00:00.000Z');
    assert.equal(waiverEnd('2027-02-30'), undefined);
    assert.equal(waiverEnd('2026-06-01T10:30:00Z')?.toISOString(), '2026-06-01T10:30:00.000Z');
    assert.equal(waiverEnd('2026-06-01T10:30:00+02:00'), undefined);
    assert.equal(activeWaivers([base], base.check, {}, new Date('2026-06-30T23:59:59Z')).length, 1);
    assert.equal(activeWaivers([base], base.check, {}, new Date('2026-07-01T00:00:00Z')).length, 0);
    assert.equal(activeWaivers([{ ...base, ticket: ' ' }], base.check, {}, now).length, 0);
  });
  it('label selectors: matchLabels and matchExpressions', () => {
    const labels = { product: 'acme-router', tier: 'gold' };
    assert.ok(selectorMatches(undefined, labels));
    assert.ok(selectorMatches({ matchLabels: { product: 'acme-router' } }, labels));
    assert.ok(!selectorMatches({ matchLabels: { product: 'other' } }, labels));
    assert.ok(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }, { key: 'x', operator: 'DoesNotExist' }] }, labels));
    assert.ok(!selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] }, labels));
    assert.ok(!selectorMatches({ matchExpressions: [{ key: 'x', operator: 'Exists' }] }, labels));
  });
  it('every subject must be covered; the earliest expiry is changesAt', () => {
    const subjects = [
      { vulnerabilities: ['GHSA-xvch-5gv4-984h', 'CVE-2021-44906'], purl: 'pkg:npm/minimist@0.0.8' },
      { vulnerabilities: ['GHSA-6fc8-4gx4-v693', 'CVE-2021-32640'], purl: 'pkg:npm/ws@6.2.1' },
    ];
    const w1: Waiver = { ...base, vulnerability: 'CVE-2021-44906', expires: '2026-06-10' };
    const w2: Waiver = { ...base, vulnerability: 'GHSA-6fc8-4gx4-v693', purl: 'pkg:npm/ws' };
    assert.equal(decideWaiver({ ...fail, subjects }, base.check, {}, [w1], now).waived, false);
    const d = decideWaiver({ ...fail, subjects }, base.check, {}, [w1, w2], now);
    assert.equal(d.waived, true);
    assert.equal(d.used.length, 2);
    assert.equal(d.changesAt?.toISOString(), '2026-06-11T00:00:00.000Z');
  });
  it('errors are never waived; checks without subjects need a whole-check waiver; other checks and releases are untouched', () => {
    assert.equal(decideWaiver({ result: 'Error', reason: 'EvidenceUnavailable', message: 'x' }, whole.check, {}, [whole], now).waived, false);
    assert.equal(decideWaiver(fail, whole.check, {}, [whole], now).waived, true);
    assert.equal(decideWaiver(fail, whole.check, {}, [{ ...whole, vulnerability: 'CVE-1' }], now).waived, false);
    assert.equal(decideWaiver(fail, 'update.channel', {}, [base], now).waived, false);
    assert.equal(decideWaiver(fail, whole.check, { product: 'b' }, [{ ...whole, releases: { matchLabels: { product: 'a' } } }], now).waived, false);
  });
  it('no blanket waivers of vuln.* checks: without a vulnerability id a waiver never applies (issue 13 item 6)', () => {
    const subjects = [{ vulnerabilities: ['GHSA-6fc8-4gx4-v693', 'CVE-2021-32640'], purl: 'pkg:npm/ws@6.2.1' }];
    const { vulnerability: _omit, ...blanket } = base;
    for (const w of [blanket, { ...blanket, purl: 'pkg:npm/ws' }, { ...blanket, vulnerability: ' ' }]) {
      assert.ok(isBlanketVulnWaiver(w));
      assert.equal(activeWaivers([w], base.check, {}, now).length, 0);
      assert.equal(decideWaiver({ ...fail, subjects }, base.check, {}, [w], now).waived, false);
      assert.equal(decideWaiver(fail, 'vuln.no-known-exploited', {}, [{ ...w, check: 'vuln.no-known-exploited' }], now).waived, false);
    }
    assert.ok(!isBlanketVulnWaiver(whole));
    assert.equal(decideWaiver({ ...fail, subjects }, base.check, {}, [{ ...base, vulnerability: 'CVE-2021-32640', purl: 'pkg:npm/ws' }], now).waived, true);
  });
});
