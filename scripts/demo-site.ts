/**
 * The demo's stand-in for the manufacturers' public web sites: a real HTTPS server on 127.0.0.1 serving the
 * files under `examples/site/<host>/` (security.txt, the CVD policy, the update channel, firmware), plus a
 * cosign-style blob signature for every `*.bin` made with a key generated at start (node:crypto). The demo
 * rewrites the example releases' `https://<host>/` URLs to this server and allow-lists it in the operator's
 * SSRF guard; nothing leaves the machine.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface DemoSite {
  /** `https://<address>:<port>` */
  origin: string;
  /** host:port for CRA_GATE_HTTP_ALLOW_HOSTS */
  hostPort: string;
  /** PEM of the self-signed serving certificate (CRA_GATE_HTTP_CA_FILE). */
  caFile: string;
  /** PEM of the public key that signed the firmware (goes into the policy's trusted-keys Secret). */
  signingPublicKeyPem: string;
  /** Rewrites `https://<host>/path` to `<origin>/<host>/path` for the hosts this site serves. */
  rewrite(text: string): string;
  close(): Promise<void>;
}

/** RFC 9116: Expires is required and must be in the future, so security.txt is rendered at request time. */
function renderSecurityTxt(template: string, origin: string, host: string): string {
  const expires = new Date(Date.now() + 180 * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return template.replaceAll('${EXPIRES}', expires).replaceAll(`https://${host}/`, `${origin}/${host}/`);
}

/**
 * `signedHosts`: the hosts whose `*.bin` files get a `.sig` (others publish none, so they are unsigned).
 * `address`: where it listens (default 127.0.0.1; the end-to-end suite uses its test node's address, which Pods
 * reach); it is the certificate's IP SAN.
 */
export async function startDemoSite(root: string, signedHosts: readonly string[], address = '127.0.0.1'): Promise<DemoSite> {
  const hosts = existsSync(root) ? readdirSync(root).filter((h) => statSync(path.join(root, h)).isDirectory()) : [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cra-gate-demo-site-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=cra-gate demo site',
      '-addext', `subjectAltName=IP:${address}`, '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
    { stdio: 'ignore', timeout: 30_000 },
  );
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingPublicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  let origin = '';
  const server: Server = createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const [, host, ...rest] = url.pathname.split('/');
    const rel = rest.join('/');
    if (!host || !hosts.includes(host) || rel.includes('..')) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const wantsSig = rel.endsWith('.bin.sig') && signedHosts.includes(host);
    const file = path.join(root, host, wantsSig ? rel.slice(0, -4) : rel);
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const bytes = readFileSync(file);
    if (wantsSig) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(signBlob(bytes, privateKey));
    } else if (rel === '.well-known/security.txt') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(renderSecurityTxt(bytes.toString('utf8'), origin, host));
    } else {
      res.writeHead(200, { 'content-type': rel.endsWith('.json') ? 'application/json' : rel.endsWith('.html') ? 'text/html' : 'application/octet-stream' }).end(bytes);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as { port: number }).port;
  origin = `https://${address}:${port}`;
  return {
    origin,
    hostPort: `${address}:${port}`,
    caFile: path.join(dir, 'cert.pem'),
    signingPublicKeyPem,
    rewrite: (text) => hosts.reduce((t, h) => t.replaceAll(`https://${h}/`, `${origin}/${h}/`), text),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}

/** A cosign `sign-blob` style signature: base64 of the DER ECDSA-P256/SHA-256 signature over the file. */
function signBlob(bytes: Buffer, key: KeyObject): string {
  return sign('sha256', bytes, key).toString('base64');
}

/**
 * The trusted signing key and the vulnerability feeds the baseline policy names (Secret cra-gate-signing-keys,
 * ConfigMaps osv-feed, kev-feed, nvd-feed in `namespace`), as one List for `kubectl apply`.
 */
export function feedsAndKeys(publicKeyPem: string, namespace = 'cra-gate'): unknown {
  const osvDir = path.join(root, 'test', 'fixtures', 'vuln', 'osv');
  const osv = Object.fromEntries(readdirSync(osvDir).filter((f) => f.endsWith('.json')).map((f) => [f, readFileSync(path.join(osvDir, f), 'utf8')]));
  // The whole KEV catalogue, minified to fit a ConfigMap (1 MiB).
  const kev = JSON.stringify(JSON.parse(readFileSync(path.join(root, 'test', 'fixtures', 'vuln', 'kev', 'known_exploited_vulnerabilities.json'), 'utf8')));
  // Real NVD CVE records (API 2.0 shape) for the example firmware's C libraries, matched by CPE (SOURCES.md).
  const nvd = readFileSync(path.join(root, 'test', 'fixtures', 'vuln', 'nvd', 'nvd-demo-subset.json'), 'utf8');
  const meta = (name: string): unknown => ({ name, namespace });
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Secret', metadata: meta('cra-gate-signing-keys'), stringData: { 'cosign.pub': publicKeyPem } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('osv-feed'), data: osv },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('kev-feed'), data: { 'kev.json': kev } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('nvd-feed'), data: { 'nvd.json': nvd } },
    ],
  };
}
