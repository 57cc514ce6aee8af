import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonDepthExceeds, parseSbomText, scanJson } from './parse.ts';
import { nonFinitePointers } from '../util/json.ts';

/** The definition, one character at a time: depth of `{`/`[` outside strings; a backslash escapes the next char. */
function reference(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (++depth > limit) return true;
    } else if (c === '}' || c === ']') depth--;
  }
  return false;
}

test('jsonDepthExceeds skips strings (escaped quotes, backslash runs, unterminated) exactly like a char-by-char scan', () => {
  const text = fc.array(fc.constantFrom('{', '}', '[', ']', '"', '\\', '\\\\', '\\"', 'a', ' ', ','), { maxLength: 60 }).map((a) => a.join(''));
  fc.assert(
    fc.property(text, fc.integer({ min: 0, max: 6 }), (t, limit) => {
      assert.equal(jsonDepthExceeds(t, limit), reference(t, limit), JSON.stringify(t));
    }),
    { numRuns: 5000 },
  );
  assert.equal(jsonDepthExceeds('{"a":"}\\"{{{{"}', 1), false);
  assert.equal(jsonDepthExceeds('{"a\\\\":[[1]]}', 2), true);
  assert.equal(jsonDepthExceeds(`${'['.repeat(200)}${']'.repeat(200)}`, 128), true);
});

test('scanJson: finiteNumbers only when no number can parse to ±Infinity (then the parsed value holds none)', () => {
  assert.equal(scanJson('{"a":true,"b":false,"c":[123,-4.5,0]}', 8).finiteNumbers, true);
  assert.equal(scanJson('{"e":"1e999","n":"99e9"}', 8).finiteNumbers, true);
  for (const t of ['{"a":1e999}', '{"a":-1E400}', '{"a":[0.5e+3]}', `{"a":${'9'.repeat(400)}}`, `{"a":-${'1'.repeat(309)}.5}`]) {
    assert.equal(scanJson(t, 8).finiteNumbers, false, t);
  }
  // Soundness on random JSON texts with big and exponent numbers mixed in.
  const num = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    fc.constantFrom('1e999', '-1e999', '1E308', '2e308', `${'9'.repeat(310)}`, `${'9'.repeat(299)}`, '1.5e-400'),
  );
  const text = fc.array(fc.oneof(num, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v))), { maxLength: 6 }).map((l) => `{"x":[${l.join(',')}]}`);
  fc.assert(
    fc.property(text, (t) => {
      const s = scanJson(t, 16);
      if (s.finiteNumbers) assert.deepEqual(nonFinitePointers(JSON.parse(t)), [], t);
      assert.equal(s.tooDeep, jsonDepthExceeds(t, 16));
    }),
    { numRuns: 2000 },
  );
  // parseSbomText carries the result: the schema step then skips its search of the parsed document.
  const doc = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 };
  assert.equal(parseSbomText(JSON.stringify(doc)).finiteNumbers, true);
  assert.equal(parseSbomText(JSON.stringify(doc).replace('"version":1', '"version":1e999')).finiteNumbers, undefined);
});
