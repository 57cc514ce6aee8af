// Vulnerability feeds from OCI artifacts, against a real registry (CNCF distribution): a KEV catalogue pushed as
// an artifact is loaded by tag and by digest, its digest is recorded; a tampered or missing artifact keeps the
// previous good content in use.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceSources } from '../../operator/evidence/collect.ts';
import { FeedStore } from '../../operator/evidence/feeds.ts';
import { DigestCache } from '../../operator/evidence/oci/cache.ts';
import type { RegistryClientOptions } from '../../operator/evidence/oci/client.ts';
import { Pusher, sha256, startRegistry } from '../harness/registry.ts';
import type { TestRegistry } from '../harness/registry.ts';

const FX = new URL('../fixtures/vuln/kev/', import.meta.url);
const without = readFileSync(new URL('kev-subset-without-log4shell.json', FX));
const withLog4shell = readFileSync(new URL('kev-subset-with-log4shell.json', FX));
const noSources: EvidenceSources = { readConfigMap: () => Promise.resolve(undefined) };

let reg: TestRegistry;
let push: Pusher;

before(async () => {
  reg = await startRegistry();
  push = new Pusher(reg);
});

after(async () => {
  await reg?.stop();
});

function registry(): RegistryClientOptions {
  return { network: 'allow', allowHosts: ['127.0.0.1'], insecureHosts: [reg.host], attempts: 1, timeoutMs: 5000, cache: new DigestCache(4 * 1024 * 1024) };
}

/** Pushes `content` as a single-layer OCI artifact (oras style); returns the manifest and layer digests. */
async function pushArtifact(repo: string, tag: string, content: Buffer, extraLayers: { mediaType: string; content: Buffer }[] = []): Promise<{ manifest: string; layer: string }> {
  const layer = await push.blob(repo, content);
  const empty = await push.blob(repo, '{}');
  const others = await Promise.all(extraLayers.map(async (l) => ({ mediaType: l.mediaType, ...(await push.blob(repo, l.content)) })));
  const manifest = await push.manifest(repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cra-gate.kev.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size },
    layers: [...others, { mediaType: 'application/json', digest: layer.digest, size: layer.size, annotations: { 'org.opencontainers.image.title': 'kev.json' } }],
  });
  return { manifest, layer: layer.digest };
}

describe('OCI-artifact vulnerability feeds', () => {
  it('loads a KEV catalogue from an artifact by tag and by digest and records its digest', async () => {
    const a = await pushArtifact('feeds/kev', 'latest', without);
    const store = new FeedStore({ registry: registry() });
    const byTag = await store.refresh({ kind: 'kev', oci: `${reg.host}/feeds/kev:latest` }, noSources);
    assert.equal(byTag.changed, true);
    assert.equal(byTag.state.error, undefined);
    assert.equal(byTag.state.records, 2);
    assert.equal(byTag.state.digest, a.layer, 'the digest of the feed content in use is recorded (= the verified layer digest)');
    assert.equal(byTag.state.source, `oci://${reg.host}/feeds/kev:latest`);
    const byDigest = await store.get({ kind: 'kev', oci: `${reg.host}/feeds/kev@${a.manifest}` }, noSources);
    assert.equal(byDigest.kev?.entries.size, 2);
    assert.equal(byDigest.state.digest, sha256(without));
    // Unchanged artifact: not "changed".
    assert.equal((await store.refresh({ kind: 'kev', oci: `${reg.host}/feeds/kev:latest` }, noSources)).changed, false);
  });

  it('loads NVD CVE records (feed kind nvd) from an artifact and matches by CPE', async () => {
    const nvd = readFileSync(new URL('../fixtures/vuln/nvd/nvd-demo-subset.json', import.meta.url));
    const a = await pushArtifact('feeds/nvd', 'latest', nvd);
    const store = new FeedStore({ registry: registry() });
    const got = await store.get({ kind: 'nvd', oci: `${reg.host}/feeds/nvd:latest` }, noSources);
    assert.equal(got.state.error, undefined);
    assert.deepEqual({ kind: got.state.kind, records: got.state.records, digest: got.state.digest }, { kind: 'nvd', records: 4, digest: a.layer });
    assert.deepEqual(store.nvdIndex([got]).assess('cpe:2.3:a:openssl:openssl:3.0.12:*:*:*:*:*:*:*').hits.map((h) => h.record.id), ['CVE-2024-0727']);
  });

  it('picks the JSON layer among several; refuses an artifact where the feed layer is ambiguous', async () => {
    await pushArtifact('feeds/kev-multi', 'v1', withLog4shell, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', content: Buffer.from('not the feed') }]);
    const store = new FeedStore({ registry: registry() });
    const ok = await store.get({ kind: 'kev', oci: `${reg.host}/feeds/kev-multi:v1` }, noSources);
    assert.ok(ok.kev?.entries.has('CVE-2021-44228'));
    await pushArtifact('feeds/kev-multi', 'v2', withLog4shell, [{ mediaType: 'application/json', content: Buffer.from('{}') }]);
    const bad = await store.refresh({ kind: 'kev', oci: `${reg.host}/feeds/kev-multi:v2` }, noSources);
    assert.equal(bad.state.error?.reason, 'FeedInvalid');
    assert.match(bad.state.error?.message ?? '', /cannot tell which is the feed/);
  });

  it('a tampered or missing artifact keeps the previous good feed in use', async () => {
    const repo = 'feeds/kev-tamper';
    const ref = { kind: 'kev' as const, oci: `${reg.host}/${repo}:latest` };
    const good = await pushArtifact(repo, 'latest', without);
    const store = new FeedStore({ registry: registry() });
    const first = await store.refresh(ref, noSources);
    assert.equal(first.state.digest, good.layer);

    // A new version whose layer blob is corrupted in the registry's storage (same length, one byte flipped).
    const next = await pushArtifact(repo, 'latest', withLog4shell);
    const hex = next.layer.slice('sha256:'.length);
    const file = join(reg.dir, 'data/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const bytes = readFileSync(file);
    bytes[10] = bytes[10] === 0x20 ? 0x21 : 0x20;
    writeFileSync(file, bytes);
    const tampered = await store.refresh(ref, noSources);
    assert.equal(tampered.changed, false);
    assert.equal(tampered.state.error?.reason, 'RegistryContentInvalid');
    assert.match(tampered.state.error?.message ?? '', /does not match its digest/);
    assert.equal(tampered.state.digest, good.layer, 'previous good content still in use');
    assert.equal(tampered.state.records, 2);
    assert.equal((await store.get(ref, noSources)).kev?.entries.has('CVE-2021-44228'), false);

    // The tag disappears.
    assert.equal(await push.deleteManifest(repo, 'latest'), true);
    const missing = await store.refresh(ref, noSources);
    assert.equal(missing.changed, false);
    assert.match(missing.state.error?.message ?? '', /not found/);
    assert.equal(missing.state.digest, good.layer);
    assert.equal((await store.get(ref, noSources)).kev?.entries.size, 2);

    // Never loaded + missing: an error without content.
    const none = await new FeedStore({ registry: registry() }).refresh({ kind: 'kev', oci: `${reg.host}/feeds/nothing:latest` }, noSources);
    assert.equal(none.state.records, 0);
    assert.match(none.state.error?.message ?? '', /artifact not found/);
  });
});
