import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StopWaiting, waitFor } from './wait.ts';

void test('returns the first value that is not undefined or false', async () => {
  let n = 0;
  const v = await waitFor('the counter to reach 3', () => Promise.resolve(++n >= 3 ? n : false), { intervalMs: 1 });
  assert.equal(v, 3);
});

void test('keeps polling through errors and returns a later value', async () => {
  let n = 0;
  const v = await waitFor('a flaky call', () => {
    n++;
    if (n < 3) return Promise.reject(new Error(`boom ${n}`));
    return Promise.resolve('ok');
  }, { intervalMs: 1 });
  assert.equal(v, 'ok');
});

void test('times out naming what it waited for and the last error', async () => {
  await assert.rejects(
    waitFor('the thing', () => Promise.reject(new Error('still broken')), { timeoutMs: 50, intervalMs: 5 }),
    /timed out after 50 ms waiting for the thing .*last error: still broken/,
  );
});

void test('a hanging attempt cannot stretch the bound', async () => {
  const t0 = Date.now();
  await assert.rejects(
    waitFor('a hanging call', () => new Promise<boolean>(() => {}), { timeoutMs: 100 }),
    /waiting for a hanging call/,
  );
  assert.ok(Date.now() - t0 < 1_000, `took ${Date.now() - t0} ms`);
});

void test('StopWaiting ends the wait at once', async () => {
  const t0 = Date.now();
  await assert.rejects(
    waitFor('the process', () => Promise.reject(new StopWaiting('it exited')), { timeoutMs: 5_000 }),
    (err: Error) => err instanceof StopWaiting && /gave up waiting for the process: it exited/.test(err.message),
  );
  assert.ok(Date.now() - t0 < 1_000);
});
