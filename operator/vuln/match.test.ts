import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { analyzeSbom } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { assessVulnerabilities } from './assess.ts';
import { FeedFormatError } from './errors.ts';
import { parseKev } from './kev.ts';
import { OsvIndex } from './match.ts';
import { parseOsvBundle } from './bundle.ts';
import { parseOsvFeed } from './osv.ts';
import { keyForOsvPackage, packageIdFromPurl, purlMatches } from './purl.ts';
import { writeZip } from './zip.ts';

const FX = new URL('../../test/fixtures/vuln/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FX));
const OSV = ['GHSA-6fc8-4gx4-v693', 'GHSA-f8q6-p94x-37v3', 'GHSA-jfh8-c2jp-5v3q', 'GHSA-xvch-5gv4-984h', 'GO-2020-0017'];
const records = OSV.flatMap((id) => parseOsvFeed(read(`osv/${id}.json`), id));
const sbom = (file: string, artifact = 'app'): SbomEvidence => ({ artifact, source: file, analysis: analyzeSbom(read(`sbom/${file}`)) });

describe('package identity', () => {
  it('maps OSV packages and purls to the same key', () => {
    assert.equal(keyForOsvPackage('Maven', 'org.apache.logging.log4j:log4j-core'), packageIdFromPurl('pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar')!.key);
    assert.equal(keyForOsvPackage('Go', 'github.com/dgrijalva/jwt-go'), packageIdFromPurl('pkg:golang/github.com/dgrijalva/jwt-go@v3.2.0')!.key);
    assert.equal(keyForOsvPackage('npm', '@cyclonedx/cyclonedx-library'), packageIdFromPurl('pkg:npm/%40cyclonedx/cyclonedx-library@10.3.0')!.key);
    assert.equal(keyForOsvPackage('PyPI', 'Django_Rest.framework'), packageIdFromPurl('pkg:pypi/django-rest-framework@1.0')!.key);
    assert.equal(keyForOsvPackage('Debian:12', 'openssl'), packageIdFromPurl('pkg:deb/debian/openssl@3.0.11-1')!.key);
    assert.equal(keyForOsvPackage('UnknownEco', 'x'), undefined);
  });
  it('purl patterns without version match every version', () => {
    assert.ok(purlMatches('pkg:npm/ws', 'pkg:npm/ws@6.2.1'));
    assert.ok(purlMatches('pkg:npm/ws@6.2.1', 'pkg:npm/ws@6.2.1?foo=bar'));
    assert.ok(!purlMatches('pkg:npm/ws@6.2.2', 'pkg:npm/ws@6.2.1'));
    assert.ok(!purlMatches('not a purl', 'pkg:npm/ws@6.2.1'));
  });
});

describe('OSV feeds and matching (real advisories × real SBOMs)', () => {
  const index = new OsvIndex(records);

  it('finds the real advisories of the cern-lhc-vdm-editor SBOM (npm)', () => {
    const r = assessVulnerabilities({ sboms: [sbom('cern-lhc-vdm-editor.cdx.json')], index, kev: [], vex: { documents: [] } });
    const found = r.matches.map((m) => `${m.advisory} ${m.purl}`).sort();
    assert.deepEqual(found, [
      'GHSA-6fc8-4gx4-v693 pkg:npm/ws@6.2.1',
      'GHSA-f8q6-p94x-37v3 pkg:npm/minimatch@3.0.4',
      'GHSA-xvch-5gv4-984h pkg:npm/minimist@0.0.8',
    ]);
    assert.equal(r.sbomProblems.length, 0);
    assert.ok(r.componentsAssessed >= 40);
  });

  it('matches Go SEMVER ranges with an open upper bound (proton-bridge, jwt-go v3.2.0)', () => {
    const r = assessVulnerabilities({ sboms: [sbom('proton-bridge-1.8.0.cdx.json')], index, kev: [], vex: { documents: [] } });
    assert.deepEqual(r.matches.map((m) => m.advisory), ['GO-2020-0017']);
  });

  it('Maven ECOSYSTEM ranges: log4j-core 2.14.1 affected, 2.15.0 / 2.12.2 / 2.3.1 not', () => {
    const purl = (v: string) => `pkg:maven/org.apache.logging.log4j/log4j-core@${v}`;
    assert.deepEqual(index.match(purl('2.14.1')).map((h) => h.record.id), ['GHSA-jfh8-c2jp-5v3q']);
    for (const v of ['2.15.0', '2.12.2', '2.3.1', '2.17.1']) assert.deepEqual(index.match(purl(v)), [], v);
    for (const v of ['2.0-beta9', '2.3', '2.4', '2.12.1', '2.13.0']) assert.equal(index.match(purl(v)).length, 1, v);
    // log4j-api is not affected, and the dropwizard SBOM (logback, not log4j) has no log4j match
    assert.deepEqual(index.match('pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1'), []);
    const r = assessVulnerabilities({ sboms: [sbom('dropwizard-1.3.15.cdx.json')], index, kev: [], vex: { documents: [] } });
    assert.deepEqual(r.matches, []);
  });

  it('fixed versions are not matched (minimist 1.2.6, ws 6.2.2)', () => {
    assert.deepEqual(index.match('pkg:npm/minimist@1.2.6'), []);
    assert.deepEqual(index.match('pkg:npm/ws@6.2.2'), []);
    assert.equal(index.match('pkg:npm/ws@7.4.5').length, 1);
  });

  it('KEV: log4shell is annotated with the real KEV entry', () => {
    const kev = parseKev(read('kev/known_exploited_vulnerabilities.json'));
    assert.equal(kev.entries.size, 1404);
    const r = assessVulnerabilities({ sboms: [sbom('synthetic-log4j-app.cdx.json')], index, kev: [kev], vex: { documents: [] } });
    assert.equal(r.matches.length, 1);
    assert.equal(r.matches[0]!.kev?.cveID, 'CVE-2021-44228');
    assert.equal(r.matches[0]!.kev?.dateAdded, '2021-12-10');
  });

  it('GIT ranges are skipped with a note; ecosystems cra-gate cannot order leave the component unassessed (fail closed)', () => {
    const [rec] = parseOsvFeed(JSON.stringify({
      id: 'SYNTHETIC-1', modified: '2024-01-01T00:00:00Z',
      affected: [
        { package: { ecosystem: 'npm', name: 'left-pad' }, ranges: [{ type: 'GIT', repo: 'https://x', events: [{ introduced: '0' }, { fixed: 'abc' }] }] },
        { package: { ecosystem: 'Packagist', name: 'laravel/framework' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }] },
      ],
    }));
    const idx = new OsvIndex([rec!]);
    assert.deepEqual(idx.match('pkg:npm/left-pad@1.0.0'), []);
    const a = idx.assess('pkg:composer/laravel/framework@1.6.0');
    assert.deepEqual(a.hits, []);
    assert.match(a.unassessed!, /cannot order Packagist versions/);
  });

  it('reads OSV bundles (ZIP of records, as OSV publishes) and arrays', async () => {
    const zip = writeZip(OSV.map((id) => ({ name: `${id}.json`, bytes: read(`osv/${id}.json`) })), (b) => deflateRawSync(b));
    assert.deepEqual((await parseOsvBundle(zip, 'all.zip')).map((r) => r.id), OSV);
    const array = JSON.stringify(OSV.map((id): unknown => JSON.parse(read(`osv/${id}.json`).toString())));
    assert.equal(parseOsvFeed(array).length, 5);
  });

  it('malformed feeds are rejected with a clear error', async () => {
    assert.throws(() => parseOsvFeed('{"id": "X"'), (e: Error) => e instanceof FeedFormatError && /not valid JSON/.test(e.message));
    assert.throws(() => parseOsvFeed('[{"id":"A","modified":"x"},{"modified":"x"}]', 'feed'), /feed\[1\]: OSV record without "id"/);
    assert.throws(() => parseOsvFeed('{"id":"A","modified":"x","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1"}]}]}]}'), /exactly one of/);
    const zip = writeZip([{ name: 'a.json', bytes: Buffer.from('{"id":"A","modified":"x"}') }], (b) => deflateRawSync(b));
    await assert.rejects(parseOsvBundle(zip.subarray(0, zip.length - 10)), (e: Error) => e instanceof FeedFormatError && /ZIP archive cannot be read/.test(e.message));
    assert.throws(() => parseKev('{"vulnerabilities":[{"cveID":"nope","dateAdded":"2024-01-01"}]}'), /cveID/);
    assert.throws(() => parseKev('[]'), /not a KEV catalogue/);
  });
});
