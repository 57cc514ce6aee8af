import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, flushLogger, reconcileLogger, redactSecretObjects, resolveLevel, REDACTED } from './log.ts';

function capture(): { lines: () => Array<Record<string, unknown>>; dest: Writable } {
  const chunks: string[] = [];
  const dest = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { dest, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

void test('JSON lines with base name, label level and ISO time', async () => {
  const c = capture();
  const log = createLogger({ destination: c.dest, env: {} });
  log.info({ a: 1 }, 'hello');
  log.debug('hidden at info');
  await flushLogger(log);
  const [l, ...rest] = c.lines();
  assert.equal(rest.length, 0);
  assert.equal(l?.name, 'cra-gate');
  assert.equal(l?.level, 'info');
  assert.equal(l?.msg, 'hello');
  assert.equal(l?.a, 1);
  assert.match(String(l?.time), /^\d{4}-\d\d-\d\dT/);
});

void test('level comes from LOG_LEVEL; invalid values fall back to info', () => {
  assert.equal(createLogger({ destination: capture().dest, env: { LOG_LEVEL: 'debug' } }).level, 'debug');
  assert.equal(createLogger({ destination: capture().dest, env: { LOG_LEVEL: 'LOUD' } }).level, 'info');
  assert.equal(resolveLevel(' WARN '), 'warn');
  assert.equal(resolveLevel(undefined), 'info');
});

void test('secrets are redacted', async () => {
  const c = capture();
  const log = createLogger({ destination: c.dest, env: {} });
  const secret = { kind: 'Secret', apiVersion: 'v1', metadata: { name: 's' }, data: { key: 'c2VjcmV0' }, stringData: { p: 'x' } };
  log.info({
    password: 'p1', auth: { token: 't1', authorization: 'Bearer t2' }, headers: { authorization: 'Bearer t3' },
    signing: { privateKey: 'pem' }, obj: secret, deep: { list: { item: secret } },
  }, 'creds');
  await flushLogger(log);
  const text = JSON.stringify(c.lines());
  for (const s of ['p1', 't1', 'Bearer', 'pem', 'c2VjcmV0']) assert.ok(!text.includes(s), `leaked ${s}: ${text}`);
  const [l] = c.lines();
  assert.equal((l?.obj as Record<string, unknown>).data, REDACTED);
  assert.equal(((l?.obj as Record<string, unknown>).metadata as Record<string, unknown>).name, 's');
  assert.equal(secret.data.key, 'c2VjcmV0', 'input not mutated');
});

void test('redactSecretObjects leaves other objects untouched', () => {
  const o = { a: { data: 1 }, b: [1] };
  assert.equal(redactSecretObjects(o), o);
});

void test('reconcile child logger binds reconcileId, namespace and object', async () => {
  const c = capture();
  const log = createLogger({ destination: c.dest, env: {} });
  reconcileLogger(log, { namespace: 'acme', name: 'router-2.4.0', kind: 'ProductRelease' }).info('go');
  reconcileLogger(log, { name: 'cra-baseline', reconcileId: 'r1' }).info('go');
  await flushLogger(log);
  const [a, b] = c.lines();
  assert.equal(a?.namespace, 'acme');
  assert.equal(a?.object, 'router-2.4.0');
  assert.equal(a?.kind, 'ProductRelease');
  assert.equal(a?.name, 'cra-gate');
  assert.match(String(a?.reconcileId), /^[0-9a-f]{8}$/);
  assert.equal(b?.reconcileId, 'r1');
});
