import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrl, redactUrls } from './redact.ts';

describe('URL redaction', () => {
  it('redacts userinfo, query values and fragments, keeping host, path and parameter names', () => {
    assert.equal(redactUrl('https://alice:s3cr3t@example.com/a/b?token=abc&x=1#frag'), 'https://REDACTED@example.com/a/b?token=REDACTED&x=REDACTED#REDACTED');
    assert.equal(redactUrl('https://example.com/feed.json'), 'https://example.com/feed.json');
    assert.equal(redactUrl('https://ghp_abcdef@github.com/x'), 'https://REDACTED@github.com/x');
    assert.equal(redactUrl('not a url'), 'not a url');
  });

  it('redacts every URL inside free text and keeps sentence punctuation', () => {
    const text = 'fetch of https://h.example/s.json?X-Amz-Signature=deadbeef failed (see https://u:p@h.example/), then ftp://x:y@f.example.';
    const out = redactUrls(text);
    assert.doesNotMatch(out, /deadbeef|u:p|x:y/);
    assert.match(out, /https:\/\/h\.example\/s\.json\?X-Amz-Signature=REDACTED failed \(see https:\/\/REDACTED@h\.example\/\), then ftp:\/\/REDACTED@f\.example\/?\.$/);
    assert.equal(redactUrls('no urls here'), 'no urls here');
  });
});

describe('URL redaction where messages are made', () => {
  it('coded errors and errorMessage() never carry URL credentials', async () => {
    const { craError, errorMessage } = await import('../errors.ts');
    const e = craError('FetchFailed', 'GET https://bot:ghp_T0KEN@feeds.example/osv.zip?access_token=SECRET1 failed');
    assert.doesNotMatch(e.message, /ghp_T0KEN|SECRET1/);
    assert.match(e.message, /https:\/\/REDACTED@feeds\.example\/osv\.zip\?access_token=REDACTED/);
    assert.doesNotMatch(errorMessage(new Error('connect https://h.example/?sig=SECRET2 refused')), /SECRET2/);
  });

  it('the offline refusal of a URL does not echo its token', async () => {
    const { checkUrl, fetchBytes } = await import('../evidence/https.ts');
    await assert.rejects(fetchBytes('https://h.example/sbom.json?token=SECRET3', { network: 'deny' }), (err: Error) => !err.message.includes('SECRET3') && /token=REDACTED/.test(err.message));
    assert.throws(() => checkUrl('https://u:SECRET4@[zz'), (err: Error) => !err.message.includes('SECRET4'));
  });
});

describe('feed names in status and logs', () => {
  it('a feed URL with a token is named without it', async () => {
    const { feedSourceName } = await import('../evidence/feeds.ts');
    const name = feedSourceName({ kind: 'kev', url: 'https://mirror.example/kev.json?access_token=SECRET5' });
    assert.equal(name, 'https://mirror.example/kev.json?access_token=REDACTED');
  });
});

describe('check messages in the status (operator and CLI share operator/engine)', () => {
  it('a contact URL with a key in its query is reported without it', async () => {
    const { evaluate } = await import('../engine/evaluate.ts');
    const release = {
      apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ProductRelease', metadata: { name: 'r', namespace: 'a', generation: 1 },
      spec: { product: { name: 'p' }, version: '1.0.0', placedOnMarket: '2028-01-15', policyRef: 'p', vulnerabilityHandling: { contact: 'https://psirt.example/report?key=SECRET8' } },
    };
    const policy = { apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ReleasePolicy', metadata: { name: 'p', generation: 1 }, spec: { checks: [{ id: 'disclosure.contact', enforcement: 'Block' }] } };
    const ev = evaluate({ release, policy, policyName: 'p', now: new Date('2028-02-01T00:00:00Z'), evidence: {} } as unknown as Parameters<typeof evaluate>[0]);
    const text = JSON.stringify(ev);
    assert.doesNotMatch(text, /SECRET8/);
    assert.match(text, /https:\/\/psirt\.example\/report\?key=REDACTED/);
  });
});
