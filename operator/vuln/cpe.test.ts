import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareAttribute, cpeMatches, CpeError, formatValue, parseCpe, tryParseCpe } from './cpe.ts';
import type { CpeValue } from './cpe.ts';

const v = (text: string, prefix?: '*' | number, suffix?: '*' | number): CpeValue => ({ kind: 'value', text, ...(prefix !== undefined ? { prefix } : {}), ...(suffix !== undefined ? { suffix } : {}) });

describe('CPE 2.3 formatted-string binding (NISTIR 7695 §6.2)', () => {
  it('unbinds ANY, NA and values', () => {
    const c = parseCpe('cpe:2.3:a:openssl:openssl:3.0.13:-:*:*:*:*:*:*');
    assert.deepEqual(c.part, v('a'));
    assert.deepEqual(c.vendor, v('openssl'));
    assert.deepEqual(c.version, v('3.0.13'));
    assert.deepEqual(c.update, { kind: 'NA' });
    assert.deepEqual(c.edition, { kind: 'ANY' });
  });
  it('quoted characters are literal; the colon split honours them', () => {
    const c = parseCpe('cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*');
    assert.equal(formatValue(c.target_sw), 'win2003');
    const q = parseCpe('cpe:2.3:a:foo\\:bar:big\\$money:1\\.0\\*:*:*:*:*:*:*:*');
    assert.deepEqual(q.vendor, v('foo:bar'));
    assert.deepEqual(q.product, v('big$money'));
    assert.deepEqual(q.version, v('1.0*'), 'a quoted * is a literal asterisk, not a wildcard');
    assert.deepEqual(parseCpe('cpe:2.3:a:Microsoft:Internet_Explorer:8.*:*:*:*:*:*:*:*').version, v('8.', undefined, '*'));
    assert.deepEqual(parseCpe('cpe:2.3:a:x:y:??1.0:*:*:*:*:*:*:*').version, v('1.0', 2));
  });
  it('rejects malformed names', () => {
    for (const bad of [
      'cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*', // 12 parts
      'cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*:*', // 14 parts
      'cpe:2.3:x:openssl:openssl:3.0.13:*:*:*:*:*:*:*', // bad part
      'cpe:2.3:a:open*ssl:openssl:1:*:*:*:*:*:*:*', // embedded unquoted *
      'cpe:2.3:a::openssl:1:*:*:*:*:*:*:*', // empty
      'cpe:2.3:a:openssl:openssl:1\\', // dangling quote
      'pkg:npm/x@1',
      '',
    ]) {
      assert.throws(() => parseCpe(bad), CpeError, bad);
      assert.equal(tryParseCpe(bad), undefined);
    }
  });
  it('unbinds the CPE 2.2 URI binding (SPDX cpe22Type)', () => {
    const c = parseCpe('cpe:/a:zlib:zlib:1.3.1');
    assert.deepEqual(c.product, v('zlib'));
    assert.deepEqual(c.version, v('1.3.1'));
    assert.deepEqual(c.update, { kind: 'ANY' });
    assert.deepEqual(parseCpe('cpe:/a:foo%21:bar:-').version, { kind: 'NA' });
    assert.deepEqual(parseCpe('cpe:/a:foo%21:bar').vendor, v('foo!'));
  });
  it('round-trips generated names (property)', () => {
    const val = fc.stringMatching(/^[a-z0-9_.-]{1,12}$/).filter((s) => s !== '-');
    fc.assert(
      fc.property(fc.constantFrom('a', 'o', 'h'), val, val, fc.oneof(val, fc.constant('*'), fc.constant('-')), (part, vendor, product, version) => {
        const c = parseCpe(`cpe:2.3:${part}:${vendor}:${product}:${version}:*:*:*:*:*:*:*`);
        return formatValue(c.vendor) === vendor && formatValue(c.product) === product && formatValue(c.version) === version;
      }),
    );
  });
});

describe('CPE name matching (NISTIR 7696 Table 6-2)', () => {
  it('attribute relations', () => {
    const ANY: CpeValue = { kind: 'ANY' };
    const NA: CpeValue = { kind: 'NA' };
    assert.equal(compareAttribute(ANY, ANY), 'EQUAL');
    assert.equal(compareAttribute(ANY, NA), 'SUPERSET');
    assert.equal(compareAttribute(ANY, v('x')), 'SUPERSET');
    assert.equal(compareAttribute(NA, ANY), 'SUBSET');
    assert.equal(compareAttribute(NA, NA), 'EQUAL');
    assert.equal(compareAttribute(NA, v('x')), 'DISJOINT');
    assert.equal(compareAttribute(v('x'), ANY), 'SUBSET');
    assert.equal(compareAttribute(v('x'), NA), 'DISJOINT');
    assert.equal(compareAttribute(v('x'), v('x')), 'EQUAL');
    assert.equal(compareAttribute(v('x'), v('y')), 'DISJOINT');
    assert.equal(compareAttribute(v('8.', undefined, '*'), v('8.0.6001')), 'SUPERSET');
    assert.equal(compareAttribute(v('8.', undefined, '*'), v('9.0')), 'DISJOINT');
    assert.equal(compareAttribute(v('1.0', 2), v('ab1.0')), 'SUPERSET');
    assert.equal(compareAttribute(v('1.0', 2), v('a1.0')), 'DISJOINT');
    assert.equal(compareAttribute(v('x'), v('x', undefined, '*')), 'UNDEFINED', 'a target with wildcards is undefined');
  });
  it('matches a name when every attribute is SUPERSET or EQUAL; a less specific component is undecided', () => {
    const beta9 = parseCpe('cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*');
    assert.deepEqual(cpeMatches(beta9, parseCpe('cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*')), { match: true });
    assert.deepEqual(cpeMatches(beta9, parseCpe('cpe:2.3:a:apache:log4j:2.0:rc1:*:*:*:*:*:*')), { match: false });
    assert.deepEqual(cpeMatches(beta9, parseCpe('cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*')), { match: false });
    const loose = cpeMatches(beta9, parseCpe('cpe:2.3:a:apache:log4j:2.0:*:*:*:*:*:*:*'));
    assert.equal(loose.match, true);
    assert.match(loose.undecided!, /update/);
    // version skipped (a range decides it)
    assert.deepEqual(cpeMatches(parseCpe('cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:*'), parseCpe('cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*'), ['version']), { match: true });
    assert.deepEqual(cpeMatches(parseCpe('cpe:2.3:o:zlib:zlib:*:*:*:*:*:*:*:*'), parseCpe('cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*')), { match: false }, 'part differs');
  });
  it('matching is case-insensitive', () => {
    assert.deepEqual(cpeMatches(parseCpe('cpe:2.3:a:OpenSSL:OpenSSL:*:*:*:*:*:*:*:*'), parseCpe('cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*')), { match: true });
  });
});
