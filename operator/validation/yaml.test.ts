import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dumpYaml, loadYaml, loadYamlAll, yamlErrorPosition } from './yaml.ts';

const value = (scalar: string): unknown => (loadYaml(`v: ${scalar}\n`) as { v: unknown }).v;

/**
 * go-yaml v2 (go.yaml.in/yaml/v2 v2.4.2 resolve.go, as vendored by sigs.k8s.io/yaml for kubectl and the API
 * server): plain scalar → the JSON value kubectl sends. The YAML 1.1 spellings are also proven against the
 * real API server in test/integration/secure-defaults.test.ts.
 */
const TABLE: readonly (readonly [string, unknown])[] = [
  // booleans, every spelling go-yaml v2 knows — and the ones it does not
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((s) => [s, true] as const),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((s) => [s, false] as const),
  ['yEs', 'yEs'], ['oN', 'oN'], ['enabled', 'enabled'], ['TrUe', 'TrUe'],
  // null
  ['~', null], ['null', null], ['Null', null], ['NULL', null], ['nULL', 'nULL'],
  // integers: Go ParseInt(s, 0, 64) after removing underscores
  ['0777', 511], ['-0777', -511], ['0o17', 15], ['0O17', 15], ['0x1F', 31], ['0X1f', 31], ['-0x1F', -31], ['+0x10', 16],
  ['0b101', 5], ['-0b101', -5], ['1_000', 1000], ['0x_1F', 31], ['0', 0], ['00', 0], ['-0', 0], ['+12', 12],
  ['0b', '0b'], ['0x', '0x'], ['0xg', '0xg'], ['_1', '_1'],
  // floats: the yamlStyleFloat pattern after removing underscores, or ParseFloat for a leading '.'
  ['08', 8], ['09.5', 9.5], ['+.5', 0.5], ['-.5', -0.5], ['.5', 0.5], ['.5e3', 500], ['1.', 1], ['1e3', 1000], ['1_000.5', 1000.5],
  ['1e400', '1e400'], ['.5_0', '.5_0'], ['.e3', '.e3'], ['1e', '1e'],
  // no sexagesimal, no timestamps, no YAML 1.2-only forms beyond Go's
  ['1:20', '1:20'], ['190:20:30', '190:20:30'], ['2028-01-15', '2028-01-15'], ['2001-12-14t21:59:43.10-05:00', '2001-12-14t21:59:43.10-05:00'],
  ['+0xFFFFFFFFFFFFFFFF', '+0xFFFFFFFFFFFFFFFF'], ['"yes"', 'yes'], ["'0777'", '0777'], ['!!str on', 'on'],
];

describe('the Kubernetes-compatible YAML loader (go-yaml v2 scalar resolution)', () => {
  for (const [scalar, expected] of TABLE) {
    it(`${scalar} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(value(scalar), expected);
    });
  }

  it('special floats', () => {
    assert.ok(Number.isNaN(value('.NaN')));
    assert.equal(value('+.Inf'), Number.POSITIVE_INFINITY);
    assert.equal(value('-.INF'), Number.NEGATIVE_INFINITY);
    assert.equal(value('!!float 1'), 1);
  });

  it('mapping keys resolve like values and become strings (sigs.k8s.io/yaml YAMLToJSON)', () => {
    assert.deepEqual(loadYaml('on: 1\n0777: x\nfoo: 2\n'), { true: 1, 511: 'x', foo: 2 });
    assert.throws(() => loadYaml('on: 1\ny: 2\n'), /duplicated mapping key/, 'on and y are the same key true');
  });

  it('merge keys, anchors and aliases', () => {
    assert.deepEqual(loadYaml('base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\n'), { base: { a: 1, b: 2 }, m: { a: 1, b: 3 } });
  });

  it('tags go-yaml resolves differently, or not at all, are errors rather than guesses', () => {
    for (const doc of ['v: !!binary aGVsbG8=\n', 'v: !!timestamp 2028-01-15\n', 'v: !!set {a}\n', 'v: !local x\n', 'v: !!int abc\n']) {
      assert.throws(() => loadYaml(doc), /unknown tag|cannot resolve/, doc);
    }
  });

  it('errors carry a 1-based line and column', () => {
    let caught: unknown;
    try {
      loadYamlAll('a: 1\n---\nb: [1,\n');
    } catch (err) {
      caught = err;
    }
    assert.equal(yamlErrorPosition(caught)?.line, 4);
    assert.equal(yamlErrorPosition(new Error('x')), undefined);
  });

  it('property: integers, floats and booleans round-trip through dumpYaml', () => {
    fc.assert(fc.property(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.string()), (v) => {
      const back = (loadYaml(dumpYaml({ v })) as { v: unknown }).v;
      assert.ok(Object.is(back, v) || (v === 0 && back === 0), `${JSON.stringify(v)} → ${dumpYaml({ v })} → ${JSON.stringify(back)}`);
    }));
  });

  it('property: every decimal integer in the safe range reads as that integer, with or without underscores', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => {
      const s = String(n);
      assert.equal(value(s.replace(/^(-?)0+(?=\d)/, '$1')), n);
      if (Math.abs(n) >= 10) assert.equal(value(s.replace(/(\d)(?=(\d{3})+$)/g, '$1_')), n);
    }));
  });
});
