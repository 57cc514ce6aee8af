import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allUnique, validateSchema } from './schema.ts';
import { parseSbomText } from './parse.ts';

test('uniqueItems in linear time keeps JSON-schema semantics (deep equality, key order irrelevant)', () => {
  assert.equal(allUnique([{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }]), false);
  assert.equal(allUnique([{ a: 1 }, { a: '1' }, [1], 1, '1', null]), true);
  const doc = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [{ type: 'library', name: 'x' }, { name: 'x', type: 'library' }] };
  const r = validateSchema(parseSbomText(JSON.stringify(doc)));
  assert.equal(r.valid, false);
  assert.equal(r.problems[0]?.pointer, '/components');
});

test('uniqueItems on long arrays: bucketed by one probe value, decided by deep equality', () => {
  const comps = Array.from({ length: 50 }, (_, i) => ({ 'bom-ref': `r${i % 5}`, name: 'x', version: String(i), hashes: [{ alg: 'SHA-256', content: String(i) }] }));
  assert.equal(allUnique(comps), true); // same probe (bom-ref) in groups of ten, all different
  assert.equal(allUnique([...comps, { hashes: [{ content: '7', alg: 'SHA-256' }], version: '7', name: 'x', 'bom-ref': 'r2' }]), false);
  assert.equal(allUnique([...comps, { ...comps[3], extra: null }]), true);
  const prims = [...Array.from({ length: 20 }, (_, i) => `a${i}`), 1, true, null, [1], [1, 2], { a: 1 }];
  assert.equal(allUnique(prims), true);
  assert.equal(allUnique([...prims, 'a3']), false);
  assert.equal(allUnique([...prims, [1, 2]]), false);
  assert.equal(allUnique([...prims, '1', 'true', 'null', [2, 1]]), true);
});

test('SPDX 2.3 is validated against the official schema', () => {
  const spdx23 = { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', dataLicense: 'CC0-1.0', name: 'x', documentNamespace: 'https://acme.example/x', creationInfo: { created: '2028-01-01T00:00:00Z', creators: ['Tool: x'] } };
  const ok = validateSchema(parseSbomText(JSON.stringify(spdx23)));
  assert.equal(ok.schema, 'official');
  assert.equal(ok.valid, true);
  const bad = validateSchema(parseSbomText(JSON.stringify({ ...spdx23, packages: 'nope' })));
  assert.equal(bad.valid, false);
  assert.equal(bad.problems[0]?.pointer, '/packages');
});

test('SPDX 2.2 (spdxVersion SPDX-2.2, i.e. spec 2.2 / 2.2.1 / 2.2.2) is validated against the official v2.2.2 schema', () => {
  const spdx22 = {
    spdxVersion: 'SPDX-2.2',
    SPDXID: 'SPDXRef-DOCUMENT',
    dataLicense: 'CC0-1.0',
    name: 'x',
    documentNamespace: 'https://acme.example/x',
    creationInfo: { created: '2028-01-01T00:00:00Z', creators: ['Tool: x'] },
    packages: [{ SPDXID: 'SPDXRef-p', name: 'p', downloadLocation: 'NOASSERTION', licenseConcluded: 'MIT', licenseDeclared: 'MIT', copyrightText: 'NOASSERTION' }],
  };
  const ok = validateSchema(parseSbomText(JSON.stringify(spdx22)));
  assert.equal(ok.schema, 'official');
  assert.match(ok.schemaName, /SPDX 2\.2/);
  assert.equal(ok.valid, true, JSON.stringify(ok.problems));
  // The 2.2 schema requires copyrightText on packages (2.3 made it optional).
  const { copyrightText: _omit, ...pkg } = spdx22.packages[0]!;
  const bad = validateSchema(parseSbomText(JSON.stringify({ ...spdx22, packages: [pkg] })));
  assert.equal(bad.valid, false);
  assert.deepEqual(bad.problems[0], { pointer: '/packages/0', message: 'required property "copyrightText" is missing' });
  const extra = validateSchema(parseSbomText(JSON.stringify({ ...spdx22, bogus: 1 })));
  assert.equal(extra.valid, false);
  assert.equal(extra.problems[0]?.pointer, '/bogus');
});

// Adapted from spdx/spdx-spec examples/jsonld/package_sbom.json (commit 20191d81, Joshua Watt's SBOM example):
// @context and specVersion changed from 3.1 to 3.0.1; every class and property used exists in 3.0.1.
const spdx301 = {
  '@context': 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld',
  '@graph': [
    { type: 'CreationInfo', '@id': '_:creationinfo', createdBy: ['http://spdx.example.com/Agent/JoshuaWatt'], specVersion: '3.0.1', created: '2024-03-06T00:00:00Z' },
    {
      type: 'Person',
      spdxId: 'http://spdx.example.com/Agent/JoshuaWatt',
      name: 'Joshua Watt',
      creationInfo: '_:creationinfo',
      externalIdentifier: [{ type: 'ExternalIdentifier', externalIdentifierType: 'email', identifier: 'JPEWhacker@gmail.com' }],
    },
    {
      type: 'SpdxDocument',
      spdxId: 'http://spdx.example.com/Document1',
      creationInfo: '_:creationinfo',
      rootElement: ['http://spdx.example.com/BOM1'],
      element: ['http://spdx.example.com/BOM1', 'http://spdx.example.com/Agent/JoshuaWatt', 'http://spdx.example.com/Package1/myprogram', 'http://spdx.example.com/Relationship/1'],
      profileConformance: ['core', 'software'],
    },
    {
      type: 'software_Sbom',
      spdxId: 'http://spdx.example.com/BOM1',
      creationInfo: '_:creationinfo',
      rootElement: ['http://spdx.example.com/Package1'],
      element: ['http://spdx.example.com/Package1/myprogram', 'http://spdx.example.com/Package1'],
      software_sbomType: ['build'],
    },
    {
      type: 'software_Package',
      spdxId: 'http://spdx.example.com/Package1',
      creationInfo: '_:creationinfo',
      name: 'my-package',
      software_packageVersion: '1.0.0',
      software_downloadLocation: 'http://dl.example.com/my-package_1.0.0.tar',
      builtTime: '2024-03-06T00:00:00Z',
      originatedBy: ['http://spdx.example.com/Agent/JoshuaWatt'],
    },
    {
      type: 'software_File',
      spdxId: 'http://spdx.example.com/Package1/myprogram',
      creationInfo: '_:creationinfo',
      name: 'myprogram',
      software_primaryPurpose: 'executable',
      software_additionalPurpose: ['application'],
      software_copyrightText: 'Copyright 2024, Joshua Watt',
      builtTime: '2024-03-06T00:00:00Z',
      originatedBy: ['http://spdx.example.com/Agent/JoshuaWatt'],
    },
    {
      type: 'Relationship',
      spdxId: 'http://spdx.example.com/Relationship/1',
      creationInfo: '_:creationinfo',
      from: 'http://spdx.example.com/Package1',
      relationshipType: 'contains',
      to: ['http://spdx.example.com/Package1/myprogram'],
      completeness: 'complete',
    },
  ],
};

test('SPDX 3.0.1 JSON-LD is validated against the official spdx-json-schema.json (draft 2020-12)', () => {
  const ok = validateSchema(parseSbomText(JSON.stringify(spdx301)));
  assert.equal(ok.schema, 'official');
  assert.match(ok.schemaName, /SPDX 3\.0\.1/);
  assert.equal(ok.valid, true, JSON.stringify(ok.problems));
  // A structurally plausible element that the official schema rejects: software_Package without creationInfo.
  const graph = spdx301['@graph'].map((e) => (e.type === 'software_Package' ? { ...e, creationInfo: undefined } : e));
  const bad = validateSchema(parseSbomText(JSON.stringify({ ...spdx301, '@graph': graph })));
  assert.equal(bad.valid, false);
  assert.ok(bad.problems.some((p) => p.pointer === '/@graph/4' && /creationInfo/.test(p.message)), JSON.stringify(bad.problems));
  // The old structural check passed this; the official schema does not (relationshipType outside the 3.0.1 vocabulary).
  const graph2 = spdx301['@graph'].map((e) => (e.type === 'Relationship' ? { ...e, relationshipType: 'madeUp' } : e));
  const bad2 = validateSchema(parseSbomText(JSON.stringify({ ...spdx301, '@graph': graph2 })));
  assert.equal(bad2.valid, false);
  assert.ok(bad2.problems.some((p) => p.pointer === '/@graph/6/relationshipType' && /must be one of/.test(p.message)), JSON.stringify(bad2.problems));
});

test('an SPDX version without a bundled official schema fails closed (never a structural pass)', () => {
  const s30 = validateSchema(parseSbomText(JSON.stringify({ ...spdx301, '@context': 'https://spdx.org/rdf/3.0.0/spdx-context.jsonld' })));
  assert.equal(s30.schema, 'none');
  assert.equal(s30.valid, false);
  assert.match(s30.problems[0]?.message ?? '', /no official schema available for SPDX 3\.0\.0 in this build/);
  const s21 = validateSchema(parseSbomText(JSON.stringify({ spdxVersion: 'SPDX-2.1', SPDXID: 'SPDXRef-DOCUMENT' })));
  assert.equal(s21.valid, false);
  assert.equal(s21.problems[0]?.pointer, '/spdxVersion');
});
