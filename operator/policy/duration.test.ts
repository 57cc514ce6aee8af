import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DURATION_MS, parseDuration, tryParseDuration } from './duration.ts';
import { CraGateError } from '../errors.ts';

void test('parseDuration accepts Go-style durations', () => {
  const table: [string, number][] = [
    ['6h', 6 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['30m1h', 90 * 60_000],
    ['90s', 90_000],
    ['1.5h', 90 * 60_000],
    ['500ms', 500],
    ['1h2m3s4ms', 3_723_004],
    ['8784h', MAX_DURATION_MS],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
});

void test('parseDuration rejects garbage', () => {
  for (const bad of ['', '6', 'h', '6d', '-1h', '+1h', '0s', '0h0m', '1h 30m', ' 6h', '6h ', '6H', '1h1h', '1.h', '.5h', 'abc', '8785h', 'x'.repeat(65), undefined, 6, null]) {
    assert.equal(tryParseDuration(bad), undefined, String(bad));
    assert.throws(() => parseDuration(bad), (err: unknown) => err instanceof CraGateError && err.code === 'PolicyInvalid' && /invalid duration/.test(err.message));
  }
});
