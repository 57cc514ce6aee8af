import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { FeedFormatError } from './errors.ts';
import { compareNvdVersions, NvdIndex, parseNvdFeed } from './nvd.ts';
import { VersionError } from './version.ts';

const FX = new URL('../../test/fixtures/vuln/nvd/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FX));
const records = parseNvdFeed(read('nvd-demo-subset.json'), 'nvd-demo-subset.json');
const index = new NvdIndex(records);
const ids = (cpe: string, version?: string) => index.assess(cpe, version).hits.map((h) => h.record.id).sort();

describe('NVD CVE API 2.0 feeds (real records)', () => {
  it('reads a response, a single cve object, an array of cve objects', () => {
    assert.deepEqual(records.map((r) => r.id), ['CVE-2023-45853', 'CVE-2024-0727', 'CVE-2021-44228', 'CVE-2024-2511']);
    assert.equal(parseNvdFeed(read('CVE-2024-0727.json')).length, 1);
    assert.equal(parseNvdFeed(JSON.stringify([JSON.parse(read('CVE-2024-0727.json').toString()), { cve: JSON.parse(read('CVE-2023-45853.json').toString()) }])).length, 2);
    assert.equal(index.unconfigured, 1, 'CVE-2024-2511 has no CPE configuration (Awaiting Analysis)');
    assert.equal(index.recordCount, 4);
  });
  it('rejects malformed records and truncated pages with the position', () => {
    assert.throws(() => parseNvdFeed('{"vulnerabilities":[{"cve":{"id":"nope"}}]}', 'f'), (e: Error) => e instanceof FeedFormatError && /f\/vulnerabilities\/0\/cve\/id/.test(e.message));
    const bad = { id: 'CVE-2024-0001', configurations: [{ nodes: [{ operator: 'OR', cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:a:x:y:1' }] }] }] };
    assert.throws(() => parseNvdFeed(JSON.stringify(bad), 'f'), /cpeMatch\/0\/criteria: a CPE 2.3 formatted string has 13/);
    const both = { id: 'CVE-2024-0001', configurations: [{ nodes: [{ operator: 'OR', cpeMatch: [{ vulnerable: true, criteria: 'cpe:2.3:a:x:y:*:*:*:*:*:*:*:*', versionEndIncluding: '1', versionEndExcluding: '2' }] }] }] };
    assert.throws(() => parseNvdFeed(JSON.stringify(both)), /both versionEndIncluding and versionEndExcluding/);
    const page = { resultsPerPage: 2000, startIndex: 0, totalResults: 3, vulnerabilities: [{ cve: JSON.parse(read('CVE-2024-0727.json').toString()) }] };
    assert.throws(() => parseNvdFeed(JSON.stringify(page)), /truncated \(1 of 3 results/);
    assert.throws(() => parseNvdFeed('{'), /not valid JSON/);
    assert.equal(parseNvdFeed(JSON.stringify({ id: 'CVE-2020-0001', vulnStatus: 'Rejected' })).length, 0, 'rejected CVEs are dropped');
  });
});

describe('CPE matching with version ranges', () => {
  it('OpenSSL letter releases and ranges (CVE-2024-0727)', () => {
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:3.0.12:*:*:*:*:*:*:*'), ['CVE-2024-0727']);
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*'), [], 'versionEndExcluding 3.0.13');
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:1.1.1w:*:*:*:*:*:*:*'), ['CVE-2024-0727']);
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:1.1.1x:*:*:*:*:*:*:*'), []);
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:1.0.2zi:*:*:*:*:*:*:*'), ['CVE-2024-0727']);
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:1.0.1u:*:*:*:*:*:*:*'), [], 'before versionStartIncluding');
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:3.1.4:*:*:*:*:*:*:*'), ['CVE-2024-0727']);
    assert.deepEqual(ids('cpe:2.3:a:openssl:openssl:3.2.1:*:*:*:*:*:*:*'), []);
    // 3.2.0 with update NA in the criterion; the component says nothing about the update: undecided, affected.
    const h = index.assess('cpe:2.3:a:openssl:openssl:3.2.0:*:*:*:*:*:*:*').hits;
    assert.equal(h.length, 1);
    assert.match(h[0]!.uncertain!, /update/);
    assert.deepEqual(index.assess('cpe:2.3:a:openssl:openssl:3.2.0:-:*:*:*:*:*:*').hits.map((x) => x.uncertain), [undefined]);
  });
  it('versionEndIncluding (zlib CVE-2023-45853) and the component version when the CPE leaves it ANY', () => {
    assert.deepEqual(ids('cpe:2.3:a:zlib:zlib:1.3:*:*:*:*:*:*:*'), ['CVE-2023-45853']);
    assert.deepEqual(ids('cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*'), []);
    assert.deepEqual(ids('cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*'), ['CVE-2023-45853']);
    assert.deepEqual(ids('cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:*', '1.2.11'), ['CVE-2023-45853']);
    assert.match(index.assess('cpe:2.3:a:zlib:zlib:*:*:*:*:*:*:*:*').unassessed!, /no version/);
    assert.deepEqual(ids('cpe:/a:zlib:zlib:1.2.11'), ['CVE-2023-45853'], 'CPE 2.2 URI');
  });
  it('Log4Shell by CPE: ranges, beta/rc criteria, the AND configuration note', () => {
    assert.deepEqual(ids('cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*'), ['CVE-2021-44228']);
    assert.deepEqual(ids('cpe:2.3:a:apache:log4j:2.12.2:*:*:*:*:*:*:*'), []);
    assert.deepEqual(ids('cpe:2.3:a:apache:log4j:2.15.0:*:*:*:*:*:*:*'), []);
    assert.deepEqual(ids('cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*'), ['CVE-2021-44228']);
    assert.deepEqual(ids('cpe:2.3:a:apache:log4j:1.2.17:*:*:*:*:*:*:*'), []);
    const fw = index.assess('cpe:2.3:o:siemens:6bk1602-0aa12-0tp0_firmware:2.6.0:*:*:*:*:*:*:*').hits;
    assert.equal(fw.length, 1);
    assert.match(fw[0]!.notes[0]!, /1 other condition/);
    assert.deepEqual(ids('cpe:2.3:h:siemens:6bk1602-0aa12-0tp0:-:*:*:*:*:*:*:*'), [], 'vulnerable:false platforms never match');
  });
  it('a version that cannot be ordered is undecided (affected), never a silent non-match', () => {
    const h = index.assess('cpe:2.3:a:zlib:zlib:1.2.x-custom:*:*:*:*:*:*:*').hits;
    assert.equal(h.length, 1);
    assert.match(h[0]!.uncertain!, /cannot order/);
    assert.match(index.assess('cpe:2.3:a:*:zlib:1:*:*:*:*:*:*:*').unassessed!, /vendor and product/);
    assert.match(index.assess('not a cpe').unassessed!, /does not parse/);
  });
  it('version ordering: dotted numbers with letter suffixes, SemVer pre-releases', () => {
    const asc = ['1.0.2', '1.0.2a', '1.0.2z', '1.0.2za', '1.0.2zj', '1.1', '1.1.0', '1.1.1', '1.1.1w', '3.0.9', '3.0.13'];
    for (let i = 0; i + 1 < asc.length; i++) assert.ok(compareNvdVersions(asc[i]!, asc[i + 1]!) <= 0, `${asc[i]} <= ${asc[i + 1]}`);
    assert.equal(compareNvdVersions('1.3', '1.3.0'), 0);
    assert.equal(compareNvdVersions('v1.3.1', '1.3.1'), 0);
    assert.ok(compareNvdVersions('2.0.0-beta9', '2.0.0') < 0);
    assert.throws(() => compareNvdVersions('2021-12-13', '1.0'), VersionError);
    const ver = fc.array(fc.nat(40), { minLength: 1, maxLength: 4 }).chain((n) => fc.constantFrom('', 'a', 'w', 'zj').map((l) => `${n.join('.')}${l}`));
    fc.assert(fc.property(ver, ver, ver, (a, b, c) => {
      const ab = Math.sign(compareNvdVersions(a, b));
      if (ab !== -Math.sign(compareNvdVersions(b, a))) return false;
      if (ab <= 0 && compareNvdVersions(b, c) <= 0) return compareNvdVersions(a, c) <= 0;
      return true;
    }));
  });
});
