import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as pep440 from '@renovatebot/pep440';
import semver from 'semver';
import { compareApk, compareDebian, compareGo, compareMaven, comparePep440, compareRubyGems, compareSemver, comparatorFor, VersionError } from './version.ts';
import type { Comparator } from './version.ts';

function ascending(cmp: Comparator, list: string[]): void {
  for (let i = 0; i + 1 < list.length; i++) {
    assert.ok(cmp(list[i]!, list[i + 1]!) < 0, `${list[i]} < ${list[i + 1]}`);
    assert.ok(cmp(list[i + 1]!, list[i]!) > 0, `${list[i + 1]} > ${list[i]}`);
  }
}

describe('version ordering', () => {
  it('SemVer 2.0.0 precedence (spec example)', () => {
    ascending(compareSemver, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '2.1.0', '2.1.1']);
    assert.equal(compareSemver('1.0.0+build.1', '1.0.0+build.2'), 0);
    assert.throws(() => compareSemver('1.0', '1.0.0'), VersionError);
  });
  it('Go pseudo-versions and +incompatible', () => {
    ascending(compareGo, ['v0.0.0-20150717181359-44718f8a89b0', 'v1.0.0', 'v3.2.0+incompatible', 'v4.0.0-preview1', 'v4.0.0']);
  });
  it('PEP 440', () => {
    ascending(comparePep440, ['1.0.dev0', '1.0a1', '1.0a2.dev1', '1.0a2', '1.0b1', '1.0rc1', '1.0', '1.0+local.1', '1.0.post1.dev0', '1.0.post1', '1.1', '1!0.1']);
    assert.equal(comparePep440('1.0', '1.0.0'), 0);
    assert.equal(comparePep440('1.0RC1', '1.0rc1'), 0);
    assert.throws(() => comparePep440('not a version', '1.0'), VersionError);
  });
  it('Maven ComparableVersion', () => {
    ascending(compareMaven, ['1-alpha', '1-alpha-1', '1-beta', '1-milestone-1', '1-rc', '1-SNAPSHOT', '1', '1-sp', '1-foo', '1.0.1', '1.1', '2.12.1', '2.13.0', '2.14.1', '2.15.0']);
    assert.equal(compareMaven('1.0.0', '1'), 0);
    assert.equal(compareMaven('1-ga', '1'), 0);
    assert.equal(compareMaven('1.0-final', '1'), 0);
    assert.ok(compareMaven('9.4.18.v20190429', '9.4.41.v20210516') < 0);
    assert.ok(compareMaven('24.1.1-jre', '30.0-jre') < 0);
  });
  it('RubyGems (Gem::Version)', () => {
    ascending(compareRubyGems, ['1.0.0.a', '1.0.0.pre', '1.0.0.rc1', '1.0.0', '1.0.1', '2.2.8', '2.2.10', '3.0.0.beta1', '3.0.0']);
    assert.equal(compareRubyGems('1.0', '1.0.0'), 0);
    assert.throws(() => compareRubyGems('not a version!', '1.0'), VersionError);
  });
  it('Alpine (apk-tools version grammar)', () => {
    ascending(compareApk, ['0.1.0_alpha', '0.1.0_alpha2', '0.1.0_beta', '0.1.0_pre1', '0.1.0_rc1', '0.1.0', '0.1.0-r1', '0.1.0_p1', '0.1.0.1', '0.1.3_alpha', '1.0', '1.0a', '1.0z', '1.1', '3.3.1-r0', '3.3.2-r0', '3.3.10-r0']);
    assert.equal(compareApk('1.2.3-r0', '1.2.3'), 0);
    assert.ok(compareApk('1.0_git20240101', '1.0') > 0);
    assert.throws(() => compareApk('1.0-beta', '1.0'), VersionError);
    const apk = fc
      .tuple(fc.array(fc.nat(20), { minLength: 1, maxLength: 3 }), fc.constantFrom('', 'a', 'z'), fc.array(fc.tuple(fc.constantFrom('alpha', 'rc', 'p', 'git'), fc.option(fc.nat(3))), { maxLength: 2 }), fc.option(fc.nat(5)))
      .map(([n, l, sfx, r]) => `${n.join('.')}${l}${sfx.map(([k, x]) => `_${k}${x ?? ''}`).join('')}${r !== null ? `-r${r}` : ''}`);
    fc.assert(fc.property(apk, apk, apk, (a, b, c) => {
      const ab = Math.sign(compareApk(a, b));
      if (ab !== -Math.sign(compareApk(b, a)) || compareApk(a, a) !== 0) return false;
      if (ab <= 0 && compareApk(b, c) <= 0) return compareApk(a, c) <= 0;
      return true;
    }), { numRuns: 500 });
  });
  it('Debian (dpkg)', () => {
    ascending(compareDebian, ['1.0~rc1', '1.0', '1.0-1', '1.0-1+deb11u1', '1.0-2', '1.0a', '1.0+b1', '1.1', '1:0.9']);
    assert.equal(compareDebian('0:1.0', '1.0'), 0);
    assert.throws(() => compareDebian('a:1', '1'), VersionError);
  });
  it('dispatches per range type and ecosystem', () => {
    assert.ok(comparatorFor('SEMVER', 'anything'));
    assert.equal(comparatorFor('GIT', 'npm'), undefined);
    assert.equal(comparatorFor('ECOSYSTEM', 'RubyGems'), compareRubyGems);
    assert.equal(comparatorFor('ECOSYSTEM', 'Alpine:v3.20'), compareApk);
    assert.equal(comparatorFor('ECOSYSTEM', 'Packagist'), undefined);
    assert.equal(comparatorFor('ECOSYSTEM', 'Debian:12'), compareDebian);
  });
  it('comparators are antisymmetric and reflexive (property)', () => {
    const semver = fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.option(fc.constantFrom('alpha', 'beta.1', 'rc.2', '1'))).map(([a, b, c, p]) => `${a}.${b}.${c}${p ? `-${p}` : ''}`);
    fc.assert(fc.property(semver, semver, (x, y) => Math.sign(compareSemver(x, y)) === -Math.sign(compareSemver(y, x)) && compareSemver(x, x) === 0));
    const mvn = fc.array(fc.oneof(fc.nat(30).map(String), fc.constantFrom('alpha', 'beta', 'rc', 'SNAPSHOT', 'sp', 'jre')), { minLength: 1, maxLength: 4 }).map((p) => p.join('.'));
    fc.assert(fc.property(mvn, mvn, (x, y) => Math.sign(compareMaven(x, y)) === -Math.sign(compareMaven(y, x))));
  });
  it('SemVer ecosystems agree with the semver package (property)', () => {
    const ident = fc.oneof(fc.nat(30).map(String), fc.constantFrom('alpha', 'beta', 'rc', 'x-y', 'a1'));
    const sv = fc
      .tuple(fc.nat(50), fc.nat(50), fc.nat(50), fc.array(ident, { maxLength: 3 }), fc.option(fc.constantFrom('build.1', 'sha.abc')))
      .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre.length ? `-${pre.join('.')}` : ''}${build ? `+${build}` : ''}`);
    fc.assert(fc.property(sv, sv, (x, y) => Math.sign(compareSemver(x, y)) === Math.sign(semver.compare(x, y))));
    for (const eco of ['npm', 'crates.io', 'Hex', 'Pub', 'NuGet', 'SwiftURL']) assert.equal(comparatorFor('ECOSYSTEM', eco), compareSemver, eco);
  });
  it('PEP 440 agrees with @renovatebot/pep440 (property)', () => {
    const pv = fc
      .tuple(fc.option(fc.nat(2)), fc.array(fc.nat(20), { minLength: 1, maxLength: 4 }), fc.option(fc.tuple(fc.constantFrom('a', 'b', 'rc'), fc.nat(5))), fc.option(fc.nat(3)), fc.option(fc.nat(3)))
      .map(([ep, rel, pre, post, dev]) => `${ep ? `${ep}!` : ''}${rel.join('.')}${pre ? `${pre[0]}${pre[1]}` : ''}${post !== null ? `.post${post}` : ''}${dev !== null ? `.dev${dev}` : ''}`);
    fc.assert(fc.property(pv, pv, (x, y) => Math.sign(comparePep440(x, y)) === Math.sign(pep440.compare(x, y))));
  });
  it('Debian (dpkg) ordering is a total order consistent with dpkg --compare-versions results (property)', () => {
    // Pairs checked against dpkg's documented algorithm (deb-version(7)): "~" before everything, letters
    // before non-letters, numbers numerically, epoch first.
    for (const [a, b] of [['1.0~~', '1.0~'], ['1.0~', '1.0'], ['1.0', '1.0+'], ['1.0a', '1.0+'], ['1.2.9', '1.2.10'], ['2:1.0', '10:0.1'], ['1.0-1', '1.0-1.1'], ['3.0.11-1~deb12u2', '3.0.13-1~deb12u1']] as const) {
      assert.ok(compareDebian(a, b) < 0, `${a} < ${b}`);
    }
    const part = fc.stringMatching(/^[0-9][0-9a-z.+~]{0,6}$/);
    const deb = fc.tuple(fc.option(fc.nat(3)), part, fc.option(fc.stringMatching(/^[0-9a-z.+~]{1,5}$/))).map(([e, u, r]) => `${e !== null ? `${e}:` : ''}${u}${r ? `-${r}` : ''}`);
    fc.assert(fc.property(deb, deb, deb, (a, b, c) => {
      const ab = Math.sign(compareDebian(a, b));
      if (ab !== -Math.sign(compareDebian(b, a)) || compareDebian(a, a) !== 0) return false;
      if (ab <= 0 && compareDebian(b, c) <= 0) return compareDebian(a, c) <= 0;
      return true;
    }), { numRuns: 500 });
  });
});
