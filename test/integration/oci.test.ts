/**
 * OCI evidence against a real registry (CNCF distribution) with real cosign signatures and attestations:
 * key-based signing (ECDSA P-256, Ed25519, RSA; cosign v3 Sigstore bundles as referrers and the legacy `.sig`
 * / `.att` tags), SBOM discovery, a TLS registry with the token flow, and the negative matrix — every case
 * ends in a failed check or an evidence error, never Approved. Faults (500, 429, slowness, tampering,
 * redirects) are injected by a reverse proxy in front of the real registry.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProductRelease, ReleasePolicy } from '../../operator/api/types.ts';
import { evaluate } from '../../operator/engine/evaluate.ts';
import { collectEvidence } from '../../operator/evidence/collect.ts';
import type { EvidenceSources } from '../../operator/evidence/collect.ts';
import { DigestCache } from '../../operator/evidence/oci/cache.ts';
import type { RegistryClientOptions } from '../../operator/evidence/oci/client.ts';
import { makeSignatureCollector } from '../../operator/evidence/signatures.ts';
import { createEvidenceRuntime } from '../../operator/evidence/runtime.ts';
import { Cosign } from '../harness/cosign.ts';
import type { KeyPair } from '../harness/cosign.ts';
import { freePort, makePki, Pusher, startFaultProxy, startRegistry } from '../harness/registry.ts';
import type { FaultProxy, Pki, TestRegistry } from '../harness/registry.ts';
import { createAuthority, keylessBundle } from '../fixtures/oci/keyless.ts';
import { cyclonedxFor, spdxFor } from '../fixtures/oci/sbom.ts';

const NOW = new Date('2028-02-01T00:00:00Z');
const work = mkdtempSync(join(tmpdir(), 'cra-gate-oci-'));
let reg: TestRegistry;
let proxy: FaultProxy;
let cosign: Cosign;
let push: Pusher;
const keys: Record<'trusted' | 'untrusted' | 'ed25519' | 'ed25519Other' | 'rsa', KeyPair> = {} as never;

function policy(extra: Partial<ReleasePolicy['spec']> = {}): ReleasePolicy {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'oci', generation: 1 },
    spec: {
      checks: [{ id: 'signature.valid', enforcement: 'Block' }, { id: 'sbom.present', enforcement: 'Block' }],
      signing: {
        keys: (['trusted', 'ed25519', 'rsa'] as const).map((k) => ({ secretRef: { namespace: 'cra-gate', name: `key-${k}`, key: 'cosign.pub' } })),
      },
      ...extra,
    },
  };
}

function release(images: Record<string, string>, extra: Partial<ProductRelease['spec']> = {}): ProductRelease {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ProductRelease',
    metadata: { name: 'r', namespace: 'acme', generation: 1 },
    spec: {
      product: { name: 'acme-router' },
      version: '1.0.0',
      placedOnMarket: '2028-01-15',
      policyRef: 'oci',
      artifacts: Object.entries(images).map(([name, image]) => ({ name, image })),
      ...extra,
    },
  };
}

function sources(extraSecrets: Record<string, Record<string, string>> = {}): EvidenceSources {
  const secrets: Record<string, Record<string, string>> = { ...extraSecrets };
  for (const k of ['trusted', 'untrusted', 'ed25519', 'rsa'] as const) secrets[`cra-gate/key-${k}`] = { 'cosign.pub': keys[k].pubPem };
  return {
    readConfigMap: () => Promise.resolve(undefined),
    readSecret: (ns, name) => Promise.resolve(secrets[`${ns}/${name}`]),
  };
}

function registryOptions(extra: Partial<RegistryClientOptions> = {}): RegistryClientOptions {
  return { allowHosts: ['127.0.0.1'], insecureHosts: [reg.host, proxy.host], attempts: 3, backoffMs: 20, timeoutMs: 3000, cache: new DigestCache(16 * 1024 * 1024), ...extra };
}

async function judge(rel: ProductRelease, opts: { registry?: Partial<RegistryClientOptions>; policy?: ReleasePolicy; secrets?: Record<string, Record<string, string>> } = {}) {
  const pol = opts.policy ?? policy();
  const collector = makeSignatureCollector({ registry: registryOptions(opts.registry) });
  const evidence = await collectEvidence({ release: rel, policy: pol, sources: sources(opts.secrets), runtime: createEvidenceRuntime({ network: 'allow' }), now: NOW }, [collector]);
  const ev = evaluate({ release: rel, policy: pol, policyName: 'oci', now: NOW, evidence });
  const check = (id: string) => ev.checks.find((c) => c.id === id)!;
  return { ev, evidence, sig: check('signature.valid'), sbom: check('sbom.present') };
}

let seq = 0;
/** Pushes a fresh image; returns `host/repo@digest` for the registry (or the proxy) host. */
async function image(repo: string, host?: string): Promise<{ ref: string; direct: string; digest: string; repo: string }> {
  const digest = await push.image(repo, `v${++seq}`);
  return { ref: `${host ?? reg.host}/${repo}@${digest}`, direct: `${reg.host}/${repo}@${digest}`, digest, repo };
}

function sbomFile(name: string, body: object): string {
  const f = join(work, `${name}-${++seq}.json`);
  writeFileSync(f, JSON.stringify(body));
  return f;
}

before(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg);
  push = new Pusher(reg);
  cosign = new Cosign({ workDir: join(work, 'cosign'), registry: reg });
  keys.trusted = await cosign.generateKeyPair('trusted');
  keys.untrusted = await cosign.generateKeyPair('untrusted');
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(work, 'ed.pem')]);
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(work, 'ed-other.pem')]);
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(work, 'rsa.pem')]);
  keys.ed25519 = await cosign.importKeyPair(join(work, 'ed.pem'), 'ed25519');
  keys.ed25519Other = await cosign.importKeyPair(join(work, 'ed-other.pem'), 'ed25519-other');
  keys.rsa = await cosign.importKeyPair(join(work, 'rsa.pem'), 'rsa');
});

after(async () => {
  await proxy?.stop();
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('verified evidence from a real registry', () => {
  it('cosign v3 bundle signature + CycloneDX attestation (ECDSA P-256) ⇒ both checks pass', async () => {
    const img = await image('acme/router');
    await cosign.sign(img.direct, keys.trusted);
    await cosign.attest(img.direct, keys.trusted, sbomFile('router', cyclonedxFor('router', img.digest)), 'cyclonedx');
    const { ev, sig, sbom } = await judge(release({ router: img.ref }));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.equal(sbom.result, 'Pass', sbom.message);
    assert.equal(ev.decision, 'Approved');
  });

  it('legacy .sig / .att tags with an SPDX attestation (ECDSA) ⇒ pass', async () => {
    const img = await image('acme/ui');
    await cosign.sign(img.direct, keys.trusted, 'legacy');
    await cosign.attest(img.direct, keys.trusted, sbomFile('ui', spdxFor('ui', img.digest)), 'spdxjson', 'legacy');
    const { sig, sbom } = await judge(release({ ui: img.ref }));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.equal(sbom.result, 'Pass', sbom.message);
  });

  it('Ed25519 key (cosign signs Ed25519ph): bundle signature + CycloneDX attestation ⇒ Approved, the signer is named', async () => {
    const img = await image('acme/ed');
    await cosign.sign(img.direct, keys.ed25519);
    await cosign.attest(img.direct, keys.ed25519, sbomFile('ed', cyclonedxFor('ed', img.digest)), 'cyclonedx');
    const { ev, sig, sbom } = await judge(release({ ed: img.ref }));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.match(sig.message, /Secret cra-gate\/key-ed25519/);
    assert.equal(sbom.result, 'Pass', sbom.message);
    assert.equal(ev.decision, 'Approved');
  });

  it('Ed25519 key, legacy .sig / .att tags (Ed25519ph) ⇒ pass', async () => {
    const img = await image('acme/ed-legacy');
    await cosign.sign(img.direct, keys.ed25519, 'legacy');
    await cosign.attest(img.direct, keys.ed25519, sbomFile('ed-legacy', spdxFor('ed-legacy', img.digest)), 'spdxjson', 'legacy');
    const { sig, sbom } = await judge(release({ edl: img.ref }));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.match(sig.message, /Secret cra-gate\/key-ed25519/);
    assert.equal(sbom.result, 'Pass', sbom.message);
  });

  it('signed by another Ed25519 key (bundle and legacy) ⇒ untrusted, never approved', async () => {
    for (const format of ['bundle', 'legacy'] as const) {
      const img = await image(`acme/ed-other-${format}`);
      await cosign.sign(img.direct, keys.ed25519Other, format);
      await cosign.attest(img.direct, keys.ed25519Other, sbomFile('ed-other', cyclonedxFor('ed-other', img.digest)), 'cyclonedx', format);
      const { ev, sig, sbom } = await judge(release({ edo: img.ref }));
      assert.equal(sig.result, 'Fail', `${format}: ${sig.message}`);
      assert.notEqual(sbom.result, 'Pass', `${format}: ${sbom.message}`);
      assert.notEqual(ev.decision, 'Approved');
    }
  });

  it('RSA key, legacy signature ⇒ signature.valid passes, the signer is named', async () => {
    const img = await image('acme/rsa');
    await cosign.sign(img.direct, keys.rsa, 'legacy');
    const { sig } = await judge(release({ rsa: img.ref }));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.match(sig.message, /Secret cra-gate\/key-rsa/);
  });

  it('a transient 429 is retried and the evaluation still succeeds', async () => {
    const img = await image('acme/retry', proxy.host);
    await cosign.sign(img.direct, keys.trusted, 'legacy');
    proxy.rules = [{ match: /\/manifests\/sha256-[0-9a-f]+\.sig$/, action: { status: 429, headers: { 'retry-after': '0' }, times: 1 } }];
    try {
      const { sig } = await judge(release({ retry: img.ref }));
      assert.equal(sig.result, 'Pass', sig.message);
    } finally {
      proxy.rules = [];
    }
  });
});

/** Pushes a CycloneDX SBOM artifact manifest whose `subject` is `subjectDigest`; returns its manifest digest. */
async function sbomArtifact(repo: string, reference: string, sbom: object, subjectDigest: string | undefined): Promise<string> {
  const layer = await push.blob(repo, JSON.stringify(sbom));
  const empty = await push.blob(repo, '{}');
  const subject = subjectDigest ? await push.getManifest(repo, subjectDigest) : undefined;
  return push.manifest(repo, reference, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cyclonedx+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size },
    layers: [{ mediaType: 'application/vnd.cyclonedx+json', digest: layer.digest, size: layer.size }],
    ...(subject ? { subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subjectDigest, size: subject.body.length } } : {}),
  });
}

/**
 * Lists `descriptor` among the referrers of `subject` the way OCI 1.1 clients do on a registry without the
 * referrers API (the `sha256-<hex>` tag-schema index); with the API, the registry lists it by its `subject` itself.
 */
async function addToTagIndex(repo: string, subject: string, descriptor: object): Promise<void> {
  const tag = `sha256-${subject.slice(7)}`;
  let index: { schemaVersion: number; mediaType: string; manifests: unknown[] } = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] };
  try {
    index = JSON.parse((await push.getManifest(repo, tag)).body.toString()) as typeof index;
  } catch {
    // no tag index yet
  }
  await push.manifest(repo, tag, { ...index, manifests: [...index.manifests, descriptor] }, 'application/vnd.oci.image.index.v1+json');
}

describe('attached SBOMs count only for the image their manifest names as subject', () => {
  it('a trusted-signed SBOM of an older image, tagged as the new image\'s .sbom, is not the new image\'s SBOM', async () => {
    const older = await image('acme/subject');
    const newer = await image('acme/subject');
    await cosign.sign(newer.direct, keys.trusted);
    // The SBOM artifact of the older image, signed by the trusted key (its manifest digest covers the subject).
    const sbomDigest = await sbomArtifact(newer.repo, `sha256-${newer.digest.slice(7)}.sbom`, cyclonedxFor('subject', older.digest), older.digest);
    await cosign.sign(`${reg.host}/${newer.repo}@${sbomDigest}`, keys.trusted, 'legacy');
    const { ev, evidence, sig, sbom } = await judge(release({ app: newer.ref }));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.notEqual(sbom.result, 'Pass', sbom.message);
    assert.notEqual(ev.decision, 'Approved');
    const rejected = evidence.signatures?.[0]?.rejectedAttestations ?? [];
    assert.ok(rejected.some((r) => r.reason === 'SignedDigestMismatch' && r.message.includes(older.digest.slice(0, 19))), JSON.stringify(rejected));
  });

  it('a hostile registry listing the older image\'s signed SBOM referrer for the new image: not counted', async () => {
    const older = await image('acme/subject-ref', proxy.host);
    const newer = await image('acme/subject-ref', proxy.host);
    await cosign.sign(newer.direct, keys.trusted);
    const sbomDigest = await sbomArtifact(older.repo, `sbom-${seq}`, cyclonedxFor('subject-ref', older.digest), older.digest);
    await cosign.sign(`${reg.host}/${older.repo}@${sbomDigest}`, keys.trusted, 'legacy');
    const size = (await push.getManifest(older.repo, sbomDigest)).body.length;
    const foreign = { mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cyclonedx+json', digest: sbomDigest, size };
    // Without the referrers API the client reads the tag-schema index, which anyone who can push writes: add it there.
    await addToTagIndex(newer.repo, newer.digest, foreign);
    // With the referrers API, the registry answers the new image's referrers with its real list plus the older image's SBOM.
    proxy.rules = [{
      match: new RegExp(`/referrers/${newer.digest}`),
      action: {
        replaceBody: (body) => {
          let list: { manifests?: unknown[] };
          try {
            list = JSON.parse(body.toString()) as typeof list;
          } catch {
            return body;
          }
          if (!Array.isArray(list.manifests)) return body;
          return Buffer.from(JSON.stringify({ ...list, manifests: [...list.manifests, foreign] }));
        },
      },
    }];
    try {
      const { evidence, sig, sbom } = await judge(release({ app: newer.ref }));
      assert.equal(sig.result, 'Pass', sig.message);
      assert.notEqual(sbom.result, 'Pass', sbom.message);
      assert.ok((evidence.signatures?.[0]?.rejectedAttestations ?? []).some((r) => r.reason === 'SignedDigestMismatch'));
    } finally {
      proxy.rules = [];
    }
  });

  it('the same signed SBOM artifact whose subject is this image counts (control)', async () => {
    const img = await image('acme/subject-ok');
    await cosign.sign(img.direct, keys.trusted);
    const sbomDigest = await sbomArtifact(img.repo, `sbom-${seq}`, cyclonedxFor('subject-ok', img.digest), img.digest);
    await cosign.sign(`${reg.host}/${img.repo}@${sbomDigest}`, keys.trusted, 'legacy');
    const size = (await push.getManifest(img.repo, sbomDigest)).body.length;
    await addToTagIndex(img.repo, img.digest, { mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cyclonedx+json', digest: sbomDigest, size });
    const { ev, sbom } = await judge(release({ app: img.ref }));
    assert.equal(sbom.result, 'Pass', sbom.message);
    assert.equal(ev.decision, 'Approved');
  });
});

describe('TLS registry with the token flow', () => {
  let treg: TestRegistry;
  let tcosign: Cosign;
  before(async () => {
    treg = await startRegistry({ tokenAuth: { username: 'ci', password: 's3cret' } });
    tcosign = new Cosign({ workDir: join(work, 'cosign-tls'), registry: treg });
  });
  after(async () => {
    await treg?.stop();
  });

  it('reads signatures with credentials from a dockerconfigjson Secret; without them: RegistryAuthFailed', async () => {
    const tpush = new Pusher(treg, { username: 'ci', password: 's3cret' });
    const digest = await tpush.image('acme/secure', 'v1');
    const ref = `${treg.host}/acme/secure@${digest}`;
    await tcosign.sign(ref, keys.trusted, 'legacy');
    const tls = { insecureHosts: [], allowHosts: ['127.0.0.1', 'localhost'], ca: treg.pki!.caPem };
    const rel = release({ secure: ref }, { imagePullSecrets: [{ name: 'pull' }] });
    const ok = await judge(rel, { registry: tls, secrets: { 'acme/pull': { '.dockerconfigjson': treg.dockerConfigJson } } });
    assert.equal(ok.sig.result, 'Pass', ok.sig.message);
    const denied = await judge(release({ secure: ref }), { registry: tls });
    assert.equal(denied.sig.result, 'Error');
    assert.equal(denied.sig.reason, 'RegistryAuthFailed', denied.sig.message);
    const untrustedCa = await judge(rel, { registry: { insecureHosts: [], allowHosts: ['127.0.0.1', 'localhost'] }, secrets: { 'acme/pull': { '.dockerconfigjson': treg.dockerConfigJson } } });
    assert.equal(untrustedCa.sig.result, 'Error', 'a registry certificate from an unknown CA is refused');
    assert.equal(untrustedCa.sig.reason, 'RegistryUnavailable');
  });
});

describe('negative matrix: never Approved', () => {
  const notApproved = (ev: { decision: string }) => assert.notEqual(ev.decision, 'Approved');

  it('unsigned image ⇒ SignatureMissing', async () => {
    const img = await image('neg/unsigned');
    const { ev, sig } = await judge(release({ unsigned: img.ref }));
    assert.equal(sig.result, 'Fail');
    assert.equal(sig.reason, 'SignatureMissing');
    notApproved(ev);
  });

  it('signature by an untrusted key (bundle and legacy) ⇒ UntrustedSigner', async () => {
    for (const format of ['bundle', 'legacy'] as const) {
      const img = await image(`neg/untrusted-${format}`);
      await cosign.sign(img.direct, keys.untrusted, format);
      const { ev, sig } = await judge(release({ app: img.ref }));
      assert.equal(sig.result, 'Fail', `${format}: ${sig.message}`);
      assert.equal(sig.reason, 'UntrustedSigner', sig.message);
      assert.match(sig.message, /^app \(/);
      notApproved(ev);
    }
  });

  it('a valid signature for a different digest ⇒ SignedDigestMismatch', async () => {
    const a = await image('neg/copied');
    const b = await image('neg/copied');
    await cosign.sign(a.direct, keys.trusted, 'legacy');
    // Copy A's signature manifest to B's cosign tag: a genuine signature, but over A.
    const sigA = await push.getManifest('neg/copied', `${a.digest.replace(':', '-')}.sig`);
    await push.manifest('neg/copied', `${b.digest.replace(':', '-')}.sig`, sigA.body.toString(), sigA.contentType);
    const { ev, sig } = await judge(release({ b: b.ref }));
    assert.equal(sig.result, 'Fail');
    assert.equal(sig.reason, 'SignedDigestMismatch', sig.message);
    notApproved(ev);
  });

  it('a tampered blob or manifest (served altered) ⇒ RegistryContentInvalid', async () => {
    const img = await image('neg/tampered', proxy.host);
    await cosign.sign(img.direct, keys.trusted, 'legacy');
    for (const match of [/\/blobs\/sha256:/, /\/manifests\/sha256:[0-9a-f]{64}$/]) {
      proxy.rules = [{ match, action: { replaceBody: (b) => Buffer.from(b.toString('latin1').replace(/"/, '"x-')) } }];
      const seen0 = proxy.seen.length;
      try {
        const { ev, sig } = await judge(release({ t: img.ref }));
        assert.equal(sig.result, 'Error', `${String(match)}: ${sig.message} ${proxy.seen.slice(seen0).join(' | ')}`);
        assert.equal(sig.reason, 'RegistryContentInvalid', sig.message);
        notApproved(ev);
      } finally {
        proxy.rules = [];
      }
    }
  });

  it('an attestation whose SBOM was altered after signing is not counted ⇒ sbom.present fails', async () => {
    const img = await image('neg/altered');
    await cosign.sign(img.direct, keys.trusted, 'legacy');
    await cosign.attest(img.direct, keys.trusted, sbomFile('altered', cyclonedxFor('altered', img.digest)), 'cyclonedx', 'legacy');
    const tag = `${img.digest.replace(':', '-')}.att`;
    const att = JSON.parse((await push.getManifest('neg/altered', tag)).body.toString()) as { layers: { digest: string; size: number; mediaType: string }[] };
    const env = JSON.parse((await push.getBlob('neg/altered', att.layers[0]!.digest)).toString()) as { payload: string };
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { predicate: { components: { version: string }[] } };
    statement.predicate.components[0]!.version = '9.9.9'; // the SBOM now claims another zlib
    env.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const blob = await push.blob('neg/altered', JSON.stringify(env));
    await push.manifest('neg/altered', tag, { ...att, layers: [{ ...att.layers[0]!, digest: blob.digest, size: blob.size }] });
    const { ev, sig, sbom, evidence } = await judge(release({ altered: img.ref }));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.equal(sbom.result, 'Fail', sbom.message);
    assert.equal(sbom.reason, 'SbomMissing');
    assert.equal(evidence.signatures?.[0]?.rejectedAttestations.length, 1);
    notApproved(ev);
  });

  it('registry down ⇒ RegistryUnavailable', async () => {
    const port = await freePort();
    const { ev, sig } = await judge(release({ down: `127.0.0.1:${port}/x/y@sha256:${'1'.repeat(64)}` }), { registry: { insecureHosts: [`127.0.0.1:${port}`] } });
    assert.equal(sig.result, 'Error');
    assert.equal(sig.reason, 'RegistryUnavailable', sig.message);
    notApproved(ev);
  });

  for (const status of [500, 429]) {
    it(`registry answering ${status} on every request ⇒ RegistryUnavailable after retries`, async () => {
      const img = await image(`neg/status${status}`, proxy.host);
      proxy.rules = [{ match: /^\/v2\/neg\//, action: { status, headers: { 'retry-after': '0' } } }];
      const before = proxy.seen.length;
      try {
        const { ev, sig } = await judge(release({ s: img.ref }));
        assert.equal(sig.result, 'Error');
        assert.equal(sig.reason, 'RegistryUnavailable', sig.message);
        assert.match(sig.message, /after 3 attempts/);
        assert.ok(proxy.seen.length - before >= 3, 'retried');
        notApproved(ev);
      } finally {
        proxy.rules = [];
      }
    });
  }

  it('a registry too slow ⇒ timeout, RegistryUnavailable', async () => {
    const img = await image('neg/slow', proxy.host);
    proxy.rules = [{ match: /^\/v2\/neg\/slow\//, action: { delayMs: 2000 } }];
    try {
      const { ev, sig } = await judge(release({ slow: img.ref }), { registry: { timeoutMs: 300, attempts: 2 } });
      assert.equal(sig.result, 'Error');
      assert.equal(sig.reason, 'RegistryUnavailable');
      assert.match(sig.message, /timed out/);
      notApproved(ev);
    } finally {
      proxy.rules = [];
    }
  });

  it('a manifest over the size limit ⇒ RegistryContentInvalid', async () => {
    const digest = await push.image('neg/huge', 'v1', { annotations: { padding: 'x'.repeat(64 * 1024) } });
    const { ev, sig } = await judge(release({ huge: `${reg.host}/neg/huge@${digest}` }), { registry: { maxManifestBytes: 16 * 1024 } });
    assert.equal(sig.result, 'Error');
    assert.equal(sig.reason, 'RegistryContentInvalid');
    assert.match(sig.message, /exceeds the limit/);
    notApproved(ev);
  });

  it('a redirect to 169.254.169.254 ⇒ UrlNotAllowed (the SSRF guard re-checks every hop)', async () => {
    const img = await image('neg/redirect', proxy.host);
    await cosign.sign(img.direct, keys.trusted, 'legacy');
    proxy.rules = [{ match: /\/blobs\/sha256:/, action: { redirect: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' } }];
    try {
      const { ev, sig } = await judge(release({ r: img.ref }));
      assert.equal(sig.result, 'Error');
      assert.equal(sig.reason, 'UrlNotAllowed', sig.message);
      notApproved(ev);
    } finally {
      proxy.rules = [];
    }
  });

  it('a policy without trusted signers ⇒ NoTrustedSigners', async () => {
    const img = await image('neg/nosigners');
    const { ev, sig } = await judge(release({ n: img.ref }), { policy: policy({ signing: {} }) });
    assert.equal(sig.result, 'Error');
    assert.equal(sig.reason, 'NoTrustedSigners');
    notApproved(ev);
  });
});

describe('keyless: Sigstore bundles beside url artifacts, against a trusted root the suite controls', () => {
  const id = { subject: 'https://github.com/acme/router/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' };
  let server: Server;
  let base: string;
  let ca: ReturnType<typeof createAuthority>;
  const files = new Map<string, Buffer>();
  let pki: Pki;

  before(async () => {
    pki = makePki(join(work, 'files-pki'));
    ca = createAuthority(join(work, 'fulcio'));
    server = createHttpsServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) => {
      const body = files.get(req.url ?? '');
      if (!body) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    base = `https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  function keylessPolicy(keyless: { issuer: string; subject?: string; subjectRegExp?: string }[]): ReleasePolicy {
    return policy({ signing: { keyless, trustedRoot: { configMapRef: { namespace: 'cra-gate', name: 'sigstore-root', key: 'trusted_root.json' } } } });
  }

  async function judgeFile(path: string, pol: ReleasePolicy, trustedRoot = ca.trustedRoot) {
    const data = files.get(path)!;
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const rel = release({});
    rel.spec.artifacts = [{ name: 'firmware', url: `${base}${path}`, digest }];
    const collector = makeSignatureCollector({ registry: registryOptions(), fetchOptions: { allowHosts: ['127.0.0.1'], ca: pki.caPem } });
    const src: EvidenceSources = {
      readConfigMap: (ns, name) => Promise.resolve(ns === 'cra-gate' && name === 'sigstore-root' ? { 'trusted_root.json': trustedRoot } : undefined),
      readSecret: () => Promise.resolve(undefined),
    };
    const evidence = await collectEvidence({ release: rel, policy: pol, sources: src, runtime: createEvidenceRuntime({ network: 'allow' }), now: NOW }, [collector]);
    const ev = evaluate({ release: rel, policy: pol, policyName: 'oci', now: NOW, evidence });
    return { ev, evidence, sig: ev.checks.find((c) => c.id === 'signature.valid')! };
  }

  function publish(name: string, signer: typeof id, authority = ca, signed?: Buffer): string {
    const data = Buffer.from(`firmware ${name} ${Math.random()}`);
    files.set(`/${name}.bin`, data);
    files.set(`/${name}.bin.sigstore.json`, Buffer.from(JSON.stringify(keylessBundle(authority, signer, signed ?? data))));
    return `/${name}.bin`;
  }

  it('identity and issuer as the policy says ⇒ pass (certificate chain, tlog inclusion proof + SET, signature)', async () => {
    const { sig, evidence } = await judgeFile(publish('ok', id), keylessPolicy([{ issuer: id.issuer, subjectRegExp: '^https://github\\.com/acme/' }]));
    assert.equal(sig.result, 'Pass', sig.message);
    assert.match(sig.message, /github\.com\/acme\/router/);
    // the verified log entry's integratedTime is evidence of when it was signed (placedOnMarket plausibility)
    const signedAt = Date.parse(evidence.signatures?.[0]?.verified[0]?.signedAt ?? '');
    assert.ok(Math.abs(signedAt - Date.now()) < 10 * 60_000, `signedAt ${String(evidence.signatures?.[0]?.verified[0]?.signedAt)}`);
  });

  it('identity mismatch ⇒ UntrustedSigner naming the identity seen', async () => {
    const { ev, sig } = await judgeFile(publish('wrong-subject', { ...id, subject: 'https://github.com/evil/fork/.github/workflows/release.yml@refs/heads/main' }), keylessPolicy([{ issuer: id.issuer, subjectRegExp: '^https://github\\.com/acme/' }]));
    assert.equal(sig.result, 'Fail');
    assert.equal(sig.reason, 'UntrustedSigner');
    assert.match(sig.message, /evil\/fork/);
    assert.notEqual(ev.decision, 'Approved');
  });

  it('issuer mismatch ⇒ UntrustedSigner', async () => {
    const { ev, sig } = await judgeFile(publish('wrong-issuer', { ...id, issuer: 'https://accounts.example' }), keylessPolicy([{ issuer: id.issuer, subject: id.subject }]));
    assert.equal(sig.result, 'Fail');
    assert.equal(sig.reason, 'UntrustedSigner');
    assert.match(sig.message, /accounts\.example/);
    assert.notEqual(ev.decision, 'Approved');
  });

  it('a certificate from another CA, or a bundle over other bytes ⇒ SignatureInvalid', async () => {
    const rogue = createAuthority(join(work, 'rogue'), 'rogue');
    const pol = keylessPolicy([{ issuer: id.issuer, subject: id.subject }]);
    const a = await judgeFile(publish('rogue', id, rogue), pol);
    assert.equal(a.sig.reason, 'SignatureInvalid', a.sig.message);
    const b = await judgeFile(publish('other-bytes', id, ca, Buffer.from('not this file')), pol);
    assert.equal(b.sig.result, 'Fail');
    assert.equal(b.sig.reason, 'SignatureInvalid', b.sig.message);
  });

  it('no bundle beside the file ⇒ SignatureMissing; a broken trusted root ⇒ SigningConfigInvalid', async () => {
    files.set('/bare.bin', Buffer.from('bare'));
    const pol = keylessPolicy([{ issuer: id.issuer, subject: id.subject }]);
    const a = await judgeFile('/bare.bin', pol);
    assert.equal(a.sig.reason, 'SignatureMissing', a.sig.message);
    const b = await judgeFile(publish('root', id), pol, '{"mediaType":"application/json"}');
    assert.equal(b.sig.result, 'Error');
    assert.equal(b.sig.reason, 'SigningConfigInvalid');
  });
});
