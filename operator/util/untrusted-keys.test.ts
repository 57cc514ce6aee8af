/**
 * Hostile names (`constructor`, `__proto__`, `toString`, `hasOwnProperty`) and non-finite numbers (`1e999`) in
 * SBOMs, VEX documents, feeds and manifests: analysis must neither break nor be bypassed (issue #14 items 10, 13).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadInputs } from '../cli/load.ts';
import { cliSources } from '../cli/sources.ts';
import { analyzeSbom } from '../sbom/analyze.ts';
import { ruleBsiFields, ruleFormatValid } from '../sbom/rules.ts';
import { isKnownKind } from '../secure-defaults/parse.ts';
import { parseVex } from '../vex/parse.ts';
import { FeedFormatError } from '../vuln/errors.ts';
import { keyForOsvPackage } from '../vuln/purl.ts';
import { comparatorFor } from '../vuln/version.ts';
import { canonicalJson } from './canonical.ts';

const fixture = readFileSync(new URL('../../test/fixtures/hostile/prototype-names.cdx.json', import.meta.url));
const NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

describe('untrusted property names', () => {
  it('an SBOM whose component names, bom-refs and property names are Object.prototype names is analysed normally', () => {
    const a = analyzeSbom(fixture);
    assert.equal(a.ok, true, a.ok ? '' : a.message);
    if (!a.ok) return;
    assert.equal(a.schema.valid, true, JSON.stringify(a.schema.problems.slice(0, 2)));
    assert.deepEqual(a.model.components.map((c) => c.ref), ['constructor', '__proto__', 'toString']);
    assert.deepEqual(a.model.components.map((c) => c.filename), [['app'], ['proto.js'], ['ts.js']]);
    assert.deepEqual(a.model.duplicateRefs, []);
    assert.deepEqual(ruleFormatValid(a, 'bsi-2.1'), []);
    // The BSI field rule runs on the model (findings are about missing fields, not a crash).
    assert.ok(Array.isArray(ruleBsiFields(a.model, 'bsi-2.1')));
  });

  it('a VEX analysis state named after a prototype member is an unknown state, not a status', () => {
    for (const state of NAMES) {
      const doc = parseVex(JSON.stringify({
        bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
        vulnerabilities: [{ id: 'CVE-2021-44228', analysis: { state }, affects: [{ ref: 'x' }] }],
      }));
      assert.equal(doc.statements.length, 0, state);
      assert.match(doc.problems[0]?.message ?? '', /unknown analysis state/, state);
    }
  });

  it('feeds, versions and manifests: prototype names are unknown ecosystems / qualifiers / API groups', () => {
    for (const n of NAMES) {
      assert.equal(keyForOsvPackage(n, 'x'), undefined, n);
      assert.equal(isKnownKind(`${n}/v1`, 'Pod'), undefined, n);
    }
    const maven = comparatorFor('ECOSYSTEM', 'Maven')!;
    assert.equal(maven('1.0-constructor', '1.0-constructor'), 0);
    assert.equal(Math.sign(maven('1.0-toString', '1.0')), 1);
  });

  it('canonical JSON keeps a `__proto__` key (signed statements cannot drop fields)', () => {
    const v: unknown = JSON.parse('{"b":1,"__proto__":{"x":1},"a":2}');
    assert.equal(canonicalJson(v), '{"__proto__":{"x":1},"a":2,"b":1}');
  });
});

describe('non-finite numbers are schema-invalid', () => {
  it('SBOM: `"version": 1e999` fails the schema with its JSON pointer', () => {
    const doc = fixture.toString().replace('"version": 1,', '"version": 1e999,');
    const a = analyzeSbom(doc);
    assert.equal(a.ok, true);
    if (!a.ok) return;
    assert.equal(a.schema.valid, false);
    assert.equal(a.schema.problems[0]?.pointer, '/version');
    assert.match(a.schema.problems[0]?.message ?? '', /not finite/);
    const f = ruleFormatValid(a, 'bsi-2.1');
    assert.equal(f[0]?.reason, 'SbomSchemaInvalid');
    assert.equal(f[0]?.pointer, '/version');
  });

  it('VEX: a document with -1e999 anywhere is rejected as schema-invalid, naming the pointer', () => {
    const text = '{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"vulnerabilities":[{"id":"CVE-1","ratings":[{"score":-1e999}],"analysis":{"state":"not_affected","justification":"code_not_present"},"affects":[{"ref":"x"}]}]}';
    assert.throws(() => parseVex(text, 'vex.json'), (e: Error) => e instanceof FeedFormatError && /schema-invalid: number at \/vulnerabilities\/0\/ratings\/0\/score is not finite/.test(e.message));
  });
});

describe('ConfigMap data keyed by untrusted names', () => {
  it('the CLI keeps a `__proto__` key and does not inherit `constructor` / `toString`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cra-gate-keys-'));
    try {
      const file = join(dir, 'cm.json');
      // Written as text: an object literal's `__proto__:` would set the prototype instead of a key.
      writeFileSync(file, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"evidence","namespace":"acme"},"data":{"__proto__":"kept","bom.json":"{}"}}');
      const inputs = loadInputs([file]);
      const src = cliSources({ configMaps: inputs.configMaps });
      const data = (await src.readConfigMap('acme', 'evidence'))!;
      assert.equal(Object.hasOwn(data, '__proto__'), true);
      assert.equal(data['__proto__'], 'kept');
      for (const n of ['constructor', 'toString', 'hasOwnProperty']) assert.equal(data[n], undefined, n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
