import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeSbom } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { assessVulnerabilities } from './assess.ts';
import { parseKev } from './kev.ts';
import { OsvIndex } from './match.ts';
import { NvdIndex, parseNvdFeed } from './nvd.ts';
import { parseOsvFeed } from './osv.ts';
import type { OsvRecord } from './osv.ts';
import { distroRelease, ecosystemOfPurl, packageIdFromPurl, parseEcosystem } from './purl.ts';

const FX = new URL('../../test/fixtures/vuln/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FX));

/** An OSV record shaped as Debian/Ubuntu/Alpine security trackers publish them (one affected entry per release). */
function distroRecord(id: string, pkg: string, entries: { ecosystem: string; fixed?: string; versions?: string[] }[], aliases: string[] = []): OsvRecord {
  return parseOsvFeed(
    JSON.stringify({
      id,
      modified: '2024-06-01T00:00:00Z',
      aliases,
      affected: entries.map((e) => ({
        package: { ecosystem: e.ecosystem, name: pkg },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, ...(e.fixed ? [{ fixed: e.fixed }] : [])] }],
        ...(e.versions ? { versions: e.versions } : {}),
      })),
    }),
  )[0]!;
}

const ids = (idx: OsvIndex, purl: string) => idx.assess(purl).hits.map((h) => h.record.id);

describe('distribution releases from purl qualifiers (item 10)', () => {
  it('untrusted keys never reach prototype properties (purl type, distro codename)', () => {
    const empty = new OsvIndex([]);
    for (const purl of ['pkg:constructor/x@1', 'pkg:__proto__/x@1', 'pkg:hasOwnProperty/x@1', 'pkg:tostring/x@1']) {
      const id = packageIdFromPurl(purl);
      if (id) assert.equal(ecosystemOfPurl(id), undefined, purl);
      assert.ok(empty.assess(purl).unassessed, purl);
    }
    assert.equal(distroRelease('Debian', 'constructor'), undefined);
    assert.equal(distroRelease('Ubuntu', 'toString'), undefined);
    assert.deepEqual(ecosystemOfPurl(packageIdFromPurl('pkg:deb/debian/x@1?distro=constructor')!), { base: 'Debian' });
  });
  it('normalises distro qualifiers and OSV ecosystem suffixes', () => {
    assert.equal(distroRelease('Debian', 'debian-12'), '12');
    assert.equal(distroRelease('Debian', 'debian-12.5'), '12');
    assert.equal(distroRelease('Debian', 'bookworm'), '12');
    assert.equal(distroRelease('Debian', '11'), '11');
    assert.equal(distroRelease('Ubuntu', 'ubuntu-22.04'), '22.04');
    assert.equal(distroRelease('Ubuntu', 'jammy'), '22.04');
    assert.equal(distroRelease('Alpine', 'alpine-3.20'), '3.20');
    assert.equal(distroRelease('Alpine', '3.20.3'), '3.20');
    assert.equal(distroRelease('Debian', 'sid-ish'), undefined);
    assert.deepEqual(parseEcosystem('Debian:12'), { base: 'Debian', release: '12' });
    assert.deepEqual(parseEcosystem('Ubuntu:22.04:LTS'), { base: 'Ubuntu', release: '22.04' });
    assert.deepEqual(parseEcosystem('Ubuntu:Pro:18.04:LTS'), { base: 'Ubuntu', release: '18.04' });
    assert.deepEqual(parseEcosystem('Alpine:v3.20'), { base: 'Alpine', release: '3.20' });
    assert.deepEqual(parseEcosystem('crates.io'), { base: 'crates.io' });
    assert.deepEqual(ecosystemOfPurl(packageIdFromPurl('pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12')!), { base: 'Debian', release: '12' });
    assert.deepEqual(ecosystemOfPurl(packageIdFromPurl('pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.15?distro=ubuntu-22.04')!), { base: 'Ubuntu', release: '22.04' });
    assert.deepEqual(ecosystemOfPurl(packageIdFromPurl('pkg:apk/alpine/openssl@3.3.2-r0?distro=alpine-3.20')!), { base: 'Alpine', release: '3.20' });
    assert.equal(ecosystemOfPurl(packageIdFromPurl('pkg:generic/openssl@3.0.13')!), undefined);
    assert.equal(ecosystemOfPurl(packageIdFromPurl('pkg:apk/wolfi/openssl@3.3.2-r0')!), undefined);
  });

  const rec = distroRecord('DEBIAN-CVE-2024-0727', 'openssl', [
    { ecosystem: 'Debian:11', fixed: '1.1.1w-0+deb11u2' },
    { ecosystem: 'Debian:12', fixed: '3.0.13-1~deb12u1' },
    { ecosystem: 'Debian:13' }, // unfixed in another release
  ], ['CVE-2024-0727']);
  const idx = new OsvIndex([rec]);

  it('a record for another release never decides this one', () => {
    // 3.0.13-1~deb12u1 is fixed in bookworm; the bullseye and trixie entries (lower fix / unfixed) must not decide it.
    assert.deepEqual(ids(idx, 'pkg:deb/debian/openssl@3.0.13-1~deb12u1?distro=debian-12'), []);
    assert.deepEqual(ids(idx, 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12'), ['DEBIAN-CVE-2024-0727']);
    // bullseye's fix version is lower than bookworm's: judged against its own release only.
    assert.deepEqual(ids(idx, 'pkg:deb/debian/openssl@1.1.1w-0+deb11u2?distro=debian-11'), []);
    assert.deepEqual(ids(idx, 'pkg:deb/debian/openssl@3.0.15-1?distro=trixie'), ['DEBIAN-CVE-2024-0727']);
  });
  it('binary packages are matched through their source package (the `upstream` qualifier, as syft writes it)', () => {
    assert.deepEqual(ids(idx, 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12'), ['DEBIAN-CVE-2024-0727']);
    assert.deepEqual(ids(idx, 'pkg:deb/debian/libssl3@3.0.13-1~deb12u1?arch=amd64&upstream=openssl&distro=debian-12'), []);
    // the source version, when it differs from the binary's, decides
    assert.deepEqual(ids(idx, 'pkg:deb/debian/libssl3@9.9?arch=amd64&upstream=openssl%403.0.11-1~deb12u2&distro=debian-12'), ['DEBIAN-CVE-2024-0727']);
    assert.deepEqual(ids(idx, 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12'), [], 'without upstream, libssl3 is its own package');
  });
  it('a version at or above every fixed version is not affected', () => {
    const multi = new OsvIndex([
      parseOsvFeed(JSON.stringify({
        id: 'DSA-X', modified: '2024-01-01T00:00:00Z',
        affected: [{
          package: { ecosystem: 'Debian:12', name: 'zlib' },
          ranges: [
            { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1:1.2.13.dfsg-1' }] },
            { type: 'ECOSYSTEM', events: [{ introduced: '1:1.2.13.dfsg-1' }, { fixed: '1:1.2.13.dfsg-1+deb12u1' }] },
          ],
        }],
      }))[0]!,
    ]);
    assert.deepEqual(ids(multi, 'pkg:deb/debian/zlib@1:1.2.13.dfsg-1+deb12u1?distro=debian-12'), []);
    assert.deepEqual(ids(multi, 'pkg:deb/debian/zlib@1:1.3.dfsg-3?distro=debian-12'), []);
    assert.deepEqual(ids(multi, 'pkg:deb/debian/zlib@1:1.2.13.dfsg-1?distro=debian-12'), ['DSA-X']);
  });
  it('a distribution package without a release, or for a release the feeds do not cover, is unassessed', () => {
    assert.match(idx.assess('pkg:deb/debian/openssl@3.0.11-1~deb12u2').unassessed!, /distro/);
    assert.match(idx.assess('pkg:deb/debian/openssl@3.0.11-1?distro=debian-10').unassessed!, /no records for ecosystem Debian:10/);
    assert.match(idx.assess('pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.15?distro=ubuntu-22.04').unassessed!, /Ubuntu:22.04/);
  });
  it('Ubuntu releases are matched the same way', () => {
    const u = new OsvIndex([distroRecord('UBUNTU-CVE-2024-0727', 'openssl', [
      { ecosystem: 'Ubuntu:22.04:LTS', fixed: '3.0.2-0ubuntu1.14' },
      { ecosystem: 'Ubuntu:24.04:LTS', fixed: '3.0.13-0ubuntu3' },
    ])]);
    assert.deepEqual(ids(u, 'pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.15?distro=ubuntu-22.04'), []);
    assert.deepEqual(ids(u, 'pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1.12?distro=jammy'), ['UBUNTU-CVE-2024-0727']);
    assert.deepEqual(ids(u, 'pkg:deb/ubuntu/openssl@3.0.10-1ubuntu4?distro=ubuntu-24.04'), ['UBUNTU-CVE-2024-0727']);
  });
  it('Alpine: the release is matched and apk versions are ordered', () => {
    const a = new OsvIndex([distroRecord('ALPINE-X', 'openssl', [{ ecosystem: 'Alpine:v3.20', fixed: '3.3.2-r0' }])]);
    const r = a.assess('pkg:apk/alpine/openssl@3.3.1-r0?arch=x86_64&distro=alpine-3.20.3');
    assert.equal(r.unassessed, undefined);
    assert.deepEqual(r.hits.map((h) => h.record.id), ['ALPINE-X']);
    assert.deepEqual(a.assess('pkg:apk/alpine/openssl@3.3.2-r0?distro=alpine-3.20').hits, []);
    assert.match(a.assess('pkg:apk/alpine/openssl@3.3.1-r0?distro=alpine-3.19').unassessed!, /no records for ecosystem Alpine:3.19/);
  });
});

describe('ordered ecosystems (SemVer ones, and RubyGems by its own scheme)', () => {
  for (const [eco, purl, fixed, below, above] of [
    ['crates.io', 'pkg:cargo/smallvec', '1.6.1', '1.6.0', '1.6.1'],
    ['Hex', 'pkg:hex/plug', '1.3.6', '1.3.5', '1.4.0'],
    ['Pub', 'pkg:pub/http', '0.13.3', '0.13.2', '1.0.0'],
    ['NuGet', 'pkg:nuget/Newtonsoft.Json', '13.0.1', '12.0.3', '13.0.1'],
    ['SwiftURL', 'pkg:swift/github.com/vapor/vapor', '4.40.1', '4.40.0', '4.41.0'],
    ['npm', 'pkg:npm/ws', '6.2.2', '6.2.1', '7.0.0'],
    ['RubyGems', 'pkg:gem/rack', '2.2.8.1', '2.2.8', '3.0.0'],
  ] as const) {
    it(`${eco}: ECOSYSTEM ranges are ordered`, () => {
      const name = eco === 'SwiftURL' ? 'github.com/vapor/vapor' : purl.split('/').slice(1).join('/');
      const idx = new OsvIndex([parseOsvFeed(JSON.stringify({ id: `T-${eco}`, modified: '2024-01-01T00:00:00Z', affected: [{ package: { ecosystem: eco, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }] }))[0]!]);
      const lo = idx.assess(`${purl}@${below}`);
      assert.equal(lo.unassessed, undefined, `${eco} assessable`);
      assert.deepEqual(lo.hits.map((h) => h.record.id), [`T-${eco}`]);
      assert.deepEqual(idx.assess(`${purl}@${above}`).hits, []);
    });
  }
});

describe('coverage: unassessed components never pass silently (item 1)', () => {
  const osv = new OsvIndex(['GHSA-jfh8-c2jp-5v3q'].flatMap((id) => parseOsvFeed(read(`osv/${id}.json`), id)));
  const nvd = new NvdIndex(parseNvdFeed(read('nvd/nvd-demo-subset.json')));
  const kev = [parseKev(read('kev/kev-subset-with-log4shell.json'))];
  const bom = (components: unknown[]): SbomEvidence => ({
    artifact: 'fw',
    source: 'test',
    analysis: analyzeSbom(Buffer.from(JSON.stringify({
      bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
      metadata: { timestamp: '2026-01-01T00:00:00Z', component: { type: 'firmware', name: 'fw', version: '1.0', 'bom-ref': 'fw' } },
      components,
    }))),
  });
  const lib = (name: string, extra: Record<string, unknown>) => ({ type: 'library', name, 'bom-ref': name, ...extra });

  it('classes of unassessed components, each with its reason; the primary component is not counted', () => {
    const r = assessVulnerabilities({
      sboms: [bom([
        lib('openssl', { version: '3.0.13', purl: 'pkg:generic/openssl@3.0.13' }),
        lib('busybox', { version: '1.36.1' }),
        lib('weird', { version: '1', purl: 'pkg:/broken' }),
        lib('rack', { version: '2.2.8', purl: 'pkg:gem/rack@2.2.8' }),
        lib('zlib', { version: '1.3.1', cpe: 'cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*' }),
        lib('log4j-core', { version: '2.14.1', purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' }),
        lib('nover', { purl: 'pkg:maven/org.example/nover' }),
      ])],
      index: osv,
      kev,
      vex: { documents: [] },
    });
    assert.equal(r.componentsTotal, 7);
    assert.equal(r.componentsAssessed, 1, 'only log4j-core (Maven, covered by the OSV feed)');
    const why = Object.fromEntries(r.unassessed.map((u) => [u.pointer, u.reason]));
    assert.deepEqual(Object.keys(why).sort(), ['/components/0', '/components/1', '/components/2', '/components/3', '/components/4', '/components/6']);
    assert.match(why['/components/0']!, /purl type "generic" has no OSV ecosystem/);
    assert.match(why['/components/1']!, /no purl; no CPE/);
    assert.match(why['/components/2']!, /does not parse/);
    assert.match(why['/components/3']!, /cannot order RubyGems|no records for ecosystem RubyGems/);
    assert.match(why['/components/4']!, /no NVD feed/);
    assert.match(why['/components/6']!, /no version/);
  });

  it('CPE-identified components are assessed through the NVD feed, and KEV applies to CPE-matched CVEs', () => {
    const r = assessVulnerabilities({
      sboms: [bom([
        lib('zlib', { version: '1.3.1', cpe: 'cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*' }),
        lib('openssl', { version: '3.0.12', purl: 'pkg:generic/openssl@3.0.12', cpe: 'cpe:2.3:a:openssl:openssl:3.0.12:*:*:*:*:*:*:*' }),
        lib('log4j', { version: '2.14.1', cpe: 'cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*' }),
      ])],
      index: new OsvIndex([]),
      nvd,
      kev,
      vex: { documents: [] },
    });
    assert.equal(r.componentsAssessed, 3);
    assert.deepEqual(r.unassessed, []);
    const found = r.matches.map((m) => `${m.advisory} ${m.source} ${m.kev?.cveID ?? '-'}`).sort();
    assert.deepEqual(found, ['CVE-2021-44228 nvd CVE-2021-44228', 'CVE-2024-0727 nvd -']);
  });

  it('an OSV record of the component\'s own ecosystem decides a CVE that NVD also lists (backported fixes)', () => {
    const deb = new OsvIndex([distroRecord('DEBIAN-CVE-2024-0727', 'openssl', [{ ecosystem: 'Debian:12', fixed: '3.0.11-1~deb12u2' }], ['CVE-2024-0727'])]);
    const r = assessVulnerabilities({
      sboms: [bom([lib('openssl', { version: '3.0.11-1~deb12u2', purl: 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12', cpe: 'cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*' })])],
      index: deb,
      nvd,
      kev,
      vex: { documents: [] },
    });
    assert.deepEqual(r.matches, [], 'Debian fixed CVE-2024-0727 in 3.0.11-1~deb12u2; the upstream range does not decide it');
    assert.deepEqual(r.versionConflicts, [], 'the CPE names the upstream version of the Debian package');
  });

  it('a distribution record naming its CVE in OSV 1.6 `upstream` (not aliases) reaches KEV', () => {
    const rec = parseOsvFeed(JSON.stringify({
      id: 'DEBIAN-CVE-2021-44228', modified: '2024-01-01T00:00:00Z', upstream: ['CVE-2021-44228'],
      affected: [{ package: { ecosystem: 'Debian:11', name: 'apache-log4j2' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.15.0-1~deb11u1' }] }] }],
    }))[0]!;
    const r = assessVulnerabilities({
      sboms: [bom([lib('liblog4j2-java', { version: '2.13.3-1', purl: 'pkg:deb/debian/liblog4j2-java@2.13.3-1?arch=all&upstream=apache-log4j2&distro=debian-11' })])],
      index: new OsvIndex([rec]),
      nvd,
      kev,
      vex: { documents: [] },
    });
    assert.deepEqual(r.matches.map((m) => [m.advisory, m.kev?.cveID]), [['DEBIAN-CVE-2021-44228', 'CVE-2021-44228']]);
    assert.throws(() => parseOsvFeed('{"id":"X","modified":"x","upstream":"CVE-1"}'), /"upstream" must be an array of strings/);
  });

  it('purl version and version field disagree: a finding, and both versions are matched', () => {
    const r = assessVulnerabilities({
      sboms: [bom([lib('log4j-core', { version: '2.17.1', purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' })])],
      index: osv,
      kev,
      vex: { documents: [] },
    });
    assert.equal(r.versionConflicts.length, 1);
    assert.deepEqual({ v: r.versionConflicts[0]!.version, p: r.versionConflicts[0]!.purlVersion }, { v: '2.17.1', p: '2.14.1' });
    assert.deepEqual(r.matches.map((m) => m.advisory), ['GHSA-jfh8-c2jp-5v3q'], 'the purl version 2.14.1 is affected even though the field says 2.17.1');
    const cpe = assessVulnerabilities({
      sboms: [bom([lib('zlib', { version: '1.3.1', cpe: 'cpe:2.3:a:zlib:zlib:1.2.11:*:*:*:*:*:*:*' })])],
      index: osv,
      nvd,
      kev,
      vex: { documents: [] },
    });
    assert.equal(cpe.versionConflicts[0]!.cpeVersion, '1.2.11');
    assert.deepEqual(cpe.matches.map((m) => m.advisory), ['CVE-2023-45853']);
    const same = assessVulnerabilities({
      sboms: [bom([lib('jwt', { version: 'v3.2.0', purl: 'pkg:golang/github.com/dgrijalva/jwt-go@3.2.0' })])],
      index: osv,
      kev,
      vex: { documents: [] },
    });
    assert.deepEqual(same.versionConflicts, [], 'a leading "v" is not a disagreement');
  });

  it('SPDX cpe23Type external refs of a real syft SBOM are parsed (quoted "@" and "/") and assessed through the NVD feed', () => {
    const spdx = readFileSync(new URL('../../test/fixtures/sbom/generated/syft-cra-gate-lock.spdx.json', import.meta.url));
    const s: SbomEvidence = { artifact: 'app', source: 'syft', analysis: analyzeSbom(spdx) };
    assert.ok(s.analysis.ok);
    const withCpe = s.analysis.ok ? s.analysis.model.components.filter((c) => c.cpe) : [];
    assert.ok(withCpe.length > 100, `${withCpe.length} components with a CPE`);
    const noOsv = assessVulnerabilities({ sboms: [s], index: new OsvIndex([]), nvd, kev, vex: { documents: [] } });
    // npm purls are not covered by an empty OSV feed, but every CPE with a version is assessed by NVD.
    assert.equal(noOsv.unassessed.filter((u) => withCpe.some((c) => c.pointer === u.pointer)).length, 0);
    assert.ok(noOsv.componentsAssessed >= withCpe.length);
  });
});
