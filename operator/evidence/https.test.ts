import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkUrl, fetchBytes, isSpecialAddress } from './https.ts';
import { isCraGateError } from '../errors.ts';

let server: Server;
let base: string;
let ca: string;
let host: string;
const dir = mkdtempSync(join(tmpdir(), 'cra-https-'));
const body = Buffer.from('{"bomFormat":"CycloneDX"}');
/** Requests that reached the server (counted server-side). */
let served = 0;

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
  ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
    served++;
    const u = new URL(req.url ?? '/', 'https://x');
    if (u.pathname === '/sbom.json') return res.end(body);
    if (u.pathname === '/etag.json') {
      const lm = 'Wed, 01 Jan 2025 00:00:00 GMT';
      if (req.headers['if-none-match'] === '"v1"' || req.headers['if-modified-since'] === lm) return res.writeHead(304, { etag: '"v1"' }).end();
      return res.writeHead(200, { etag: '"v1"', 'last-modified': lm, 'content-type': 'application/json' }).end(body);
    }
    if (u.pathname === '/always-304') return res.writeHead(304).end();
    if (u.pathname === '/big') {
      res.writeHead(200); // no content-length: streamed
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let n = 0;
      const write = () => {
        while (n++ < 64) if (!res.write(chunk)) return res.once('drain', write);
        res.end();
      };
      return write();
    }
    if (u.pathname === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (u.pathname === '/to-metadata-https') return res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' }).end();
    if (u.pathname === '/to-sbom') return res.writeHead(301, { location: '/sbom.json' }).end();
    if (u.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
    if (u.pathname === '/slow') return void setTimeout(() => res.end('late'), 5_000).unref();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  host = `127.0.0.1:${port}`;
  base = `https://${host}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const reason = (code: string) => (e: unknown) => isCraGateError(e) && e.code === code;

test('fetches over https from an allow-listed loopback host with a custom CA: bytes, sha256, final URL', async () => {
  const r = await fetchBytes(`${base}/to-sbom`, { network: 'allow', allowHosts: [host], ca });
  assert.deepEqual(r.bytes, body);
  assert.equal(r.sha256, createHash('sha256').update(body).digest('hex'));
  assert.equal(r.finalUrl, `${base}/sbom.json`);
});

test('conditional GET: headers exposed, ETag / Last-Modified round trip gives a 304 result; an unasked 304 stays an error', async () => {
  const first = await fetchBytes(`${base}/etag.json`, { network: 'allow', allowHosts: [host], ca });
  assert.equal(first.status, 200);
  assert.equal(first.notModified, undefined);
  assert.deepEqual(first.bytes, body);
  assert.equal(first.headers?.etag, '"v1"');
  assert.equal(first.headers?.['last-modified'], 'Wed, 01 Jan 2025 00:00:00 GMT');
  assert.equal(first.headers?.['content-type'], 'application/json');
  const again = await fetchBytes(`${base}/etag.json`, { network: 'allow', allowHosts: [host], ca, headers: { 'If-None-Match': String(first.headers?.etag) } });
  assert.equal(again.status, 304);
  assert.equal(again.notModified, true);
  assert.equal(again.bytes.length, 0);
  assert.equal(again.headers?.etag, '"v1"');
  const byDate = await fetchBytes(`${base}/etag.json`, { network: 'allow', allowHosts: [host], ca, headers: { 'if-modified-since': String(first.headers?.['last-modified']) } });
  assert.equal(byDate.notModified, true);
  const changed = await fetchBytes(`${base}/etag.json`, { network: 'allow', allowHosts: [host], ca, headers: { 'if-none-match': '"v0"' } });
  assert.equal(changed.status, 200);
  assert.deepEqual(changed.bytes, body);
  // Without conditional headers a 304 is not a result (as before): a redirect without Location.
  await assert.rejects(fetchBytes(`${base}/always-304`, { network: 'allow', allowHosts: [host], ca }), reason('FetchFailed'));
});

test('loopback/private addresses are refused without allow-listing', async () => {
  await assert.rejects(fetchBytes(`${base}/sbom.json`, { network: 'allow', ca }), reason('UrlNotAllowed'));
  await assert.rejects(fetchBytes('https://10.1.2.3/x', { network: 'allow' }), reason('UrlNotAllowed'));
  await assert.rejects(fetchBytes('https://[::1]/x', { network: 'allow' }), reason('UrlNotAllowed'));
  // allow-listing is per host:port
  await assert.rejects(fetchBytes(`${base}/sbom.json`, { network: 'allow', ca, allowHosts: ['127.0.0.1:1'] }), reason('UrlNotAllowed'));
});

test('a host name resolving to loopback is refused (checked at connect time)', async () => {
  const port = host.split(':')[1];
  await assert.rejects(fetchBytes(`https://localhost:${port}/sbom.json`, { network: 'allow', ca }), reason('UrlNotAllowed'));
});

test('a redirect to 169.254.169.254 is refused, over http and https', async () => {
  await assert.rejects(fetchBytes(`${base}/to-metadata`, { network: 'allow', allowHosts: [host], ca }), reason('UrlNotAllowed'));
  await assert.rejects(fetchBytes(`${base}/to-metadata-https`, { network: 'allow', allowHosts: [host], ca }), reason('UrlNotAllowed'));
});

test('http is refused by default; credentials in URLs are refused', () => {
  assert.throws(() => checkUrl('http://example.com/x'), reason('UrlNotAllowed'));
  assert.throws(() => checkUrl('https://u:p@example.com/x'), reason('UrlNotAllowed'));
  assert.throws(() => checkUrl('file:///etc/passwd'), reason('UrlNotAllowed'));
});

test('size limit aborts the stream; redirect loops and slow servers are bounded', async () => {
  await assert.rejects(fetchBytes(`${base}/big`, { network: 'allow', allowHosts: [host], ca, maxBytes: 100_000 }), (e) => isCraGateError(e) && e.code === 'FetchFailed' && e.details?.tooLarge === true);
  await assert.rejects(fetchBytes(`${base}/loop`, { network: 'allow', allowHosts: [host], ca, maxRedirects: 3 }), reason('FetchFailed'));
  await assert.rejects(fetchBytes(`${base}/slow`, { network: 'allow', allowHosts: [host], ca, timeoutMs: 300 }), reason('FetchFailed'));
  await assert.rejects(fetchBytes(`${base}/nope`, { network: 'allow', allowHosts: [host], ca }), reason('FetchFailed'));
});

test('TLS is verified: without the CA the fetch fails', async () => {
  await assert.rejects(fetchBytes(`${base}/sbom.json`, { network: 'allow', allowHosts: [host] }), reason('FetchFailed'));
});

test('special address classification', () => {
  for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '224.0.0.1']) {
    assert.equal(isSpecialAddress(a), true, a);
  }
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) assert.equal(isSpecialAddress(a), false, a);
});

test('IPv6 forms embedding IPv4 are special: IPv4-compatible ::/96, mapped, translated, NAT64, 6to4, Teredo', () => {
  for (const a of [
    '::127.0.0.1', '::7f00:1', '::a9fe:a9fe', '::169.254.169.254', '::10.0.0.1', '::8.8.8.8', '0:0:0:0:0:0:7f00:1',
    '::ffff:7f00:1', '0:0:0:0:0:ffff:7f00:1', '::ffff:0:7f00:1', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::', '2002:a9fe:a9fe::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  ]) assert.equal(isSpecialAddress(a), true, a);
  for (const u of ['https://[::127.0.0.1]/x', 'https://[::a9fe:a9fe]/latest/meta-data', 'https://[::ffff:169.254.169.254]/', 'https://[64:ff9b::a9fe:a9fe]/', 'https://[2002:a9fe:a9fe::]/']) {
    assert.throws(() => checkUrl(u), reason('UrlNotAllowed'), u);
  }
});

test('network access is a capability: without network "allow" no request leaves the client (counted server-side)', async () => {
  const before = served;
  for (const network of [undefined, 'deny'] as const) {
    await assert.rejects(
      fetchBytes(`${base}/sbom.json?token=SECRET`, { allowHosts: [host], ca, ...(network ? { network } : {}) }),
      (e: unknown) => isCraGateError(e) && e.code === 'EvidenceUnavailable' && e.message.includes(`${base}/sbom.json`) && /not fetched \(offline/.test(e.message) && !e.message.includes('SECRET'),
    );
  }
  // Refused before the URL is even judged (no DNS, no connection), whatever the URL.
  await assert.rejects(fetchBytes('https://169.254.169.254/latest/meta-data/', {}), reason('EvidenceUnavailable'));
  assert.equal(served, before, 'no request reached the server');
  const ok = await fetchBytes(`${base}/sbom.json`, { network: 'allow', allowHosts: [host], ca });
  assert.equal(ok.bytes.toString(), body.toString());
  assert.equal(served, before + 1);
});
