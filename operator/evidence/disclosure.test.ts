/**
 * disclosure.cvd-policy and disclosure.contact against a real HTTPS server on loopback (self-signed
 * certificate, through the SSRF-guarded fetcher): what the collector fetches is what the checks judge.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDisclosureCollector } from './disclosure.ts';
import { createEvidenceRuntime } from './runtime.ts';
import { disclosureCvdPolicy } from '../checks/disclosure-web.ts';
import { disclosureContact } from '../checks/disclosure.ts';
import { ctx, goodRelease } from '../checks/testkit.ts';
import type { Evidence } from '../checks/types.ts';
import type { ReleasePolicy } from '../api/types.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'cra-disclosure-'));
let server: Server;
let origin: string;
let host: string;
let ca: string;

const html = (body: string, head = ''): string => `<!doctype html><html lang="en"><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;
const PAGES: Record<string, [string, string | undefined]> = {
  // the example manufacturer's real policy page
  '/security/cvd.html': ['text/html; charset=utf-8', readFileSync(path.join(repo, 'examples', 'site', 'acme.example', 'security', 'cvd.html'), 'utf8')],
  '/security/cvd.txt': ['text/plain; charset=utf-8', 'ACME vulnerability disclosure policy\n\nPlease report security vulnerabilities in our products to\npsirt@acme.example (PGP key below). We reply within 2 working days.\n'],
  '/security/form.html': ['text/html', html('<h1>Security</h1><p>To report a vulnerability, use the form below.</p><form action="/security/report" method="post"><textarea name="r"></textarea></form>')],
  '/security/see-txt.html': ['text/html', html('<p>Found a security issue? Report it through the contacts in our <a href="/.well-known/security.txt">security.txt</a>.</p>')],
  '/sicherheit/schwachstellen.html': ['text/html', html('<p>Schwachstellen in unseren Produkten melden Sie bitte an <a href="mailto:psirt@acme.example">psirt@acme.example</a>.</p>')],
  // a marketing homepage: links, "contact", "secure", even the word vulnerabilities — but not a policy
  '/': ['text/html', html(
    `<nav><a href="/products">Products</a> <a href="/security/report">Report a vulnerability</a> <a href="mailto:sales@acme.example">Contact us</a></nav>
     <h1>ACME routers: fast, secure, made in Europe</h1><p>Our routers protect your home network. <a href="/products">See the products</a> or <a href="/about">meet the team</a>.</p>
     <p>${'Award-winning design and performance for every home. '.repeat(8)}</p>
     <p>Independent labs found no vulnerabilities in our latest firmware.</p>
     <footer><a href="/security/cvd.html">Vulnerability disclosure</a> · <a href="/imprint">Imprint</a></footer>`,
    '<meta name="description" content="report vulnerabilities to psirt@acme.example"><script>var t = "report vulnerabilities";</script>',
  )],
  '/security/no-channel.html': ['text/html', html('<p>We welcome reports of vulnerabilities in our products and coordinate their disclosure.</p><p><a href="https://acme.example/">Home</a></p>')],
  '/security/homepage-channel.html': ['text/html', html('<p>Please report vulnerabilities via our website <a href="https://www.acme.example/">www.acme.example</a>.</p>')],
  '/security/policy.pdf': ['application/pdf', '%PDF-1.7 report vulnerabilities to psirt@acme.example'],
  '/security/untyped': [undefined as unknown as string, 'Report vulnerabilities to psirt@acme.example'],
  '/.well-known/security.txt': ['text/plain', 'Contact: https://acme.example/forms/7\nExpires: 2030-01-01T00:00:00Z\nPolicy: https://acme.example/security/cvd.html\n'],
};

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
  ca = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  server = createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: ca }, (req, res) => {
    const u = new URL(req.url ?? '/', 'https://x');
    if (u.pathname === '/security/huge.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<p>Report vulnerabilities to psirt@acme.example</p>${' '.repeat(2 * 1024 * 1024)}`);
      return;
    }
    if (u.pathname === '/to-policy') return res.writeHead(302, { location: '/security/cvd.html' }).end();
    const page = PAGES[u.pathname];
    if (!page) return res.writeHead(404).end('not found');
    const [type, body] = page;
    res.writeHead(200, type ? { 'content-type': type } : {});
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  origin = `https://${host}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const policy = {
  apiVersion: 'cra-gate.dev/v1alpha1',
  kind: 'ReleasePolicy',
  metadata: { name: 'p' },
  spec: { checks: [{ id: 'disclosure.cvd-policy', enforcement: 'Block' }, { id: 'disclosure.contact', enforcement: 'Block' }] },
} as unknown as ReleasePolicy;

async function evaluate(vulnerabilityHandling: Record<string, string>) {
  const release = goodRelease({ vulnerabilityHandling });
  const collector = makeDisclosureCollector({ fetchOptions: { allowHosts: [host], ca } });
  const runtime = createEvidenceRuntime({ network: 'allow' });
  const got = await collector({ release, policy, sources: {} as never, runtime, now: new Date('2028-02-01T00:00:00Z') });
  const evidence = got as Evidence;
  return {
    cvd: disclosureCvdPolicy.run(ctx(release, {}, undefined, evidence)),
    contact: disclosureContact.run(ctx(release, {}, undefined, evidence)),
  };
}

describe('disclosure.cvd-policy over real HTTPS: a CVD policy is a document about reporting vulnerabilities', () => {
  const PASS: [string, RegExp][] = [
    ['/security/cvd.html', /"Coordinated vulnerability disclosure Report vulnerabilities in ACME products to psirt@acme\.example.*and where \(mailto:psirt@acme\.example\)/],
    ['/to-policy', /\/security\/cvd\.html \(HTTP 200, text\/html\)/],
    ['/security/cvd.txt', /text\/plain.*Please report security vulnerabilities.*mailto:psirt@acme\.example/],
    ['/security/form.html', /\/security\/report\)$/],
    ['/security/see-txt.html', /security\.txt/],
    ['/sicherheit/schwachstellen.html', /Schwachstellen in unseren Produkten melden/],
  ];
  for (const [page, message] of PASS) {
    it(`passes: ${page}`, async () => {
      const { cvd } = await evaluate({ disclosurePolicy: `${origin}${page}` });
      assert.equal(cvd.result, 'Pass', cvd.message);
      assert.match(cvd.message, message);
      assert.match(cvd.evidence ?? '', /sha256:[0-9a-f]{64}$/);
    });
  }

  const FAIL: [string, string, RegExp][] = [
    ['/', 'DisclosurePolicyNotAPolicy', /no statement about reporting vulnerabilities.*; no reporting channel .*the 2 link\(s\) it has are not reporting channels/],
    ['/security/no-channel.html', 'DisclosurePolicyNotAPolicy', /no reporting channel/],
    ['/security/homepage-channel.html', 'DisclosurePolicyNotAPolicy', /no reporting channel/],
    ['/security/policy.pdf', 'DisclosurePolicyNotAPolicy', /served as application\/pdf; only text\/html, application\/xhtml\+xml, text\/plain, text\/markdown can be assessed/],
    ['/security/untyped', 'DisclosurePolicyNotAPolicy', /served as no Content-Type/],
    ['/security/missing.html', 'DisclosurePolicyUnreachable', /HTTP 404/],
  ];
  for (const [page, reason, message] of FAIL) {
    it(`fails: ${page} (${reason})`, async () => {
      const { cvd } = await evaluate({ disclosurePolicy: `${origin}${page}` });
      assert.deepEqual([cvd.result, cvd.reason], ['Fail', reason], cvd.message);
      assert.match(cvd.message, message);
      if (reason === 'DisclosurePolicyNotAPolicy') assert.deepEqual(cvd.findings?.map((f) => f.pointer), ['/spec/vulnerabilityHandling/disclosurePolicy']);
    });
  }

  it('a document over the 1 MiB bound is an Error that says so, never a pass', async () => {
    const { cvd } = await evaluate({ disclosurePolicy: `${origin}/security/huge.html` });
    assert.equal(cvd.result, 'Error', cvd.message);
    assert.match(cvd.message, /1048576|limit|too large/i);
  });
});

describe('disclosure.contact with the security.txt the release declares', () => {
  it('a Contact listed in the fetched security.txt passes; the same kind of URL not listed does not', async () => {
    const listed = await evaluate({ contact: 'https://acme.example/forms/7', securityTxt: `${origin}/.well-known/security.txt` });
    assert.equal(listed.contact.result, 'Pass', listed.contact.message);
    assert.match(listed.contact.message, /listed as Contact in security\.txt/);
    const other = await evaluate({ contact: 'https://acme.example/forms/8', securityTxt: `${origin}/.well-known/security.txt` });
    assert.deepEqual([other.contact.result, other.contact.reason], ['Fail', 'ContactNotReportingChannel']);
    const unreachable = await evaluate({ contact: 'https://acme.example/forms/7', securityTxt: `${origin}/gone.txt` });
    assert.deepEqual([unreachable.contact.result, unreachable.contact.reason], ['Fail', 'ContactNotReportingChannel']);
  });
});
