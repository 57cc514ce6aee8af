import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestValidator, toCel, type Schema } from './validate.ts';
import { compileRule } from './cel.ts';
import { loadYamlDocuments, parseYamlStream } from './yaml.ts';
import { malformedCases, validPolicy, validRelease } from '../../test/fixtures/cli/malformed.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const validator = ManifestValidator.fromDirectory(path.join(root, 'crds'));

function rulesOf(schema: Schema, at: string, out: { at: string; rule: string }[]): void {
  for (const r of schema['x-kubernetes-validations'] ?? []) out.push({ at, rule: r.rule });
  for (const [k, p] of Object.entries(schema.properties ?? {})) rulesOf(p, `${at}.${k}`, out);
  if (schema.items) rulesOf(schema.items, `${at}[]`, out);
}

void describe('offline manifest validation against the CRDs', () => {
  void it('compiles every x-kubernetes-validations rule of every CRD with the CEL library', () => {
    const rules: { at: string; rule: string }[] = [];
    for (const f of ['productreleases.cra-gate.dev.yaml', 'releasepolicies.cra-gate.dev.yaml']) {
      const crd = loadYamlDocuments(readFileSync(path.join(root, 'crds', f), 'utf8'))[0] as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
      for (const v of crd.spec.versions) rulesOf(v.schema.openAPIV3Schema, '', rules);
    }
    assert.ok(rules.length >= 10, `only ${rules.length} rules found`);
    for (const r of rules) assert.doesNotThrow(() => compileRule({ rule: r.rule }), `${r.at}: ${r.rule}`);
  });

  void it('accepts the examples, the baseline policy and the CLI fixtures', () => {
    for (const f of ['examples/acme-router-2.4.0.yaml', 'examples/legacy-camera-1.0.0.yaml', 'policies/cra-baseline.yaml', 'policies/bsi-tr-03183-2.yaml', 'test/fixtures/cli/releases.yaml', 'test/fixtures/cli/policies.yaml']) {
      for (const doc of loadYamlDocuments(readFileSync(path.join(root, f), 'utf8'))) {
        if (!validator.knows((doc as { apiVersion?: string }).apiVersion, (doc as { kind?: string }).kind)) continue;
        assert.deepEqual(validator.validate(doc).errors, [], f);
      }
    }
    assert.deepEqual(validator.validate(validRelease()).errors, []);
    assert.deepEqual(validator.validate(validPolicy()).errors, []);
  });

  for (const c of malformedCases) {
    void it(`rejects ${c.name}, naming ${c.field}`, () => {
      const obj = c.base();
      c.mutate(obj);
      const { errors } = validator.validate(obj);
      assert.ok(errors.length > 0, 'accepted');
      const hit = errors.find((e) => e.field === c.field);
      assert.ok(hit, `no error names ${c.field}: ${errors.map((e) => e.message).join(' | ')}`);
      assert.ok(hit.message.startsWith(c.field) || hit.message.includes(`"${c.field}"`), hit.message);
      if (c.text) assert.ok(errors.some((e) => e.field === c.field && e.message.includes(c.text!)), `${c.text} not in ${errors.map((e) => e.message).join(' | ')}`);
    });
  }

  void it('applies schema defaults (enforcement: Block) on a copy', () => {
    const p = validPolicy();
    p.spec.checks = [{ id: 'sbom.present' }];
    const r = validator.validate(p);
    assert.deepEqual(r.errors, []);
    assert.equal((r.object.spec as { checks: { enforcement: string }[] }).checks[0]!.enforcement, 'Block');
    assert.equal(p.spec.checks[0].enforcement, undefined);
  });

  void it('reports a type error without running CEL rules on the mistyped object (as the API server does)', () => {
    const r = validRelease();
    r.spec.artifacts = [{ name: 'x', image: 42 }];
    const { errors } = validator.validate(r);
    assert.ok(errors.some((e) => e.field === 'spec.artifacts[0].image' && /must be of type string/.test(e.message)));
    assert.ok(!errors.some((e) => /rule evaluation error/.test(e.message)));
  });

  void it('names the kind it does not know', () => {
    const { errors } = validator.validate({ apiVersion: 'cra-gate.dev/v1alpha1', kind: 'Nope', metadata: { name: 'x' } });
    assert.match(errors[0]!.message, /no matches for kind "Nope"/);
  });

  void it('gives CEL integers as ints, per the schema', () => {
    const schema: Schema = { type: 'object', properties: { n: { type: 'integer' }, d: { type: 'number' } } };
    assert.deepEqual(toCel(schema, { n: 3, d: 3 }), { n: 3n, d: 3 });
  });
});

void describe('YAML as kubectl reads it', () => {
  void it('keeps unquoted dates as strings and reads YAML 1.1 booleans', () => {
    const [doc] = loadYamlDocuments('a: 2028-01-15\nb: Off\nc: yes\nd: "Off"\ne: true\n') as [Record<string, unknown>];
    assert.deepEqual(doc, { a: '2028-01-15', b: false, c: true, d: 'Off', e: true });
  });

  void it('records the line each document starts on and skips empty documents', () => {
    const docs = parseYamlStream('# header\na: 1\n---\n# only a comment\n---\n\nb: 2\n...\nc: 3\n');
    assert.deepEqual(
      docs.map((d) => [d.doc, d.line]),
      [
        [{ a: 1 }, 2],
        [{ b: 2 }, 7],
        [{ c: 3 }, 9],
      ],
    );
  });

  void it('reports the file line of a syntax error', () => {
    assert.throws(() => parseYamlStream('a: 1\n---\nb: [1,\n'), (e: Error & { line?: number }) => e.line !== undefined && e.line >= 3);
  });
});
