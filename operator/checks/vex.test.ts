import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeSbom } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { parseVex } from '../vex/parse.ts';
import type { VexDocument } from '../vex/parse.ts';
import type { VulnFeedsEvidence } from '../vuln/evidence.ts';
import { OsvIndex } from '../vuln/match.ts';
import { goodRelease, ctx } from './testkit.ts';
import { vexValid } from './vex.ts';

const FX = new URL('../../test/fixtures/vuln/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FX));
const NOW = new Date('2028-02-01T00:00:00Z');
const sbom = (file: string): SbomEvidence => ({ artifact: 'app', source: file, analysis: analyzeSbom(read(`sbom/${file}`)) });
const rel = goodRelease({ vulnerabilityHandling: { contact: 'mailto:a@b.example', vex: { configMapRef: { name: 'vex' } } } });

function feeds(doc: VexDocument): VulnFeedsEvidence {
  return {
    feeds: [{ kind: 'osv', source: 'ConfigMap cra-gate/osv', digest: 'sha256:a', records: 0 }],
    index: new OsvIndex([]),
    kev: [],
    vex: [{ source: 'vex', format: doc.format, statements: doc.statements.length, problems: doc.problems }],
    vexSet: { documents: [{ source: 'vex', doc }] },
  };
}
/** The synthetic CSAF VEX without its (invalid) second vulnerability. */
function csafFirstOnly(): VexDocument {
  const raw = JSON.parse(read('vex/synthetic-csaf-vex.json').toString()) as { vulnerabilities: unknown[] };
  raw.vulnerabilities = raw.vulnerabilities.slice(0, 1);
  return parseVex(JSON.stringify(raw));
}
const run = (doc: VexDocument, sboms: SbomEvidence[]) => vexValid.run(ctx(rel, {}, NOW, { sboms, vulnFeeds: feeds(doc) }));

describe('vex.valid', () => {
  it('is skipped without a declared VEX document', () => {
    assert.equal(vexValid.run(ctx(goodRelease(), {}, NOW, {})).result, 'Skipped');
  });

  it('reports each statement problem (VexInvalid)', () => {
    const out = run(parseVex(read('vex/synthetic-openvex.json')), [sbom('cern-lhc-vdm-editor.cdx.json')]);
    assert.deepEqual([out.result, out.reason], ['Fail', 'VexInvalid']);
    assert.deepEqual(out.findings?.map((f) => f.pointer), ['/vex/statements/1', '/vex/statements/2']);
  });

  it('passes when every statement is about this release', () => {
    const out = run(csafFirstOnly(), [sbom('synthetic-log4j-app.cdx.json')]);
    assert.deepEqual([out.result, out.reason], ['Pass', 'Compliant'], out.message);
    assert.match(out.message, /all about this release/);
  });

  it('a VEX about another product fails (VexNotForProduct), naming each statement and why', () => {
    // the CSAF VEX is about acme-logger 1.0.0; the SBOM is lhc-vdm-editor 0.0.1
    const out = run(csafFirstOnly(), [sbom('cern-lhc-vdm-editor.cdx.json')]);
    assert.deepEqual([out.result, out.reason], ['Fail', 'VexNotForProduct']);
    assert.deepEqual(out.findings?.map((f) => f.pointer), ['/vex/product_tree/relationships/0']);
    assert.match(out.findings[0]!.message, /^statement \/vulnerabilities\/0\/product_status\/known_not_affected\/0 ignored: purl pkg:generic\/acme\/acme-logger@1\.0\.0 names another product than pkg:npm\/lhc-vdm-editor@0\.0\.1/);
  });

  it('passes with findings when some statements are about other products or versions', () => {
    const doc = parseVex(JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      '@id': 'https://example.com/vex/2',
      author: 'test',
      timestamp: '2026-01-01T00:00:00Z',
      version: 1,
      statements: [
        { vulnerability: { name: 'CVE-2021-44228' }, products: [{ '@id': 'pkg:generic/acme/acme-logger@1.0.0' }], status: 'fixed' },
        { vulnerability: { name: 'CVE-2021-44228' }, products: [{ '@id': 'pkg:generic/acme/acme-logger@0.9.0' }], status: 'fixed' },
      ],
    }));
    const out = run(doc, [sbom('synthetic-log4j-app.cdx.json')]);
    assert.equal(out.result, 'Pass');
    assert.match(out.message, /1 of 2 statement\(s\) about this release; 1 ignored \(purl pkg:generic\/acme\/acme-logger@0\.9\.0 is about version 0\.9\.0, not 1\.0\.0\)/);
    assert.deepEqual(out.findings?.map((f) => f.pointer), ['/vex/statements/1/products/0']);
  });

  it('fails closed without a usable SBOM: which statements apply cannot be told', () => {
    const doc = parseVex(read('vex/synthetic-csaf-vex.json'));
    assert.deepEqual([run(doc, []).result, run(doc, []).reason], ['Error', 'EvidenceUnavailable']);
    const bad: SbomEvidence = { artifact: 'app', source: 'bad', analysis: analyzeSbom('{') };
    assert.equal(run(doc, [bad]).result, 'Error');
  });
});
