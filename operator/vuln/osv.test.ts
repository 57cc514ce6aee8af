import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { analyzeSbom } from '../sbom/analyze.ts';
import { parseVex } from '../vex/parse.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { assessVulnerabilities } from './assess.ts';
import { forEachOsvBundleRecord, indexOsvDocuments, parseOsvBundle } from './bundle.ts';
import { FeedFormatError } from './errors.ts';
import { parseKev } from './kev.ts';
import { OsvIndex } from './match.ts';
import { osvArrayReader, parseOsvFeed } from './osv.ts';
import { writeZip } from './zip.ts';

/** A record as OSV publishes it: everything matching does not read (details, references, severity …) included. */
const full = {
  schema_version: '1.6.0',
  id: 'GHSA-aaaa-bbbb-cccc',
  modified: '2026-01-02T03:04:05Z',
  published: '2026-01-01T00:00:00Z',
  aliases: ['CVE-2026-0001'],
  upstream: ['CVE-2026-0002'],
  related: ['GHSA-zzzz-zzzz-zzzz'],
  summary: 'Prototype pollution in demo-lib',
  details: 'x'.repeat(4096),
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  references: [{ type: 'ADVISORY', url: 'https://example.invalid/a' }],
  credits: [{ name: 'someone' }],
  database_specific: { github_reviewed: true, cwe_ids: ['CWE-1321'] },
  affected: [
    {
      package: { ecosystem: 'npm', name: 'demo-lib', purl: 'pkg:npm/demo-lib' },
      ranges: [
        { type: 'GIT', repo: 'https://example.invalid/demo-lib.git', events: [{ introduced: '0' }, { fixed: 'abcdef' }] },
        { type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.4.2' }], database_specific: { source: 'x' } },
      ],
      versions: ['0.9.9-legacy'],
      ecosystem_specific: { affected_functions: ['merge'] },
      database_specific: { last_known_affected_version_range: '< 1.4.2' },
    },
    { package: { ecosystem: 'PyPI', name: 'demo-lib' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '2.0' }] }] },
    { ranges: [{ type: 'GIT', repo: 'https://example.invalid/x.git', events: [{ introduced: '0' }] }] },
  ],
};

const bom = (components: unknown[]): SbomEvidence => ({
  artifact: 'fw',
  source: 'test',
  analysis: analyzeSbom(Buffer.from(JSON.stringify({
    bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
    metadata: { timestamp: '2026-01-01T00:00:00Z', component: { type: 'firmware', name: 'fw', version: '1.0', 'bom-ref': 'fw', purl: 'pkg:generic/fw@1.0' } },
    components,
  }))),
});

const record = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `R-${i}`,
  modified: '2026-01-01T00:00:00Z',
  aliases: [`CVE-2026-${10000 + i}`],
  summary: `advisory ${i}`,
  details: 'd'.repeat(200),
  affected: [{ package: { ecosystem: 'npm', name: `pkg-${i % 50}` }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: `${(i % 7) + 1}.0.0` }] }] }],
  ...extra,
});

const isFeedError = (re: RegExp) => (e: unknown): boolean => e instanceof FeedFormatError && re.test(e.message);

describe('OSV records: only what the readers use is kept', () => {
  it('the reduced record carries exactly the fields match.ts, assess.ts, KEV, VEX and the status read', () => {
    const [r] = parseOsvFeed(JSON.stringify(full));
    assert.deepEqual(r, {
      id: 'GHSA-aaaa-bbbb-cccc',
      aliases: ['CVE-2026-0001'],
      upstream: ['CVE-2026-0002'],
      summary: 'Prototype pollution in demo-lib',
      affected: [
        {
          ecosystem: 'npm',
          name: 'demo-lib',
          purl: 'pkg:npm/demo-lib',
          ranges: [
            { type: 'GIT', events: [{ introduced: '0' }, { fixed: 'abcdef' }] },
            { type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.4.2' }] },
          ],
          versions: ['0.9.9-legacy'],
        },
        { ecosystem: 'PyPI', name: 'demo-lib', ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '2.0' }] }], versions: [] },
      ],
    });
    const [w] = parseOsvFeed(JSON.stringify({ ...full, withdrawn: '2026-02-01T00:00:00Z' }));
    assert.equal(w!.withdrawn, '2026-02-01T00:00:00Z');
  });

  it('every kept field reaches the result: ranges, explicit versions, GIT note, summary, aliases + upstream for KEV and VEX', () => {
    const index = new OsvIndex(parseOsvFeed(JSON.stringify(full)));
    const kev = parseKev(JSON.stringify({ vulnerabilities: [{ cveID: 'CVE-2026-0002', dateAdded: '2026-01-05' }] }));
    const vexDoc = parseVex(JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://example.invalid/vex/1', author: 'test', timestamp: '2026-01-20T12:00:00Z', version: 1,
      statements: [{
        vulnerability: { name: 'CVE-2026-0001' },
        products: [{ '@id': 'pkg:generic/fw@1.0', subcomponents: [{ '@id': 'pkg:pypi/demo-lib@1.9' }] }],
        status: 'not_affected', justification: 'vulnerable_code_not_present',
      }],
    }));
    const r = assessVulnerabilities({
      sboms: [bom([
        { type: 'library', name: 'demo-lib', 'bom-ref': 'a', version: '1.2.0', purl: 'pkg:npm/demo-lib@1.2.0' },
        { type: 'library', name: 'demo-lib', 'bom-ref': 'b', version: '0.9.9-legacy', purl: 'pkg:npm/demo-lib@0.9.9-legacy' },
        { type: 'library', name: 'demo-lib', 'bom-ref': 'c', version: '1.4.2', purl: 'pkg:npm/demo-lib@1.4.2' },
        { type: 'library', name: 'demo-lib', 'bom-ref': 'd', version: '1.9', purl: 'pkg:pypi/demo-lib@1.9' },
      ])],
      index,
      kev: [kev],
      vex: { documents: [{ source: 'vex', doc: vexDoc }] },
    });
    const byRef = new Map(r.matches.map((m) => [m.pointer, m]));
    assert.equal(r.matches.length, 3, 'in range (a), explicit version (b), PyPI last_affected (d); fixed version (c) is not affected');
    for (const m of r.matches) {
      assert.equal(m.advisory, 'GHSA-aaaa-bbbb-cccc');
      assert.deepEqual([...m.aliases].sort(), ['CVE-2026-0001', 'CVE-2026-0002']);
      assert.equal(m.summary, 'Prototype pollution in demo-lib');
      assert.equal(m.kev?.cveID, 'CVE-2026-0002', 'KEV reached through the upstream id');
    }
    const inRange = [...byRef.values()].find((m) => m.purl === 'pkg:npm/demo-lib@1.2.0');
    assert.ok(inRange?.notes.some((n) => /GIT range skipped/.test(n)), 'the GIT range was kept (and skipped with a note)');
    assert.ok([...byRef.values()].some((m) => m.purl === 'pkg:npm/demo-lib@0.9.9-legacy'), 'explicit versions were kept');
    assert.equal([...byRef.values()].find((m) => m.purl.startsWith('pkg:pypi/'))?.vex?.status, 'not_affected', 'VEX reached through the alias');
    assert.equal(index.recordCount, 1);
    assert.equal(index.unmapped, 0);
  });

  it('a withdrawn record is counted and never matched', () => {
    const index = new OsvIndex(parseOsvFeed(JSON.stringify([full, { ...full, id: 'W', withdrawn: '2026-02-01T00:00:00Z' }])));
    assert.equal(index.recordCount, 2);
    assert.deepEqual(index.match('pkg:npm/demo-lib@1.2.0').map((h) => h.record.id), ['GHSA-aaaa-bbbb-cccc']);
  });
});

describe('OSV feeds are indexed while they are read', () => {
  const many = Array.from({ length: 6000 }, (_, i) => record(i));
  const arrayText = JSON.stringify(many);

  it('a large JSON array read in slices gives the same records as the whole text, and the same index', async () => {
    assert.ok(arrayText.length > 1024 * 1024, 'more than one slice');
    const whole = parseOsvFeed(arrayText, 'feed');
    const sliced = await parseOsvBundle(Buffer.from(arrayText), 'feed');
    assert.deepEqual(sliced, whole);
    const index = await indexOsvDocuments([{ name: 'feed', bytes: Buffer.from(arrayText) }]);
    assert.equal(index.recordCount, 6000);
    assert.deepEqual(index.match('pkg:npm/pkg-3@0.5.0').map((h) => h.record.id), new OsvIndex(whole).match('pkg:npm/pkg-3@0.5.0').map((h) => h.record.id));
  });

  it('an array split anywhere, even inside a multi-byte character, reads the same', () => {
    const doc = Buffer.from(JSON.stringify([{ ...record(1), summary: 'é€😀 ü' }, record(2)]));
    for (let cut = 1; cut < doc.length; cut += 7) {
      const got: string[] = [];
      const r = osvArrayReader('f', (x) => got.push(`${x.id}:${x.summary}`));
      r.write(doc.subarray(0, cut));
      r.write(doc.subarray(cut));
      assert.equal(r.end(), 2);
      assert.deepEqual(got, ['R-1:é€😀 ü', 'R-2:advisory 2'], `cut at ${cut}`);
    }
  });

  it('an invalid element or truncated array fails with its position; nothing partial is returned', async () => {
    const bad: unknown[] = [...many];
    bad[4321] = { ...record(4321), affected: [{ package: { ecosystem: 'npm', name: 'x' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }] }] };
    await assert.rejects(indexOsvDocuments([{ name: 'feed.json', bytes: Buffer.from(JSON.stringify(bad)) }]), isFeedError(/^feed\.json\[4321\] \(R-4321\) \/affected\/0\/ranges\/0\/events\/0: exactly one of/));
    await assert.rejects(indexOsvDocuments([{ name: 'feed.json', bytes: Buffer.from(arrayText.slice(0, -300)) }]), isFeedError(/^feed\.json: not valid JSON after \d+ records/));
    assert.throws(() => parseOsvFeed(`${arrayText.slice(0, 2000)}x`, 'f'), isFeedError(/^f: not valid JSON after \d+ records/));
    assert.throws(() => parseOsvFeed('[{"id":"A","modified":"x"}] [1]', 'f'), isFeedError(/not valid JSON/), 'trailing content');
    assert.equal(parseOsvFeed(' [ ] ').length, 0);
  });

  it('a malformed entry inside a ZIP bundle fails the bundle with the entry\'s name', async () => {
    const entries = [
      { name: 'R-1.json', bytes: Buffer.from(JSON.stringify(record(1))) },
      { name: 'sub/R-2.json', bytes: Buffer.from(JSON.stringify({ ...record(2), affected: [42] })) },
      { name: 'R-3.json', bytes: Buffer.from(JSON.stringify(record(3))) },
    ];
    const zip = writeZip(entries, (b) => deflateRawSync(b));
    await assert.rejects(indexOsvDocuments([{ name: 'all.zip', bytes: zip }]), isFeedError(/^all\.zip sub\/R-2\.json \(R-2\) \/affected\/0: must be an object/));
    const notJson = writeZip([entries[0]!, { name: 'R-9.json', bytes: Buffer.from('{"id": "R-9", ') }], (b) => deflateRawSync(b));
    await assert.rejects(parseOsvBundle(notJson, 'all.zip'), isFeedError(/^all\.zip R-9\.json: not valid JSON/));
    const noId = writeZip([{ name: 'x/y.json', bytes: Buffer.from('[{"modified":"x"}]') }], (b) => deflateRawSync(b));
    await assert.rejects(parseOsvBundle(noId, 'all.zip'), isFeedError(/^all\.zip x\/y\.json\[0\]: OSV record without "id"/));
  });

  it('ZIP entries are indexed one by one; non-JSON entries are skipped; the count is what was read', async () => {
    const zip = writeZip([
      ...Array.from({ length: 30 }, (_, i) => ({ name: `R-${i}.json`, bytes: Buffer.from(JSON.stringify(record(i))) })),
      { name: 'README.md', bytes: Buffer.from('not a record') },
    ], (b) => deflateRawSync(b));
    const seen: string[] = [];
    assert.equal(await forEachOsvBundleRecord(zip, 'all.zip', (r) => seen.push(r.id)), 30);
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, i) => `R-${i}`));
    const index = await indexOsvDocuments([{ name: 'all.zip', bytes: zip }]);
    assert.equal(index.recordCount, 30);
    assert.deepEqual(index.match('pkg:npm/pkg-5@0.1.0').map((h) => h.record.id), ['R-5']);
  });

  it('a large feed does not hold the event loop for its whole length (JSON slices, ZIP batches)', async () => {
    const zip = writeZip(Array.from({ length: 2500 }, (_, i) => ({ name: `R-${i}.json`, bytes: Buffer.from(JSON.stringify(record(i))) })), (b) => deflateRawSync(b));
    for (const [what, bytes, last] of [['JSON array', Buffer.from(arrayText), 'R-5999'], ['ZIP', zip, 'R-2499']] as const) {
      let first = true;
      let ticked = false;
      let tickedBeforeLast = false;
      await forEachOsvBundleRecord(bytes, what, (r) => {
        if (first) setImmediate(() => { ticked = true; });
        first = false;
        if (r.id === last) tickedBeforeLast = ticked;
      });
      assert.ok(tickedBeforeLast, `${what}: a callback scheduled at the first record ran before the last one was read`);
    }
  });

  it('merging the indexes of several feeds equals one index over all their records; a merged index is read-only', () => {
    const a = many.slice(0, 100);
    const b = many.slice(100, 250);
    const merged = OsvIndex.merge([new OsvIndex(parseOsvFeed(JSON.stringify(a))), new OsvIndex(parseOsvFeed(JSON.stringify(b)))]);
    const one = new OsvIndex(parseOsvFeed(JSON.stringify([...a, ...b])));
    assert.equal(merged.recordCount, 250);
    assert.equal(merged.packageCount, one.packageCount);
    for (const p of ['pkg:npm/pkg-1@0.1.0', 'pkg:npm/pkg-49@3.0.0', 'pkg:npm/pkg-7@9.0.0']) {
      assert.deepEqual(merged.match(p).map((h) => h.record.id).sort(), one.match(p).map((h) => h.record.id).sort(), p);
    }
    assert.throws(() => merged.add(parseOsvFeed(JSON.stringify(record(1)))[0]!), /read-only/);
    const single = new OsvIndex();
    assert.equal(OsvIndex.merge([single]), single);
  });
});
