import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointerSegment, unescapePointerSegment } from './json-pointer.ts';

test('RFC 6901 segment escaping round-trips, ~01 is not /', () => {
  assert.equal(pointerSegment('a/b~c'), 'a~1b~0c');
  assert.equal(pointerSegment(3), '3');
  assert.equal(unescapePointerSegment('a~1b~0c'), 'a/b~c');
  assert.equal(unescapePointerSegment('~01'), '~1');
  for (const s of ['', '~', '/', '~1', '~0/~', 'plain']) assert.equal(unescapePointerSegment(pointerSegment(s)), s);
});
