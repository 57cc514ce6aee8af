import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseRegistryKey, parseChallenge, parseDockerConfig } from './auth.ts';
import { DigestCache } from './cache.ts';
import { RegistryClient, parseManifest, sha256Digest } from './client.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isCraGateError } from '../../errors.ts';
import { digestTag, formatReference, parseImageReference } from './reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it('parses host:port, nested repositories, tags and digests', () => {
    assert.deepEqual(parseImageReference(`127.0.0.1:5000/acme/router:2.4@${D}`), { registry: '127.0.0.1:5000', repository: 'acme/router', tag: '2.4', digest: D });
    assert.deepEqual(parseImageReference(`ghcr.io/acme/router@${D}`), { registry: 'ghcr.io', repository: 'acme/router', digest: D });
    assert.deepEqual(parseImageReference('localhost/x'), { registry: 'localhost', repository: 'x', tag: 'latest' });
  });
  it('normalises Docker Hub', () => {
    assert.deepEqual(parseImageReference('busybox'), { registry: 'registry-1.docker.io', repository: 'library/busybox', tag: 'latest' });
    assert.equal(parseImageReference('docker.io/acme/x:1').registry, 'registry-1.docker.io');
  });
  it('rejects malformed references', () => {
    for (const bad of ['', 'UPPER/case', 'x@sha256:abc', 'x:bad tag', `a/b@md5:${'a'.repeat(32)}`]) {
      assert.throws(() => parseImageReference(bad), (e: Error & { code?: string }) => e.code === 'InvalidSpec', bad);
    }
  });
  it('formats and builds cosign tags', () => {
    assert.equal(formatReference(parseImageReference(`r.io/a@${D}`)), `r.io/a@${D}`);
    assert.equal(digestTag(D, '.sig'), `sha256-${'a'.repeat(64)}.sig`);
    assert.equal(digestTag(D), `sha256-${'a'.repeat(64)}`);
  });
});

describe('auth', () => {
  it('parses Bearer and Basic challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge(undefined), undefined);
  });
  it('reads dockerconfigjson (auth and username/password forms)', () => {
    const m = parseDockerConfig(JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('u:p:x').toString('base64') }, '127.0.0.1:5000': { username: 'a', password: 'b' }, broken: {} } }));
    assert.deepEqual(m.get('registry-1.docker.io'), { username: 'u', password: 'p:x' });
    assert.deepEqual(m.get('127.0.0.1:5000'), { username: 'a', password: 'b' });
    assert.equal(m.size, 2);
    assert.throws(() => parseDockerConfig('nope'), (e: Error & { code?: string }) => e.code === 'SigningConfigInvalid');
    assert.throws(() => parseDockerConfig('{}'), (e: Error & { code?: string }) => e.code === 'SigningConfigInvalid');
    assert.equal(normaliseRegistryKey('https://Ghcr.io/v2/'), 'ghcr.io');
  });
});

describe('digest cache', () => {
  it('is an LRU bounded by bytes and refuses oversized entries', () => {
    const c = new DigestCache(100);
    c.set('a', { kind: 'blob', value: 1, size: 20 });
    c.set('b', { kind: 'blob', value: 2, size: 20 });
    c.get('a');
    for (let i = 0; i < 4; i++) c.set(`x${i}`, { kind: 'blob', value: i, size: 20 });
    assert.ok(c.get('a'), 'recently used survives');
    assert.equal(c.get('b'), undefined, 'least recently used evicted');
    assert.ok(c.bytes <= 100);
    c.set('huge', { kind: 'blob', value: 0, size: 60 });
    assert.equal(c.get('huge'), undefined);
  });
});

describe('manifest parsing', () => {
  it('accepts OCI and Docker manifests and indexes; rejects others', () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'x', digest: D, size: 1 }, layers: [] }));
    assert.equal(parseManifest(body, sha256Digest(body)).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D, size: 3 }] }));
    assert.equal(parseManifest(idx, sha256Digest(idx)).mediaType, 'application/vnd.oci.image.index.v1+json');
    for (const bad of ['{', '{"schemaVersion":1}', JSON.stringify({ schemaVersion: 2, mediaType: 'text/html' }), JSON.stringify({ schemaVersion: 2, layers: [{ digest: 'nope' }] })]) {
      assert.throws(() => parseManifest(Buffer.from(bad), D), (e: Error & { code?: string }) => e.code === 'RegistryContentInvalid', bad);
    }
  });
});

describe('network access is a capability of the registry client', () => {
  it('refuses every request without network "allow" (manifest, blob, tags, referrers, push), none reaches the registry', async () => {
    let served = 0;
    const server = createServer((_req, res) => {
      served++;
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const base = { allowHosts: ['127.0.0.1'], insecureHosts: [host], attempts: 1 };
      const offline = (e: unknown) => isCraGateError(e) && e.code === 'EvidenceUnavailable' && e.message.includes(`http://${host}/v2/acme/fw/`) && /not fetched \(offline/.test(e.message);
      for (const network of [undefined, 'deny'] as const) {
        const client = new RegistryClient({ ...base, ...(network ? { network } : {}) });
        try {
          await assert.rejects(client.manifest({ registry: host, repository: 'acme/fw', tag: '1.0' }), offline);
          await assert.rejects(client.resolve({ registry: host, repository: 'acme/fw', tag: '1.0' }), offline);
          await assert.rejects(client.blob(host, 'acme/fw', D), offline);
          await assert.rejects(client.tags(host, 'acme/fw'), offline);
          await assert.rejects(client.referrers(host, 'acme/fw', D), offline);
          await assert.rejects(client.pushBlob(host, 'acme/fw', Buffer.from('x')), offline);
        } finally {
          client.close();
        }
      }
      assert.equal(served, 0, 'no request reached the registry');
      const online = new RegistryClient({ ...base, network: 'allow' });
      try {
        assert.equal(await online.manifest({ registry: host, repository: 'acme/fw', tag: '1.0' }), undefined);
      } finally {
        online.close();
      }
      assert.equal(served, 1, 'with the capability the request is made');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
