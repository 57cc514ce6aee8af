import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeSbom } from '../sbom/analyze.ts';
import { loadYamlDocuments } from '../validation/yaml.ts';
import { vexVerdict } from './apply.ts';
import { cpeParts, vexBinding, vexProductOf } from './bind.ts';
import type { VexComponentId, VexProduct } from './bind.ts';
import { parseVex } from './parse.ts';

const SBOM = new URL('../../test/fixtures/vuln/sbom/synthetic-log4j-app.cdx.json', import.meta.url);
const model = (() => {
  const a = analyzeSbom(readFileSync(SBOM));
  if (!a.ok) throw new Error(a.message);
  return a.model;
})();
/** acme-logger 1.0.0: pkg:generic/acme/acme-logger@1.0.0, serial urn:uuid:5b0c4f5e-…, BOM version 1. */
const product = vexProductOf(model)!;
const SERIAL = '5b0c4f5e-2f7e-4c8e-9a55-6b7f8f0e6a01';
const log4j = { purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar', ref: 'log4j-core' };
const log4jApi = { purl: 'pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1?type=jar', ref: 'log4j-api' };
const CVE = ['GHSA-jfh8-c2jp-5v3q', 'CVE-2021-44228'];

const set = (doc: unknown) => ({ documents: [{ source: 'vex', doc: parseVex(JSON.stringify(doc)) }] });
const verdict = (doc: unknown, c: VexComponentId = log4j, p: VexProduct | undefined = product) => vexVerdict(set(doc), CVE, c, p);
const ignoredWhy = (doc: unknown, p: VexProduct | undefined = product) => vexBinding(set(doc).documents, [p]).ignored.map((i) => [i.pointer, i.targetPointer, i.why]);

function openvex(products: unknown[]) {
  return {
    '@context': 'https://openvex.dev/ns/v0.2.0',
    '@id': 'https://example.com/vex/1',
    author: 'test',
    timestamp: '2026-01-01T00:00:00Z',
    version: 1,
    statements: [{ vulnerability: { name: 'CVE-2021-44228' }, products, status: 'not_affected', justification: 'vulnerable_code_not_present' }],
  };
}

function cdx(affects: string[], extra: Record<string, unknown> = {}) {
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    ...extra,
    vulnerabilities: [{ id: 'CVE-2021-44228', analysis: { state: 'not_affected', justification: 'code_not_present' }, affects: affects.map((ref) => ({ ref })) }],
  };
}

function csaf(tree: unknown, productIds: string[]) {
  return {
    document: { category: 'csaf_vex', csaf_version: '2.0', title: 't', publisher: { category: 'vendor', name: 'ACME', namespace: 'https://acme.example' } },
    product_tree: tree,
    vulnerabilities: [{ cve: 'CVE-2021-44228', product_status: { known_not_affected: productIds }, flags: [{ label: 'vulnerable_code_not_present', product_ids: productIds }] }],
  };
}
const leaf = (id: string, helper?: Record<string, string>) => ({ category: 'product_version', name: id, product: { product_id: id, name: id, ...(helper ? { product_identification_helper: helper } : {}) } });

describe('VEX bound to its product: vexProductOf', () => {
  it('takes purl, version, serial number and BOM version of the SBOM', () => {
    assert.equal(product.purl, 'pkg:generic/acme/acme-logger@1.0.0');
    assert.equal(product.version, '1.0.0');
    assert.equal(product.serialNumber, `urn:uuid:${SERIAL}`);
    assert.equal(product.bomVersion, 1);
    assert.ok(product.refs?.has('log4j-core'));
  });
});

describe('OpenVEX products', () => {
  it('applies to this release (purl with its version) and to every component of it', () => {
    const doc = openvex([{ '@id': 'pkg:generic/acme/acme-logger@1.0.0' }]);
    assert.equal(verdict(doc)?.suppresses, true);
    assert.equal(verdict(doc, log4jApi)?.suppresses, true);
    assert.deepEqual(ignoredWhy(doc), []);
  });

  it('identifiers.purl counts; @id that is no purl identifies nothing', () => {
    assert.equal(verdict(openvex([{ '@id': 'https://acme.example/logger', identifiers: { purl: 'pkg:generic/acme/acme-logger@1.0.0' } }]))?.suppresses, true);
    const iri = openvex([{ '@id': 'https://acme.example/logger/1.0.0' }]);
    assert.equal(verdict(iri), undefined);
    assert.match(ignoredWhy(iri)[0]![2]!, /neither a purl, a CPE nor a BOM-Link/);
  });

  it('another product, another version, no version, no product: ignored, with why and where', () => {
    const other = openvex([{ '@id': 'pkg:generic/acme/acme-router@1.0.0' }]);
    assert.equal(verdict(other), undefined);
    assert.deepEqual(ignoredWhy(other), [['/statements/0', '/statements/0/products/0', 'purl pkg:generic/acme/acme-router@1.0.0 names another product than pkg:generic/acme/acme-logger@1.0.0']]);
    const version = openvex([{ '@id': 'pkg:generic/acme/acme-logger@1.0.1' }]);
    assert.equal(verdict(version), undefined);
    assert.match(ignoredWhy(version)[0]![2]!, /is about version 1\.0\.1, not 1\.0\.0/);
    const noVersion = openvex([{ '@id': 'pkg:generic/acme/acme-logger' }]);
    assert.equal(verdict(noVersion), undefined);
    assert.match(ignoredWhy(noVersion)[0]![2]!, /names no version/);
    const empty = openvex([{}]);
    assert.equal(verdict(empty), undefined);
    assert.match(ignoredWhy(empty)[0]![2]!, /neither @id nor identifiers/);
    // a VEX statement about the component itself (its own product) is not about this release
    const component = openvex([{ '@id': 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' }]);
    assert.equal(verdict(component), undefined);
    assert.match(ignoredWhy(component)[0]![2]!, /another product/);
  });

  it('subcomponents scope the statement to those components of this release', () => {
    const doc = openvex([{ '@id': 'pkg:generic/acme/acme-logger@1.0.0', subcomponents: [{ '@id': 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' }] }]);
    assert.equal(verdict(doc)?.suppresses, true);
    assert.equal(verdict(doc, log4jApi), undefined);
    // the right subcomponent of another version of the product: ignored
    const wrong = openvex([{ '@id': 'pkg:generic/acme/acme-logger@2.0.0', subcomponents: [{ '@id': 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' }] }]);
    assert.equal(verdict(wrong), undefined);
    // another version of the subcomponent: does not cover this one
    const sub = openvex([{ '@id': 'pkg:generic/acme/acme-logger@1.0.0', subcomponents: [{ '@id': 'pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1' }] }]);
    assert.equal(verdict(sub), undefined);
  });

  it('no primary component in the SBOM: nothing binds', () => {
    const doc = openvex([{ '@id': 'pkg:generic/acme/acme-logger@1.0.0' }]);
    assert.equal(vexVerdict(set(doc), CVE, log4j, undefined), undefined);
    assert.match(vexBinding(set(doc).documents, [undefined]).ignored[0]!.why, /no primary component/);
  });
});

describe('CPE identity', () => {
  const cpeProduct: VexProduct = { cpe: 'cpe:2.3:o:acme:router_firmware:2.4.0:*:*:*:*:*:*:*', version: '2.4.0' };
  const comp = { cpe: 'cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*' };
  it('parses CPE 2.3 (with escapes) and 2.2 URIs', () => {
    assert.deepEqual(cpeParts('cpe:2.3:a:acme:my\\:app:1.0:*:*:*:*:*:*:*'), { part: 'a', vendor: 'acme', product: 'my:app', version: '1.0' });
    assert.deepEqual(cpeParts('cpe:/o:acme:router_firmware:2.4.0'), { part: 'o', vendor: 'acme', product: 'router_firmware', version: '2.4.0' });
    assert.equal(cpeParts('cpe:2.3:a:acme'), undefined);
    assert.equal(cpeParts('cpe:2.3:x:acme:p:1:*:*:*:*:*:*:*'), undefined);
  });
  it('binds on part, vendor, product and a concrete equal version only', () => {
    const v = (cpe: string) => verdict(openvex([{ '@id': 'x', identifiers: { cpe23: cpe } }]), comp, cpeProduct);
    assert.equal(v('cpe:2.3:o:acme:router_firmware:2.4.0:*:*:*:*:*:*:*')?.suppresses, true);
    assert.equal(v('cpe:/o:acme:router_firmware:2.4.0')?.suppresses, true);
    assert.equal(v('cpe:2.3:o:acme:router_firmware:2.3.0:*:*:*:*:*:*:*'), undefined);
    assert.equal(v('cpe:2.3:o:acme:router_firmware:*:*:*:*:*:*:*:*'), undefined);
    assert.equal(v('cpe:2.3:o:other:router_firmware:2.4.0:*:*:*:*:*:*:*'), undefined);
    const why = ignoredWhy(openvex([{ identifiers: { cpe23: 'cpe:2.3:o:acme:router_firmware:*:*:*:*:*:*:*:*' } }]), cpeProduct);
    assert.match(why[0]![2]!, /no concrete version/);
    // a CPE cannot be compared with a product that has none
    assert.match(ignoredWhy(openvex([{ identifiers: { cpe23: 'cpe:2.3:o:acme:router_firmware:2.4.0:*:*:*:*:*:*:*' } }]))[0]![2]!, /primary component has no valid CPE/);
  });
});

describe('CSAF product tree', () => {
  const tree = {
    branches: [
      { category: 'vendor', name: 'ACME', branches: [leaf('LOGGER-1.0.0', { purl: 'pkg:generic/acme/acme-logger@1.0.0' }), leaf('LOGGER-0.9', { purl: 'pkg:generic/acme/acme-logger@0.9.0' }), leaf('NOHELPER')] },
      { category: 'vendor', name: 'Apache', branches: [leaf('LOG4J', { purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' })] },
    ],
    full_product_names: [{ product_id: 'ROUTER', name: 'router', product_identification_helper: { cpe: 'cpe:2.3:o:acme:router:1.0:*:*:*:*:*:*:*' } }],
    relationships: [
      { category: 'default_component_of', product_reference: 'LOG4J', relates_to_product_reference: 'LOGGER-1.0.0', full_product_name: { product_id: 'LOGGER-1.0.0:LOG4J', name: 'x' } },
      { category: 'default_component_of', product_reference: 'LOG4J', relates_to_product_reference: 'LOGGER-0.9', full_product_name: { product_id: 'LOGGER-0.9:LOG4J', name: 'y' } },
    ],
  };
  it('a product_id whose helper purl is this release covers it', () => {
    assert.equal(verdict(csaf(tree, ['LOGGER-1.0.0']))?.suppresses, true);
    assert.equal(verdict(csaf(tree, ['LOGGER-1.0.0']), log4jApi)?.suppresses, true);
  });
  it('relationships scope the statement to the component of this release', () => {
    const doc = csaf(tree, ['LOGGER-1.0.0:LOG4J']);
    assert.equal(verdict(doc)?.suppresses, true);
    assert.equal(verdict(doc, log4jApi), undefined);
    assert.equal(verdict(csaf(tree, ['LOGGER-0.9:LOG4J'])), undefined);
    assert.match(ignoredWhy(csaf(tree, ['LOGGER-0.9:LOG4J']))[0]![2]!, /about version 0\.9\.0, not 1\.0\.0/);
  });
  it('wrong version, wrong product, missing helper, unknown product_id: ignored with the tree pointer', () => {
    assert.equal(verdict(csaf(tree, ['LOGGER-0.9'])), undefined);
    assert.deepEqual(ignoredWhy(csaf(tree, ['LOGGER-0.9']))[0]!.slice(0, 2), ['/vulnerabilities/0/product_status/known_not_affected/0', '/product_tree/branches/0/branches/1/product']);
    assert.equal(verdict(csaf(tree, ['LOG4J'])), undefined, 'the component as a product of its own is not this release');
    assert.equal(verdict(csaf(tree, ['ROUTER'])), undefined);
    assert.match(ignoredWhy(csaf(tree, ['NOHELPER']))[0]![2]!, /no purl or cpe in product_identification_helper/);
    assert.match(ignoredWhy(csaf(tree, ['GHOST']))[0]![2]!, /"GHOST" is not in the product tree/);
  });
});

describe('CycloneDX VEX affects[].ref', () => {
  const link = (serial: string, version: number, ref?: string) => `urn:cdx:${serial}/${version}${ref ? `#${encodeURIComponent(ref)}` : ''}`;
  it('a BOM-Link to this SBOM (serial and version) binds; a fragment scopes it to that component', () => {
    assert.equal(verdict(cdx([link(SERIAL, 1)]))?.suppresses, true);
    assert.equal(verdict(cdx([link(SERIAL, 1, 'acme-logger')]), log4jApi)?.suppresses, true);
    const scoped = cdx([link(SERIAL, 1, 'log4j-core')]);
    assert.equal(verdict(scoped)?.suppresses, true);
    assert.equal(verdict(scoped, log4jApi), undefined);
  });
  it('wrong serial, wrong BOM version, unknown bom-ref: ignored with why', () => {
    const otherSerial = cdx([link('3e671687-395b-41f5-a30f-a58921a69b79', 1, 'log4j-core')]);
    assert.equal(verdict(otherSerial), undefined);
    assert.match(ignoredWhy(otherSerial)[0]![2]!, /about another BOM/);
    const otherVersion = cdx([link(SERIAL, 2, 'log4j-core')]);
    assert.equal(verdict(otherVersion), undefined);
    assert.match(ignoredWhy(otherVersion)[0]![2]!, /version 2 of the BOM, not 1/);
    const ghost = cdx([link(SERIAL, 1, 'ghost')]);
    assert.equal(verdict(ghost), undefined);
    assert.deepEqual(ignoredWhy(ghost)[0]!.slice(0, 2), ['/vulnerabilities/0', '/vulnerabilities/0/affects/0']);
    assert.match(ignoredWhy(ghost)[0]![2]!, /bom-ref "ghost", which is not in this SBOM/);
  });
  it('a bom-ref resolves within the VEX document: its subject must be this release', () => {
    const subject = (purl: string) => ({ metadata: { component: { 'bom-ref': 'prod', name: 'acme-logger', purl } }, components: [{ 'bom-ref': 'l4j', name: 'log4j-core', purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1' }] });
    assert.equal(verdict(cdx(['prod'], subject('pkg:generic/acme/acme-logger@1.0.0')))?.suppresses, true);
    assert.equal(verdict(cdx(['prod'], subject('pkg:generic/acme/acme-logger@1.0.1'))), undefined);
    const comp = cdx(['l4j'], subject('pkg:generic/acme/acme-logger@1.0.0'));
    assert.equal(verdict(comp)?.suppresses, true);
    assert.equal(verdict(comp, log4jApi), undefined);
    assert.equal(verdict(cdx(['l4j'], subject('pkg:generic/acme/other@1.0.0'))), undefined);
    // the CISA example: a subject with only a name identifies nothing
    const cisa = parseVex(readFileSync(new URL('../../test/fixtures/vuln/vex/cisa-case1-not_affected.cdx.json', import.meta.url)));
    assert.equal(vexVerdict({ documents: [{ source: 'cisa', doc: cisa }] }, CVE, log4j, product), undefined);
    assert.match(vexBinding([{ source: 'cisa', doc: cisa }], [product]).ignored[0]!.why, /metadata\.component "product-ABC" has neither purl nor cpe/);
    assert.match(ignoredWhy(cdx(['nowhere']))[0]![2]!, /neither a BOM-Link, a purl or CPE, nor a bom-ref/);
  });
  it('a purl in affects: this release, or a component of a VEX whose subject is this release', () => {
    assert.equal(verdict(cdx(['pkg:generic/acme/acme-logger@1.0.0']))?.suppresses, true);
    assert.equal(verdict(cdx(['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1'])), undefined);
    const within = cdx(['pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1'], { metadata: { component: { name: 'l', purl: 'pkg:generic/acme/acme-logger@1.0.0' } } });
    assert.equal(verdict(within)?.suppresses, true);
    assert.equal(verdict(within, log4jApi), undefined);
  });
});

describe('the example VEX (examples/vex/acme-router-2.4.0.vex.cdx.json)', () => {
  it('binds by BOM-Link to the openssl component of the acme-router 2.4.0 example SBOM', () => {
    const docs = loadYamlDocuments(readFileSync(new URL('../../examples/acme-router-2.4.0.yaml', import.meta.url), 'utf8')) as { kind?: string; data?: Record<string, string> }[];
    const bom = docs.find((d) => d.kind === 'ConfigMap' && d.data?.['bom.json'])!.data!['bom.json']!;
    const a = analyzeSbom(bom);
    assert.ok(a.ok);
    const router = vexProductOf(a.model);
    const doc = parseVex(readFileSync(new URL('../../examples/vex/acme-router-2.4.0.vex.cdx.json', import.meta.url)));
    assert.deepEqual(doc.problems, []);
    assert.deepEqual(vexBinding([{ source: 'example', doc }], [router]), { applicable: 1, ignored: [] });
    const openssl = a.model.components.find((c) => c.ref === 'openssl')!;
    const v = vexVerdict({ documents: [{ source: 'example', doc }] }, ['CVE-2024-5535'], { ...(openssl.purl ? { purl: openssl.purl } : {}), ref: 'openssl' }, router);
    assert.equal(v?.suppresses, true);
    assert.equal(vexVerdict({ documents: [{ source: 'example', doc }] }, ['CVE-2024-5535'], { ref: 'zlib' }, router), undefined);
  });
});
