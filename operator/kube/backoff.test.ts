import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.ts';

void test('grows exponentially without jitter and caps at maxMs', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.attempts, 6);
});

void test('reset starts over', () => {
  const b = new Backoff({ initialMs: 50, maxMs: 10_000, jitter: 0 });
  b.next(); b.next(); b.next();
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 50);
});

void test('jitter stays within bounds and never exceeds maxMs', () => {
  const b = new Backoff({ initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0.2 });
  for (let round = 0; round < 50; round++) {
    b.reset();
    for (let n = 0; n < 12; n++) {
      const d = b.next();
      const base = b.baseDelay(n);
      assert.ok(d >= Math.floor(base * 0.8) && d <= Math.ceil(Math.min(30_000, base * 1.2)), `attempt ${n}: ${d} vs base ${base}`);
      assert.ok(d <= 30_000);
    }
  }
});

void test('extreme random values hit the jitter edges', () => {
  const lo = new Backoff({ initialMs: 1000, maxMs: 5000, jitter: 0.5, random: () => 0 });
  assert.equal(lo.next(), 500);
  const hi = new Backoff({ initialMs: 1000, maxMs: 5000, jitter: 0.5, random: () => 0.999999 });
  assert.equal(hi.next(), 1500);
});

void test('huge attempt counts do not overflow', () => {
  const b = new Backoff({ initialMs: 1, maxMs: 100, jitter: 0 });
  for (let i = 0; i < 5000; i++) b.next();
  assert.equal(b.next(), 100);
});

void test('rejects invalid options', () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
  assert.throws(() => new Backoff({ jitter: 1 }), RangeError);
  assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
});
