import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { ed25519, ed25519ph } from '@noble/curves/ed25519.js';
import { dsse } from '@sigstore/core';
import { parseBundle, parsePublicKey, parseTrustedRoot, verifyBundle, verifyDsseEnvelope, verifyPayloadSignature } from './verify.ts';
import type { TrustPolicy } from './verify.ts';

function pair(kind: 'ec' | 'ed25519' | 'rsa'): { pub: string; priv: KeyObject } {
  const kp =
    kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  return { pub: kp.publicKey.export({ type: 'spki', format: 'pem' }).toString(), priv: kp.privateKey };
}
const alg = (k: KeyObject) => (k.asymmetricKeyType === 'ed25519' ? null : 'sha256');

const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': 'r/x' }, image: { 'docker-manifest-digest': `sha256:${'b'.repeat(64)}` }, type: 'cosign container image signature' }, optional: null }));

describe('key-based verification (cosign simple signing)', () => {
  for (const kind of ['ec', 'ed25519', 'rsa'] as const) {
    it(`verifies a ${kind} signature and rejects a tampered payload or another key`, () => {
      const good = pair(kind);
      const other = pair(kind);
      const policy: TrustPolicy = { keys: [parsePublicKey(good.pub, 'Secret a/b key c')], keyless: [] };
      const sig = sign(alg(good.priv), payload, good.priv);
      const v = verifyPayloadSignature(payload, sig, policy);
      assert.equal(v.ok, true);
      assert.match(v.ok ? v.signer : '', /^key [0-9a-f]{12} \(Secret a\/b key c\)$/);
      const tampered = Buffer.from(payload.toString().replace('bbbb', 'bbbc'));
      const t = verifyPayloadSignature(tampered, sig, policy);
      assert.equal(t.ok, false);
      const o = verifyPayloadSignature(payload, sign(alg(other.priv), payload, other.priv), policy);
      assert.equal(o.ok, false);
      assert.equal(!o.ok && o.reason, 'UntrustedSigner');
    });
  }
  it('refuses malformed keys', () => {
    assert.throws(() => parsePublicKey('not a key', 'x'), (e: Error & { code?: string }) => e.code === 'SigningConfigInvalid');
  });
});

describe('DSSE envelopes (cosign attest, legacy .att layers) through @sigstore/verify', () => {
  for (const kind of ['ec', 'ed25519'] as const) {
    it(`verifies a ${kind} envelope; an altered payload fails`, () => {
      const k = pair(kind);
      const policy: TrustPolicy = { keys: [parsePublicKey(k.pub, 'k')], keyless: [] };
      const body = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://cyclonedx.org/bom', subject: [], predicate: { bomFormat: 'CycloneDX' } }));
      const type = 'application/vnd.in-toto+json';
      const sig = sign(alg(k.priv), dsse.preAuthEncoding(type, body), k.priv);
      const env = { payloadType: type, payload: body.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] };
      assert.equal(verifyDsseEnvelope(env, policy, 'e').ok, true);
      const altered = { ...env, payload: Buffer.from(body.toString().replace('CycloneDX"}', 'CycloneDX","x":1}')).toString('base64') };
      const v = verifyDsseEnvelope(altered, policy, 'e');
      assert.equal(v.ok, false);
      assert.equal(verifyDsseEnvelope({ payloadType: type }, policy, 'e').ok, false);
    });
  }
});

describe('Ed25519ph (RFC 8032 pre-hashed, as cosign signs with Ed25519 keys) through @noble/curves', () => {
  /** A noble key pair and its public key as the PEM a policy would hold. */
  function edPair(): { secret: Uint8Array; pem: string } {
    const { secretKey, publicKey } = ed25519ph.keygen();
    const pem = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    return { secret: secretKey, pem };
  }
  const phSign = (msg: Uint8Array, secret: Uint8Array) => Buffer.from(ed25519ph.sign(msg, secret));
  const good = edPair();
  const other = edPair();
  const policy: TrustPolicy = { keys: [parsePublicKey(good.pem, 'Secret a/ed key cosign.pub')], keyless: [] };

  it('simple signing: an Ed25519ph signature verifies; another key, a tampered payload and confusions do not', () => {
    const sig = phSign(payload, good.secret);
    const v = verifyPayloadSignature(payload, sig, policy);
    assert.equal(v.ok, true, v.ok ? '' : v.message);
    assert.match(v.ok ? v.signer : '', /Secret a\/ed key cosign\.pub/);
    // another Ed25519 key
    const o = verifyPayloadSignature(payload, phSign(payload, other.secret), policy);
    assert.equal(o.ok, false);
    assert.equal(!o.ok && o.reason, 'UntrustedSigner');
    assert.doesNotMatch(!o.ok ? o.message : '', /unsupported/);
    // tampered payload
    assert.equal(verifyPayloadSignature(Buffer.from(payload.toString().replace('bbbb', 'bbbc')), sig, policy).ok, false);
    // pure Ed25519 over the SHA-512 digest is not Ed25519ph over the payload (and vice versa)
    const sha = createHash('sha512').update(payload).digest();
    assert.equal(verifyPayloadSignature(payload, Buffer.from(ed25519.sign(sha, good.secret)), policy).ok, false);
    assert.equal(verifyPayloadSignature(sha, sig, policy).ok, false);
    // Ed25519ph under a non-empty context (not what cosign produces) is another signature
    assert.equal(verifyPayloadSignature(payload, Buffer.from(ed25519ph.sign(payload, good.secret, { context: Buffer.from('cosign') })), policy).ok, false);
    // truncated or garbage signatures are a plain failure, not a throw
    assert.equal(verifyPayloadSignature(payload, sig.subarray(0, 63), policy).ok, false);
    assert.equal(verifyPayloadSignature(payload, Buffer.alloc(64, 0xff), policy).ok, false);
    // a pure Ed25519 signature (node:crypto) still verifies
    assert.equal(verifyPayloadSignature(payload, Buffer.from(ed25519.sign(payload, good.secret)), policy).ok, true);
    // an ECDSA-only policy is not fooled by an Ed25519ph signature
    const ec = { keys: [parsePublicKey(pair('ec').pub, 'ec')], keyless: [] };
    assert.equal(verifyPayloadSignature(payload, sig, ec).ok, false);
  });

  it('DSSE envelope signed with Ed25519ph over the PAE verifies; an altered payload or another key fails', () => {
    const body = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://cyclonedx.org/bom', subject: [], predicate: {} }));
    const type = 'application/vnd.in-toto+json';
    const env = (sig: Buffer, b = body) => ({ payloadType: type, payload: b.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] });
    const sig = phSign(dsse.preAuthEncoding(type, body), good.secret);
    const v = verifyDsseEnvelope(env(sig), policy, 'e');
    assert.equal(v.ok, true, v.ok ? '' : v.message);
    assert.equal(verifyDsseEnvelope(env(sig, Buffer.from(body.toString().replace('{}}', '{"x":1}}'))), policy, 'e').ok, false);
    assert.equal(verifyDsseEnvelope(env(phSign(dsse.preAuthEncoding(type, body), other.secret)), policy, 'e').ok, false);
    // Ed25519ph over the bare payload instead of the PAE is not a DSSE signature
    assert.equal(verifyDsseEnvelope(env(phSign(body, good.secret)), policy, 'e').ok, false);
  });

  it('message-signature bundle signed with Ed25519ph verifies over the artifact only; a tlog entry is still required to verify', () => {
    const artifact = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
    const bundleJson = (sig: Buffer, tlogEntries: unknown[] = [], mediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json') => ({
      mediaType,
      verificationMaterial: { publicKey: { hint: 'h' }, tlogEntries },
      messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(artifact).digest('base64') }, signature: sig.toString('base64') },
    });
    const sig = phSign(artifact, good.secret);
    const v = verifyBundle(parseBundle(bundleJson(sig), 'b'), artifact, policy);
    assert.equal(v.ok, true, v.ok ? '' : v.message);
    assert.equal(verifyBundle(parseBundle(bundleJson(sig), 'b'), Buffer.from(`${artifact.toString()} `), policy).ok, false);
    assert.equal(verifyBundle(parseBundle(bundleJson(phSign(artifact, other.secret)), 'b'), artifact, policy).ok, false);
    // A (bogus) transparency-log entry is verified exactly as for other key types: no trusted log ⇒ rejected.
    const entry = {
      logIndex: '1',
      logId: { keyId: Buffer.alloc(32, 1).toString('base64') },
      kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
      integratedTime: '1700000000',
      inclusionPromise: { signedEntryTimestamp: Buffer.alloc(64, 2).toString('base64') },
      canonicalizedBody: Buffer.from('{}').toString('base64'),
    };
    const t = verifyBundle(parseBundle(bundleJson(sig, [entry], 'application/vnd.dev.sigstore.bundle+json;version=0.1'), 'b'), artifact, policy);
    assert.equal(t.ok, false);
    assert.match(!t.ok ? t.message : '', /inclusion promise|tlog/);
  });
});

describe('trusted root', () => {
  it('rejects documents that are not a Sigstore trusted root', () => {
    for (const bad of ['{', '{}', JSON.stringify({ mediaType: 'application/json' })]) {
      assert.throws(() => parseTrustedRoot(bad, 'ConfigMap a/b'), (e: Error & { code?: string }) => e.code === 'SigningConfigInvalid');
    }
  });
  it('accepts an empty v0.1 trusted root', () => {
    const r = parseTrustedRoot(JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }), 'x');
    assert.equal(r.tlogs.length, 0);
  });
});

describe('parser errors of Secret content are content-free', () => {
  const SECRET = 'hunter2-S3CRET';
  it('a trusted root that is broken JSON, the wrong document or malformed inside: the message quotes nothing', () => {
    const docs = [
      `{"token": "${SECRET}"`,
      `${SECRET}`,
      JSON.stringify({ mediaType: SECRET }),
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [{ baseUrl: SECRET, publicKey: { rawBytes: SECRET } }] }),
    ];
    for (const doc of docs) {
      assert.throws(() => parseTrustedRoot(doc, 'Secret cra-gate/root key root.json'), (e: Error & { code?: string }) => e.code === 'SigningConfigInvalid' && !e.message.includes(SECRET.slice(0, 6)) && e.message.startsWith('Secret cra-gate/root key root.json'), doc);
    }
  });
  it('a key that is not PEM: the message names the source only', () => {
    for (const pem of [SECRET, `-----BEGIN PUBLIC KEY-----\n${SECRET}\n-----END PUBLIC KEY-----\n`]) {
      assert.throws(() => parsePublicKey(pem, 'Secret cra-gate/k key cosign.pub'), (e: Error & { code?: string }) => e.code === 'SigningConfigInvalid' && !e.message.includes(SECRET.slice(0, 6)));
    }
  });
});
