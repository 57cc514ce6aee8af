import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceIndex, recordingSources, refKey } from './references.ts';

void test('the index maps a referenced object to the releases that read it, and forgets replaced entries', () => {
  const idx = new ReferenceIndex();
  idx.set('acme/r1', [refKey('ConfigMap', 'acme', 'sbom'), refKey('Secret', 'acme', 'pull')]);
  idx.set('acme/r2', [refKey('ConfigMap', 'acme', 'sbom'), refKey('ConfigMap', 'shared', 'settings')]);
  assert.deepEqual(idx.releasesFor('ConfigMap', 'acme', 'sbom').sort(), ['acme/r1', 'acme/r2']);
  assert.deepEqual(idx.releasesFor('Secret', 'acme', 'pull'), ['acme/r1']);
  assert.deepEqual([...idx.namespaces('ConfigMap')].sort(), ['acme', 'shared']);
  assert.deepEqual([...idx.namespaces('Secret')], ['acme']);
  idx.set('acme/r1', [refKey('ConfigMap', 'acme', 'sbom-v2')]);
  assert.deepEqual(idx.releasesFor('ConfigMap', 'acme', 'sbom'), ['acme/r2']);
  assert.deepEqual(idx.releasesFor('Secret', 'acme', 'pull'), [], 'a reference no longer read is dropped');
  idx.delete('acme/r2');
  assert.deepEqual([...idx.namespaces('ConfigMap')], ['acme']);
  assert.equal(idx.size, 1);
});

void test('recordingSources reports every read, including reads of objects that do not exist', async () => {
  const seen: string[] = [];
  const signal = new AbortController().signal;
  const src = recordingSources(
    { signal, readConfigMap: (_ns, name) => Promise.resolve(name === 'a' ? { k: 'v' } : undefined), readSecret: () => Promise.resolve({ s: 'x' }) },
    (kind, ns, name) => seen.push(refKey(kind, ns, name)),
  );
  assert.deepEqual(await src.readConfigMap('n', 'a'), { k: 'v' });
  assert.equal(await src.readConfigMap('n', 'missing'), undefined);
  assert.deepEqual(await src.readSecret?.('n', 's'), { s: 'x' });
  assert.deepEqual(seen, ['ConfigMap/n/a', 'ConfigMap/n/missing', 'Secret/n/s']);
  assert.equal(src.signal, signal);
});
