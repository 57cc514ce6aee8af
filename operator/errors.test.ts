import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CraGateError,
  craError,
  errorMessage,
  isCraGateError,
  isReason,
  isRetryable,
  reasonEntry,
  reasonOf,
  reasons,
} from './errors.ts';

void test('every reason is CamelCase, unique and at most 64 characters', () => {
  const keys = Object.keys(reasons);
  assert.ok(keys.length >= 20);
  assert.equal(new Set(keys).size, keys.length);
  assert.equal(new Set(keys.map((k) => k.toLowerCase())).size, keys.length, 'unique ignoring case');
  for (const k of keys) {
    assert.match(k, /^[A-Z][A-Za-z0-9]*$/, k);
    assert.ok(k.length <= 64, k);
  }
});

void test('every entry has a summary, a kind and a retryable flag', () => {
  for (const [k, e] of Object.entries(reasons)) {
    assert.ok(e.summary.length > 0 && e.summary.length <= 120, k);
    assert.ok(['ok', 'violation', 'error'].includes(e.kind), k);
    assert.equal(typeof e.retryable, 'boolean', k);
    if (e.kind !== 'error') assert.equal(e.retryable, false, `${k}: only errors may be retryable`);
  }
});

void test('required codes exist with the expected retryability', () => {
  const table: [string, boolean][] = [
    ['PolicyNotFound', false],
    ['PolicyInvalid', false],
    ['UnknownCheck', false],
    ['CheckCrashed', false],
    ['EvidenceUnavailable', true],
    ['InvalidSpec', false],
    ['ApiServerError', true],
    ['Conflict', true],
  ];
  for (const [code, retryable] of table) {
    assert.ok(isReason(code), code);
    assert.equal(reasonEntry(code).retryable, retryable, code);
  }
  assert.equal(isReason('toString'), false);
  assert.equal(isReason('NoSuchReason'), false);
  assert.equal(isReason(42), false);
});

void test('CraGateError carries code, message, retryable, cause and details', () => {
  const cause = new Error('socket hang up');
  const err = craError('ApiServerError', 'GET /apis failed', { cause, details: { status: 503 } });
  assert.ok(err instanceof CraGateError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'CraGateError');
  assert.equal(err.code, 'ApiServerError');
  assert.equal(err.reason, 'ApiServerError');
  assert.equal(err.message, 'GET /apis failed');
  assert.equal(err.retryable, true);
  assert.equal(err.cause, cause);
  assert.deepEqual(err.details, { status: 503 });
  assert.ok(isCraGateError(err));
  assert.equal(reasonOf(err), 'ApiServerError');
  assert.equal(isRetryable(err), true);
});

void test('default message is the summary; retryable can be overridden', () => {
  const err = new CraGateError('ApiServerError', undefined, { retryable: false });
  assert.equal(err.message, reasons.ApiServerError.summary);
  assert.equal(err.retryable, false);
  assert.equal(err.cause, undefined);
  assert.equal(craError('PolicyInvalid').retryable, false);
});

void test('foreign errors: reason Internal, treated as retryable', () => {
  assert.equal(reasonOf(new TypeError('x')), 'Internal');
  assert.equal(isCraGateError(new Error('x')), false);
  assert.equal(isRetryable(new Error('x')), true);
});

void test('errorMessage is one bounded line for any thrown value', () => {
  assert.equal(errorMessage(new Error('a\n  b')), 'a b');
  assert.equal(errorMessage('boom'), 'boom');
  assert.equal(errorMessage({ a: 1 }), '{"a":1}');
  assert.equal(errorMessage(undefined), 'undefined');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(errorMessage(circular), '[object Object]');
  const long = errorMessage('x'.repeat(1000), 50);
  assert.equal(long.length, 50);
  assert.ok(long.endsWith('…'));
});
