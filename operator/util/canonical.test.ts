import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonical.ts';

test('key order does not matter, array order does', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: 'x' } }), canonicalJson({ a: { c: 'x', d: [2, 1] }, b: 1 }));
  assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
});

test('undefined and null members are dropped, as a merge patch treats them', () => {
  assert.equal(canonicalJson({ a: undefined, b: 2, c: null }), '{"b":2}');
  assert.equal(canonicalJson([null, 1]), '[null,1]');
});
