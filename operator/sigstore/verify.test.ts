import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { dsse } from '@sigstore/core';
import { parsePublicKey, parseTrustedRoot, verifyDsseEnvelope, verifyPayloadSignature } from './verify.ts';
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
