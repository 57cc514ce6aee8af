/**
 * Issue #13 item 9: SPDX 3.0.1 leaves. "No dependencies" stated through a relationship to NoneElement is a complete
 * statement; NoAssertionElement / completeness noAssertion is "unknown" (a completeness finding, never a dangling
 * reference); NoneElement with other elements is not valid. Fixtures: test/fixtures/sbom/spdx3 (see its README for
 * the specification text each one follows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeSbom } from './analyze.ts';
import { isNoAssertionElement, isNoneElement } from './model.ts';
import { ruleBsiFields, ruleComplete, ruleTopLevelDeps } from './rules.ts';
import type { RuleFinding } from './rules.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'sbom', 'spdx3');
const LEAF = '/@graph/5';

function analyse(file: string) {
  const a = analyzeSbom(readFileSync(join(dir, file)));
  assert.ok(a.ok, file);
  assert.equal(a.format, 'SPDX');
  assert.equal(a.specVersion, '3.0.1');
  assert.equal(a.schema.valid, true, `${file}: ${JSON.stringify(a.schema.problems)}`);
  return a;
}
const dependencyFindings = (fs: readonly RuleFinding[]) =>
  fs.filter((f) => ['DanglingReference', 'DependencyCompletenessUnstated', 'MissingComponentDependencies', 'CompletenessNotStated', 'InvalidSbomRelationship', 'MissingTopLevelDependencies'].includes(f.reason));

test('NoneElement / NoAssertionElement are recognised by context term and by IRI', () => {
  assert.ok(isNoneElement('NoneElement'));
  assert.ok(isNoneElement('https://spdx.org/rdf/3.0.1/terms/Core/NoneElement'));
  assert.ok(!isNoneElement('https://spdx.org/rdf/3.0.1/terms/Core/NoAssertionElement'));
  assert.ok(isNoAssertionElement('NoAssertionElement'));
  assert.ok(isNoAssertionElement('https://spdx.org/rdf/3.0.1/terms/Core/NoAssertionElement'));
  assert.ok(!isNoAssertionElement('http://spdx.example.com/NoAssertionElement'));
});

for (const file of ['leaf-none.spdx3.json', 'leaf-none-iri.spdx3.json']) {
  test(`${file}: a leaf stating "no dependencies" via NoneElement is complete — no dangling reference, no completeness finding`, () => {
    const a = analyse(file);
    const leaf = a.model.components.find((c) => c.name === 'my-library')!;
    assert.equal(leaf.pointer, LEAF);
    assert.deepEqual(a.model.dependencies.find((d) => d.ref === leaf.ref)?.dependsOn, []);
    assert.deepEqual(dependencyFindings([...ruleComplete(a.model), ...ruleBsiFields(a.model, 'bsi-2.1'), ...ruleTopLevelDeps(a.model)]), []);
  });
}

test('NoAssertionElement is "unknown": a completeness finding on the leaf, not a dangling reference', () => {
  const a = analyse('leaf-noassertion.spdx3.json');
  assert.deepEqual(ruleComplete(a.model).filter((f) => f.reason === 'DanglingReference'), []);
  const f = dependencyFindings(ruleBsiFields(a.model, 'bsi-2.1'));
  assert.deepEqual(f.map((x) => [x.reason, x.pointer]), [['DependencyCompletenessUnstated', LEAF]]);
  assert.match(f[0]!.message, /completeness of their dependencies as unknown \(noAssertion\)/);
});

test('completeness: noAssertion on the relationship wins over NoneElement: unknown', () => {
  const a = analyse('leaf-completeness-noassertion.spdx3.json');
  const f = dependencyFindings(ruleBsiFields(a.model, 'bsi-2.1'));
  assert.deepEqual(f.map((x) => [x.reason, x.pointer]), [['DependencyCompletenessUnstated', LEAF]]);
  assert.deepEqual(ruleComplete(a.model).filter((x) => x.reason === 'DanglingReference'), []);
});

test('NoneElement together with other elements is not valid in the 3.0.1 model: InvalidSbomRelationship naming the field', () => {
  const a = analyse('leaf-none-mixed.spdx3.json');
  const f = ruleComplete(a.model).filter((x) => x.reason === 'InvalidSbomRelationship');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.pointer, '/@graph/7/to');
  assert.deepEqual(f[0]!.basis, { kind: 'guidance', ref: 'SPDX 3.0.1 Core/Relationship' });
});

test('a leaf with no relationship at all still lacks a dependency statement (TR §5.2.2)', () => {
  const a = analyse('leaf-unstated.spdx3.json');
  const f = dependencyFindings(ruleBsiFields(a.model, 'bsi-2.1'));
  assert.deepEqual(f.map((x) => [x.reason, x.pointer]), [['MissingComponentDependencies', LEAF]]);
  // The primary's own dependencies are stated and complete.
  assert.deepEqual(ruleTopLevelDeps(a.model), []);
});
