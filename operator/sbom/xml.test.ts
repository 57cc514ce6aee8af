/**
 * Issue #13 item 8: CycloneDX XML 1.2–1.7 is validated against the official XSD (libxml2 as WebAssembly) and mapped
 * to the same model as JSON; findings name XPath. Real documents: the laravel 7.12.0 SBOM published by CycloneDX as
 * both JSON and XML (CycloneDX/bom-examples aaa24717), and cyclonedx-npm's XML output for this repository.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeSbom, analyzeSbomAsync, localiseFinding } from './analyze.ts';
import type { SbomAnalysis, SbomAnalysisOk } from './analyze.ts';
import type { SbomModel } from './model.ts';
import { ruleBsiFields, ruleComplete, ruleLicenceIds, ruleTopLevelDeps } from './rules.ts';
import { cycloneDxXmlVersion, toXPath, xmlDepthExceeds } from './xml.ts';

const fx = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'sbom');
const read = (...p: string[]) => readFileSync(join(fx, ...p));
function ok(a: SbomAnalysis): SbomAnalysisOk {
  assert.ok(a.ok, JSON.stringify(a));
  return a;
}
/** The model without document positions (pointers differ by construction between JSON and XML). */
function essence(m: SbomModel) {
  return {
    components: m.components.map((c) => ({
      ref: c.ref, primary: c.primary, type: c.type, name: c.name, version: c.version, group: c.group, purl: c.purl, cpe: c.cpe,
      creator: c.creator, supplier: c.supplier, filename: c.filename, hashes: c.hashes.map((h) => [h.alg, h.content, h.where]),
      licences: c.licences.map((l) => [l.expression, l.name, l.acknowledgement]), uris: c.uris.map((u) => [u.kind, u.value]), nested: c.nested, referencesBom: c.referencesBom,
    })),
    dependencies: m.dependencies.map((d) => [d.ref, d.dependsOn]),
    compositions: m.compositions.map((c) => [c.aggregate, c.refs]),
    creator: m.creator, timestamp: m.timestamp, uri: m.uri,
  };
}

test('the published laravel SBOM gives the same model from its XML and its JSON (CycloneDX 1.4), and the XML is XSD-valid', async () => {
  const x = ok(await analyzeSbomAsync(read('published', 'laravel-7.12.0.cdx-1.4.xml')));
  const j = ok(analyzeSbom(read('published', 'laravel-7.12.0.cdx-1.4.json')));
  assert.deepEqual([x.format, x.specVersion, x.syntax], ['CycloneDX', '1.4', 'xml']);
  assert.deepEqual([x.schema.schema, x.schema.valid, x.schema.schemaName], ['official', true, 'CycloneDX 1.4 XML (bom-1.4.xsd)']);
  assert.equal(x.model.components.length, 63);
  assert.deepEqual(essence(x.model), essence(j.model));
  // Same rules, same reasons and counts.
  const reasons = (m: SbomModel) => [...ruleBsiFields(m, 'bsi-2.0'), ...ruleComplete(m), ...ruleLicenceIds(m), ...ruleTopLevelDeps(m)].map((f) => [f.reason, f.count, f.message.replace(/\(.*\)$/, '')]);
  assert.deepEqual(reasons(x.model), reasons(j.model));
});

for (const v of ['1.4', '1.6']) {
  test(`real cyclonedx-npm XML output (CycloneDX ${v}, this repository): valid against bom-${v}.xsd, findings by XPath`, async () => {
    const a = ok(await analyzeSbomAsync(read('generated', `cra-gate.cdx-${v}.xml`)));
    assert.equal(a.specVersion, v);
    assert.equal(a.schema.valid, true, JSON.stringify(a.schema.problems));
    assert.ok(a.model.components.length > 250);
    assert.ok(a.model.components[0]?.primary);
    const hash = ruleBsiFields(a.model, 'bsi-2.1').map((f) => localiseFinding(a, f)).find((f) => f.reason === 'MissingExecutableProperty');
    assert.ok(hash);
    assert.match(hash.pointer, /^\/bom\/(metadata\/component|components\/\*\[\d+\])/);
    assert.ok(hash.pointers.every((p) => p.startsWith('/bom/')));
    assert.doesNotMatch(hash.message, /\(first: \/components/);
  });
}

test('XSD violations are findings naming the element and its line; never a pass', async () => {
  const good = read('handmade', 'xml-compliant.cdx.xml').toString('utf8');
  const cases: [string, RegExp][] = [
    [good.replace('<name>zlib</name>', '<nme>zlib</nme>'), /Element 'nme': This element is not expected/],
    [good.replace('type="library" bom-ref="zlib"', 'type="widget" bom-ref="zlib"'), /'widget' is not an element of the set|not a valid value/],
    [good.replace('<hash alg="SHA-512">cccc', '<hash alg="SHA-512">zzzz'), /hash|pattern/i],
    [good.replace('<timestamp>2028-01-10T12:00:00Z</timestamp>', '<timestamp>yesterday</timestamp>'), /timestamp/],
  ];
  for (const [doc, msg] of cases) {
    const a = ok(await analyzeSbomAsync(doc));
    assert.equal(a.schema.valid, false);
    assert.match(a.schema.problems[0]!.pointer, /^\/bom \(line \d+\)$/);
    assert.match(a.schema.problems.map((p) => p.message).join('\n'), msg);
  }
  // The synchronous analysis cannot run the XSD: it reports XML as not validated (fail closed).
  const s = ok(analyzeSbom(good));
  assert.equal(s.schema.valid, false);
  assert.match(s.schema.problems[0]!.message, /not validated/);
});

test('bad XML input: a finding or an unusable-input reason, never a crash or a pass', async () => {
  const good = read('handmade', 'xml-compliant.cdx.xml').toString('utf8');
  const truncated = await analyzeSbomAsync(good.slice(0, 900));
  assert.ok(!truncated.ok || !truncated.schema.valid, 'truncated XML is never valid');
  const entity = await analyzeSbomAsync(`<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY x "${'x'.repeat(10)}">]>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"/>`);
  assert.deepEqual(!entity.ok && [entity.reason], ['SbomUnparseable']);
  const spdxRdf = await analyzeSbomAsync('<?xml version="1.0"?>\n<rdf:RDF xmlns:spdx="http://spdx.org/rdf/terms#"/>');
  assert.deepEqual(!spdxRdf.ok && spdxRdf.reason, 'SbomFormatUnsupported');
  const notBom = await analyzeSbomAsync('<?xml version="1.0"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0"/>');
  assert.deepEqual(!notBom.ok && notBom.reason, 'SbomFormatUnsupported');
  const wrongRoot = await analyzeSbomAsync('<x xmlns="http://cyclonedx.org/schema/bom/1.6"/>');
  assert.equal(wrongRoot.ok, false);
  assert.equal(xmlDepthExceeds(`<a>${'<b>'.repeat(200)}${'</b>'.repeat(200)}</a>`, 128), true);
  assert.equal(xmlDepthExceeds(`<a><![CDATA[${'<b>'.repeat(200)}]]><!-- ${'<c>'.repeat(200)} --><d/></a>`, 128), false);
});

test('namespace detection and XPath of model pointers', () => {
  assert.equal(cycloneDxXmlVersion('<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">'), '1.5');
  assert.equal(cycloneDxXmlVersion('<cdx:bom xmlns:cdx="http://cyclonedx.org/schema/bom/1.6">'), '1.6');
  assert.equal(cycloneDxXmlVersion('<bom xmlns="http://example.com/bom/1.6">'), undefined);
  assert.equal(toXPath('/components/2/hashes/0'), '/bom/components/*[3]/hashes/*[1]');
  assert.equal(toXPath('/metadata/component'), '/bom/metadata/component');
  assert.equal(toXPath('/components/0/components/1'), '/bom/components/*[1]/components/*[2]');
  assert.equal(toXPath('/dependencies/1/dependsOn/0'), '/bom/dependencies/*[2]/*[1]');
  assert.equal(toXPath('/dependencies/1/ref'), '/bom/dependencies/*[2]/@ref');
  assert.equal(toXPath('/components/0/externalReferences/0/url'), '/bom/components/*[1]/externalReferences/*[1]/url');
  assert.equal(toXPath('/components/0/version'), '/bom/components/*[1]/version');
  assert.equal(toXPath('/version'), '/bom/@version');
  assert.equal(toXPath('/specVersion'), '/bom/namespace::*[1]');
  assert.equal(toXPath(''), '/bom');
});

test('XML through the operator\'s worker thread (large-document path): validated and modelled the same', async () => {
  const { analyzeInWorker } = await import('../evidence/sbom.ts');
  const bytes = read('generated', 'cra-gate.cdx-1.6.xml');
  const w = ok(await analyzeInWorker(bytes));
  const inline = ok(await analyzeSbomAsync(bytes));
  assert.equal(w.syntax, 'xml');
  assert.equal(w.schema.valid, true);
  // The worker returns the compact result (issue 16): the same as compacting the in-process analysis.
  const { compactAnalysis } = await import('./compact.ts');
  const c = ok(compactAnalysis(inline));
  assert.deepEqual(essence(w.model), essence(c.model));
  assert.deepEqual(w.findings, c.findings);
});
