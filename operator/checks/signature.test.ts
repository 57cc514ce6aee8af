import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SignatureEvidence } from '../evidence/signatures.ts';
import { signatureValid } from './signature.ts';
import { ctx, release } from './testkit.ts';

const D = `sha256:${'c'.repeat(64)}`;
const rel = release({ artifacts: [{ name: 'router', image: `reg.example/router@${D}` }, { name: 'ui', image: `reg.example/ui@${D}` }] });
const ok = (artifact: string): SignatureEvidence => ({ artifact, subject: `reg.example/${artifact}@${D}`, digest: D, verified: [{ signer: 'key abc (Secret a/b key c)', kind: 'key', source: 's' }], rejected: [], rejectedAttestations: [] });
const run = (signatures: SignatureEvidence[] | undefined, extra = {}) => signatureValid.run(ctx(rel, {}, undefined, { ...(signatures ? { signatures } : {}), ...extra }));

describe('signature.valid', () => {
  it('passes when every artifact has a verified signature, naming the signers', () => {
    const o = run([ok('router'), ok('ui')]);
    assert.equal(o.result, 'Pass');
    assert.match(o.message, /key abc/);
  });
  it('fails an unsigned artifact with SignatureMissing and its pointer', () => {
    const o = run([ok('router'), { ...ok('ui'), verified: [] }]);
    assert.equal(o.result, 'Fail');
    assert.equal(o.reason, 'SignatureMissing');
    assert.equal(o.findings?.[0]?.pointer, '/spec/artifacts/1');
  });
  it('names the artifact, the signer seen and the reason of a rejected signature', () => {
    const o = run([ok('router'), { ...ok('ui'), verified: [], rejected: [{ signer: 'an unknown key', reason: 'UntrustedSigner', message: 'verifies under none of the 1 trusted key(s)', source: 'x' }] }]);
    assert.equal(o.reason, 'UntrustedSigner');
    assert.match(o.message, /^ui \(reg\.example\/ui@sha256:c+\): signer an unknown key: verifies under none/);
  });
  it('prefers the most specific reason (signature over another digest)', () => {
    const o = run([
      { ...ok('router'), verified: [], rejected: [{ signer: 'k1', reason: 'UntrustedSigner', message: 'm', source: 'x' }] },
      { ...ok('ui'), verified: [], rejected: [{ signer: 'k2', reason: 'SignedDigestMismatch', message: 'over another digest', source: 'x' }] },
    ]);
    assert.equal(o.reason, 'SignedDigestMismatch');
    assert.equal(o.findings?.length, 2);
  });
  it('fails closed: errors, missing evidence, signing configuration problems', () => {
    assert.equal(run(undefined).result, 'Error');
    const e = run([ok('router'), { ...ok('ui'), verified: [], error: { reason: 'RegistryUnavailable', message: 'HTTP 500' } }]);
    assert.equal(e.result, 'Error');
    assert.equal(e.reason, 'RegistryUnavailable');
    const c = run([ok('router'), ok('ui')], { signingConfigError: { reason: 'NoTrustedSigners', message: 'none' } });
    assert.equal(c.result, 'Error');
    assert.equal(c.reason, 'NoTrustedSigners');
    assert.equal(signatureValid.run(ctx(release({}), {}, undefined, {})).result, 'Fail');
  });
  it('a violation outranks an error on another artifact', () => {
    const o = run([{ ...ok('router'), error: { reason: 'RegistryUnavailable', message: 'x' } }, { ...ok('ui'), verified: [] }]);
    assert.equal(o.result, 'Fail');
  });
});
