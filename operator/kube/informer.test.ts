import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectKey, stripBookkeeping } from './informer.ts';

test('stripBookkeeping drops managedFields and the last-applied annotation, keeps the rest', () => {
  const obj = {
    apiVersion: 'v1',
    kind: 'X',
    metadata: {
      name: 'a',
      namespace: 'n',
      labels: { l: '1' },
      managedFields: [{ manager: 'kubectl' }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{…}', keep: 'me' },
    },
    spec: { x: 1 },
  };
  const out = stripBookkeeping(obj);
  assert.deepEqual(out.metadata, { name: 'a', namespace: 'n', labels: { l: '1' }, annotations: { keep: 'me' } });
  assert.deepEqual((out).spec, { x: 1 });
  assert.equal(obj.metadata.managedFields.length, 1, 'the input is not mutated');
  const bare = stripBookkeeping({ metadata: { name: 'b', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x' } } });
  assert.deepEqual(bare.metadata, { name: 'b' });
});

test('objectKey is namespace/name, or name for cluster-scoped objects', () => {
  assert.equal(objectKey({ metadata: { name: 'a', namespace: 'n' } }), 'n/a');
  assert.equal(objectKey({ metadata: { name: 'p' } }), 'p');
});
