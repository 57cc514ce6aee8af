import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerLimiter, makeSbomAnalyser } from './sbom.ts';
import { DEFAULT_LIMITS } from '../sbom/parse.ts';

const bom = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components: [] }));

test('one analysis path: results are cached by content and limit', async () => {
  const analyse = makeSbomAnalyser({ cacheEntries: 2 });
  const a = await analyse(bom, DEFAULT_LIMITS);
  assert.equal(a.ok, true);
  assert.equal(await analyse(Buffer.from(bom), DEFAULT_LIMITS), a, 'same bytes and limit: the cached analysis');
  assert.notEqual(await analyse(bom, { ...DEFAULT_LIMITS, maxBytes: DEFAULT_LIMITS.maxBytes + 1 }), a, 'another limit: analysed anew');
});

test('one analysis path: the size limit is checked before any parsing', async () => {
  const analyse = makeSbomAnalyser();
  const r = await analyse(bom, { ...DEFAULT_LIMITS, maxBytes: 16 });
  assert.equal(r.ok, false);
  assert.equal(r.ok === false && r.reason, 'SbomTooLarge');
});

test('analysers share nothing: each has its own cache (the composition root creates the one it shares)', async () => {
  const one = makeSbomAnalyser();
  const two = makeSbomAnalyser();
  const a = await one(bom, DEFAULT_LIMITS);
  assert.equal(await one(bom, DEFAULT_LIMITS), a);
  assert.notEqual(await two(bom, DEFAULT_LIMITS), a, 'another analyser: its own cache');
});

test('the worker limiter admits at most `max` holders and hands the slot over in order', async () => {
  const limiter = new WorkerLimiter(2);
  await limiter.acquire();
  await limiter.acquire();
  const order: number[] = [];
  const third = limiter.acquire().then(() => order.push(3));
  const fourth = limiter.acquire().then(() => order.push(4));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'both wait while two hold a slot');
  limiter.release();
  await third;
  assert.deepEqual(order, [3]);
  limiter.release();
  await fourth;
  assert.deepEqual(order, [3, 4]);
  limiter.release();
  limiter.release();
  await limiter.acquire(); // free again
});
