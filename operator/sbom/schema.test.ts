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

test('SPDX 2.3 is validated against the official schema, SPDX 3 structurally (and says so)', () => {
  const spdx23 = { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', dataLicense: 'CC0-1.0', name: 'x', documentNamespace: 'https://acme.example/x', creationInfo: { created: '2028-01-01T00:00:00Z', creators: ['Tool: x'] } };
  const ok = validateSchema(parseSbomText(JSON.stringify(spdx23)));
  assert.equal(ok.schema, 'official');
  assert.equal(ok.valid, true);
  const bad = validateSchema(parseSbomText(JSON.stringify({ ...spdx23, packages: 'nope' })));
  assert.equal(bad.valid, false);
  assert.equal(bad.problems[0]?.pointer, '/packages');
  const s3 = validateSchema(parseSbomText(JSON.stringify({ '@context': 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld', '@graph': [{ type: 'software_Package' }] })));
  assert.equal(s3.schema, 'structural');
  assert.match(s3.schemaName, /structural check/);
  assert.equal(s3.valid, false);
});
