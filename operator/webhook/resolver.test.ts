import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseImageReference } from '../evidence/oci/reference.ts';
import { CachingDigestResolver, digestOfManifest } from './resolver.ts';
import type { ManifestSource } from './registry.ts';

const body = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const own = `sha256:${createHash('sha256').update(body).digest('hex')}`;
const ref = parseImageReference('registry.acme.example/router:2.4.0');

void test('the digest is the sha256 of the bytes served; a claimed digest that differs is an error', () => {
  assert.equal(digestOfManifest(ref, body, undefined), own);
  assert.equal(digestOfManifest(ref, body, own), own);
  assert.throws(() => digestOfManifest(ref, body, `sha256:${'a'.repeat(64)}`), /claims sha256:aaaa.* hashes to/);
});

void test('the resolver uses its own hash, caches per tag and remembers failures briefly', async () => {
  let calls = 0;
  let claimed: string | undefined = `sha256:${'a'.repeat(64)}`;
  const source: ManifestSource = {
    manifestByTag: (r) => (calls++, Promise.resolve(r.tag === 'missing' ? undefined : { body, ...(claimed ? { claimedDigest: claimed } : {}) })),
    close: () => undefined,
  };
  const lying = new CachingDigestResolver({ source, negativeTtlMs: 0 });
  await assert.rejects(lying.resolve(ref), /hashes to/);
  claimed = undefined;
  assert.equal(await lying.resolve(ref), own, 'a failure is not remembered past its TTL');
  assert.equal(await lying.resolve(ref), own);
  assert.equal(calls, 2, 'the success is cached');
  assert.equal(await lying.resolve(parseImageReference('registry.acme.example/router:missing')), undefined);
  assert.equal(await lying.resolve(parseImageReference(`registry.acme.example/router@${own}`)), own, 'a digest is never looked up');
  assert.equal(calls, 3);
});

void test('a registry slower than the budget is an error, not a wait', async () => {
  const source: ManifestSource = { manifestByTag: () => new Promise(() => undefined), close: () => undefined };
  await assert.rejects(new CachingDigestResolver({ source, timeoutMs: 50 }).resolve(ref), /longer than 50 ms/);
});
