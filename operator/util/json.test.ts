import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nonFinitePointers } from './json.ts';

describe('non-finite numbers in parsed JSON', () => {
  it('finds 1e999 / -1e999 with RFC 6901 pointers in document order', () => {
    const doc: unknown = JSON.parse('{"version": 1e999, "a/b": [1, -1e999, {"~x": 2e308}], "ok": 1.5e300}');
    assert.deepEqual(nonFinitePointers(doc), ['/version', '/a~1b/1', '/a~1b/2/~0x']);
    assert.deepEqual(nonFinitePointers(doc, 1), ['/version']);
    assert.deepEqual(nonFinitePointers(JSON.parse('{"a":[1,2,{"b":3}]}')), []);
  });

  it('walks deep nesting without recursion', () => {
    const deep = `${'['.repeat(5000)}1e999${']'.repeat(5000)}`;
    assert.equal(nonFinitePointers(JSON.parse(deep)).length, 1);
  });
});
