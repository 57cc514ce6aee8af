import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cvdSignals, mediaType, POLICY_MEDIA_TYPES, PROXIMITY, readPolicyDocument } from './policy-text.ts';

const signals = (body: string, media = 'text/html') => cvdSignals(readPolicyDocument(body, media, 'https://acme.example/security/cvd'));

describe('CVD policy content evidence', () => {
  it('media types', () => {
    assert.equal(mediaType('Text/HTML; charset=UTF-8'), 'text/html');
    assert.equal(mediaType(undefined), undefined);
    assert.equal(mediaType('  '), undefined);
  });

  it('visible text only: entities decoded; script, style, head, nav, header and footer do not count', () => {
    const doc = readPolicyDocument('<html><head><title>Report vulnerabilities</title></head><body><nav>Report a vulnerability</nav><p>Caf&eacute; &amp; <b>bar</b></p><script>report vulnerabilities</script><footer>report vulnerabilities</footer></body></html>', 'text/html', 'https://a.example/');
    assert.equal(doc.text, 'Café & bar');
    assert.equal(signals('<nav><a href="/security/report">Report a vulnerability</a></nav><p>Welcome</p>').passage, undefined);
  });

  it('a vulnerability term and a reporting verb count only within the proximity bound', () => {
    assert.match(signals('<p>Please report any vulnerability you find.</p>').passage ?? '', /report any vulnerability/);
    assert.equal(signals(`<p>We report quarterly results.</p><p>${'x '.repeat(PROXIMITY)}</p><p>No vulnerabilities were found.</p>`).passage, undefined);
    assert.equal(signals('<p>Coordinated vulnerability disclosure</p>').passage, undefined, 'a title is not how to report');
  });

  it('German, French, Spanish, Italian and Dutch', () => {
    for (const body of [
      'Sicherheitslücken melden Sie bitte an psirt@acme.example',
      'Pour signaler une vulnérabilité, écrivez à psirt@acme.example',
      'Para reportar una vulnerabilidad escriba a psirt@acme.example',
      'Per segnalare una vulnerabilità scrivete a psirt@acme.example',
      'Kwetsbaarheden kunt u melden via psirt@acme.example',
    ]) assert.ok(signals(`<p>${body}</p>`).passage, body);
  });

  it('channels: mailto and http(s) links and form actions resolved against the page, addresses and URLs in text, security.txt', () => {
    const s = signals('<p>Report vulnerabilities <a href="mailto:psirt@acme.example">by mail</a>, <a href="../report">online</a>, <a href="javascript:x()">x</a> or to sec@acme.example, https://bugs.acme.example/new.</p><form action="/security/form"></form>');
    assert.deepEqual(s.channels, ['mailto:psirt@acme.example', 'https://acme.example/report', 'https://acme.example/security/form', 'mailto:sec@acme.example', 'https://bugs.acme.example/new']);
    assert.equal(s.mentionsSecurityTxt, false);
    assert.equal(signals('Report vulnerabilities as described in our security.txt', 'text/plain').mentionsSecurityTxt, true);
  });

  it('text/markdown (a SECURITY.md served raw) is read as plain text: its link targets count as channels', () => {
    assert.ok(POLICY_MEDIA_TYPES.includes('text/markdown'));
    const s = signals('# Security\n\nPlease report vulnerabilities through [our form](https://acme.example/security/report) or to <psirt@acme.example>.', 'text/markdown');
    assert.ok(s.passage);
    assert.deepEqual(s.channels, ['mailto:psirt@acme.example', 'https://acme.example/security/report']);
  });
});
