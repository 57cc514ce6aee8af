import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonDepthExceeds } from './parse.ts';

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
