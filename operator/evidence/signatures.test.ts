/**
 * URL artifacts (issue #14 item 7): only a message signature over the file, or cosign's signing predicate
 * over its SHA-256, counts as a signature; a signed in-toto statement with any other predicate does not.
 * Served by a real HTTP server on loopback; bundles signed with a real P-256 key and verified by @sigstore/verify.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { dsse } from '@sigstore/core';
import { parsePublicKey } from '../sigstore/verify.ts';
import type { TrustPolicy } from '../sigstore/verify.ts';
import { verifyUrlArtifact } from './signatures.ts';

const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const trust: TrustPolicy = { keys: [parsePublicKey(kp.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'test key')], keyless: [] };
const file = Buffer.from('firmware image 1.2.3\n');
const sha256 = createHash('sha256').update(file).digest();
const digest = `sha256:${sha256.toString('hex')}`;
const MEDIA = 'application/vnd.dev.sigstore.bundle.v0.3+json';

function messageSignatureBundle(data: Buffer): unknown {
  return {
    mediaType: MEDIA,
    verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(data).digest('base64') },
      signature: sign('sha256', data, kp.privateKey).toString('base64'),
    },
  };
}

function dsseBundle(predicateType: string, predicate: unknown, subjectHex = sha256.toString('hex')): unknown {
  const type = 'application/vnd.in-toto+json';
  const body = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'firmware.bin', digest: { sha256: subjectHex } }], predicateType, predicate }));
  const sig = sign('sha256', dsse.preAuthEncoding(type, body), kp.privateKey);
  return {
    mediaType: MEDIA,
    verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] },
    dsseEnvelope: { payloadType: type, payload: body.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] },
  };
}

describe('url artifacts: what counts as a signature of the file', () => {
  const files = new Map<string, Buffer>();
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      const body = files.get(req.url ?? '');
      if (body) res.writeHead(200).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  async function judge(name: string, bundle: unknown) {
    files.set(`/${name}.bin`, file);
    files.set(`/${name}.bin.sigstore.json`, Buffer.from(JSON.stringify(bundle)));
    return verifyUrlArtifact('firmware', `${base}/${name}.bin`, digest, trust, { network: 'allow', allowHttp: true, allowHosts: ['127.0.0.1'] });
  }

  it('a message signature over the file (cosign sign-blob --bundle) counts', async () => {
    const ev = await judge('msg', messageSignatureBundle(file));
    assert.equal(ev.verified.length, 1, JSON.stringify(ev.rejected));
  });

  it('a message signature over other bytes does not', async () => {
    const ev = await judge('msg-other', messageSignatureBundle(Buffer.from('other')));
    assert.equal(ev.verified.length, 0);
    assert.equal(ev.rejected.length, 1);
  });

  it('cosign\'s signing predicate over the file\'s SHA-256 counts; over another digest it does not', async () => {
    assert.equal((await judge('cosign-sign', dsseBundle('https://sigstore.dev/cosign/sign/v1', {}))).verified.length, 1);
    const other = await judge('cosign-sign-other', dsseBundle('https://sigstore.dev/cosign/sign/v1', {}, 'ab'.repeat(32)));
    assert.equal(other.verified.length, 0);
    assert.equal(other.rejected[0]?.reason, 'SignedDigestMismatch');
  });

  it('a trusted-signed in-toto statement with another predicate (a failed scan) over the file is not a signature', async () => {
    for (const [name, type] of [['scan', 'https://example.com/scan-result/v1'], ['slsa', 'https://slsa.dev/provenance/v1'], ['custom', 'https://cosign.sigstore.dev/attestation/v1']] as const) {
      const ev = await judge(name, dsseBundle(type, { result: 'FAILED', critical: 12 }));
      assert.equal(ev.verified.length, 0, name);
      assert.equal(ev.rejected[0]?.reason, 'SignatureInvalid', name);
      assert.match(ev.rejected[0]?.message ?? '', /not a signature/, name);
    }
  });
});
