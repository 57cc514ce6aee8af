import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './token-bucket.ts';

void test('a burst is free, then reservations are spaced at 1/qps', () => {
  let now = 0;
  const b = new TokenBucket({ qps: 10, burst: 3, clock: () => now });
  assert.deepEqual([b.reserve(), b.reserve(), b.reserve()], [0, 0, 0]);
  assert.equal(Math.round(b.reserve()), 100, 'the 4th waits one refill interval');
  assert.equal(Math.round(b.reserve()), 200, 'the 5th waits two: debt spreads callers out');
  now += 1000; // 10 tokens refilled, capped at the burst after paying the debt of 2
  assert.equal(Math.round(b.tokens()), 3);
  assert.equal(b.reserve(), 0);
});

void test('refill is capped at the burst and rejects nonsense settings', () => {
  let now = 0;
  const b = new TokenBucket({ qps: 10, burst: 100, clock: () => now });
  now += 3600_000;
  assert.equal(b.tokens(), 100);
  assert.throws(() => new TokenBucket({ qps: 0, burst: 1 }), RangeError);
  assert.throws(() => new TokenBucket({ qps: 1, burst: 0 }), RangeError);
});
