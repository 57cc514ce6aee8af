import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSbomAnalyser } from './sbom.ts';
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
