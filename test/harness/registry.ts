/**
 * A real OCI registry (CNCF distribution, built by test/tools/registry-tools.sh) on loopback for tests:
 * plain http, or TLS with a CA the suite generates and the Distribution token auth flow served by a small
 * token service here (JWT ES256 with an x5c header, trusted through the registry's `rootcertbundle`; it
 * grants push+pull to one user/password, checked with Basic auth).
 *
 * Also: a push helper that builds small OCI images by hand (config + layer blobs through the Distribution
 * API), and a fault-injecting reverse proxy in front of the real registry (500, 429, delays, redirects) for
 * the negative tests.
 */
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign as cryptoSign, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = process.env.CRA_GATE_TOOLS_BIN ?? join(process.env.CRA_GATE_TOOLS_CACHE ?? join(ROOT, '.cache/tools'), 'bin');

/** Builds the named tools (registry, cosign) when missing (cached; a no-op when built). */
export function ensureRegistryTools(tools: readonly ('registry' | 'cosign')[] = ['registry', 'cosign']): string {
  const missing = tools.filter((t) => !existsSync(join(BIN, t)));
  if (missing.length > 0) execFileSync('bash', [join(ROOT, 'test/tools/registry-tools.sh'), ...missing], { stdio: ['ignore', 'ignore', 'inherit'] });
  return BIN;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A CA and a server certificate for 127.0.0.1/localhost, made with openssl. */
export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=cra-gate test CA']);
  o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  o(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
  return { dir, caFile: join(dir, 'ca.crt'), caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

export interface RegistryOptions {
  /** Serve TLS with a generated CA (default false: plain http). */
  readonly tls?: boolean;
  /** Require the token flow; the token service accepts these Basic credentials. */
  readonly tokenAuth?: { readonly username: string; readonly password: string };
}

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly scheme: 'http' | 'https';
  readonly pki?: Pki;
  /** A directory with config.json for cosign (DOCKER_CONFIG) holding the credentials (empty auths if none). */
  readonly dockerConfigDir: string;
  /** `.dockerconfigjson` content for a kubernetes.io/dockerconfigjson Secret. */
  readonly dockerConfigJson: string;
  readonly dir: string;
  stop(): Promise<void>;
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 1000; i++) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** A Distribution token service: Basic credentials in, ES256 JWT with x5c out. */
function startTokenService(pki: Pki, signer: { keyPem: string; certDer: Buffer }, creds: { username: string; password: string }, service: string): Promise<{ server: Server; realm: string }> {
  const key = createPrivateKey(signer.keyPem);
  const server = createHttpsServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const auth = req.headers.authorization ?? '';
    const expected = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    if (auth !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((s) => {
      const [type, name, actions] = s.split(':');
      return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'ES256', typ: 'JWT', x5c: [signer.certDer.toString('base64')] };
    const claims = { iss: 'cra-gate-test-issuer', sub: creds.username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${input}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    // `localhost`, not 127.0.0.1: cosign (go-containerregistry) refuses token realms on private IP literals.
    r({ server, realm: `https://localhost:${typeof a === 'object' && a ? a.port : 0}/token` });
  }));
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const bin = ensureRegistryTools(['registry']);
  const dir = mkdtempSync(join(tmpdir(), 'cra-gate-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const tls = opts.tls === true || opts.tokenAuth !== undefined;
  const pki = tls ? makePki(join(dir, 'pki')) : undefined;
  let tokenServer: Server | undefined;
  const lines = ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true', 'http:', `  addr: ${host}`, '  secret: cra-gate-test'];
  if (pki) lines.push('  tls:', `    certificate: ${pki.certFile}`, `    key: ${pki.keyFile}`);
  if (opts.tokenAuth && pki) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '2', '-subj', '/CN=cra-gate test token signer'], { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const certDer = Buffer.from(new X509Certificate(readFileSync(join(pki.dir, 'token.crt'))).raw);
    const ts = await startTokenService(pki, { keyPem: readFileSync(join(pki.dir, 'token.key'), 'utf8'), certDer }, opts.tokenAuth, 'cra-gate-test');
    tokenServer = ts.server;
    lines.push('auth:', '  token:', `    realm: ${ts.realm}`, '    service: cra-gate-test', '    issuer: cra-gate-test-issuer', `    rootcertbundle: ${join(pki.dir, 'token.crt')}`);
  }
  writeFileSync(join(dir, 'config.yml'), `${lines.join('\n')}\n`);
  const proc: ChildProcess = spawn(join(bin, 'registry'), ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const scheme = tls ? 'https' : 'http';
  try {
    await waitFor(`registry on ${host}`, async () => {
      if (proc.exitCode !== null) throw new Error(`registry exited: ${stderr}`);
      const r = await rawRequest({ method: 'GET', url: `${scheme}://${host}/v2/`, ...(pki ? { ca: pki.caPem } : {}) });
      return r.status === 200 || r.status === 401;
    }, 15_000);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  const auths: Record<string, { auth: string }> = {};
  if (opts.tokenAuth) auths[host] = { auth: Buffer.from(`${opts.tokenAuth.username}:${opts.tokenAuth.password}`).toString('base64') };
  const dockerConfigJson = JSON.stringify({ auths });
  const dockerConfigDir = join(dir, 'docker');
  mkdirSync(dockerConfigDir, { recursive: true });
  writeFileSync(join(dockerConfigDir, 'config.json'), dockerConfigJson);
  return {
    host,
    scheme,
    ...(pki ? { pki } : {}),
    dockerConfigDir,
    dockerConfigJson,
    dir,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await Promise.race([new Promise((r) => proc.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      if (tokenServer) await new Promise((r) => tokenServer.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- raw HTTP for the harness (pushing) ------------------------------------------------------------------

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export function rawRequest(o: { method: string; url: string; headers?: Record<string, string>; body?: Buffer | string; ca?: string }): Promise<RawResponse> {
  const url = new URL(o.url);
  return new Promise((res, rej) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: o.method, headers: o.headers, ...(o.ca ? { ca: o.ca } : {}), agent: false, signal: AbortSignal.timeout(15_000) }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks) }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end(o.body);
  });
}

export function sha256(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** Pushes OCI content to a TestRegistry (token flow handled for the harness). */
export class Pusher {
  readonly reg: TestRegistry;
  readonly #creds?: { username: string; password: string };
  readonly #tokens = new Map<string, string>();
  constructor(reg: TestRegistry, creds?: { username: string; password: string }) {
    this.reg = reg;
    if (creds) this.#creds = creds;
  }

  async #req(repo: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawResponse> {
    const url = path.startsWith('http') ? path : `${this.reg.scheme}://${this.reg.host}${path}`;
    const ca = this.reg.pki?.caPem;
    const tok = this.#tokens.get(repo);
    let r = await rawRequest({ method, url, headers: { ...headers, ...(tok ? { authorization: `Bearer ${tok}` } : {}) }, ...(body !== undefined ? { body } : {}), ...(ca ? { ca } : {}) });
    if (r.status === 401 && this.#creds) {
      const h = String(r.headers['www-authenticate'] ?? '');
      const realm = /realm="([^"]+)"/.exec(h)?.[1];
      const service = /service="([^"]+)"/.exec(h)?.[1];
      if (!realm) throw new Error(`no realm in ${h}`);
      const t = await rawRequest({
        method: 'GET',
        url: `${realm}?service=${encodeURIComponent(service ?? '')}&scope=${encodeURIComponent(`repository:${repo}:pull,push`)}`,
        headers: { authorization: `Basic ${Buffer.from(`${this.#creds.username}:${this.#creds.password}`).toString('base64')}` },
        ...(ca ? { ca } : {}),
      });
      const token = (JSON.parse(t.body.toString()) as { token: string }).token;
      this.#tokens.set(repo, token);
      r = await rawRequest({ method, url, headers: { ...headers, authorization: `Bearer ${token}` }, ...(body !== undefined ? { body } : {}), ...(ca ? { ca } : {}) });
    }
    return r;
  }

  async blob(repo: string, content: Buffer | string): Promise<{ digest: string; size: number }> {
    const buf = Buffer.from(content);
    const digest = sha256(buf);
    const head = await this.#req(repo, 'HEAD', `/v2/${repo}/blobs/${digest}`);
    if (head.status === 200) return { digest, size: buf.length };
    const start = await this.#req(repo, 'POST', `/v2/${repo}/blobs/uploads/`, { 'content-length': '0' }, '');
    if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status} ${start.body.toString()}`);
    const loc = new URL(String(start.headers.location), `${this.reg.scheme}://${this.reg.host}`);
    loc.searchParams.set('digest', digest);
    const put = await this.#req(repo, 'PUT', loc.toString(), { 'content-type': 'application/octet-stream', 'content-length': String(buf.length) }, buf);
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${put.body.toString()}`);
    return { digest, size: buf.length };
  }

  async manifest(repo: string, reference: string, manifest: object | string, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<string> {
    const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    const r = await this.#req(repo, 'PUT', `/v2/${repo}/manifests/${reference}`, { 'content-type': mediaType }, body);
    if (r.status !== 201) throw new Error(`manifest put ${repo}:${reference}: HTTP ${r.status} ${r.body.toString().slice(0, 300)}`);
    return sha256(body);
  }

  /** A small OCI image (one layer of random bytes); returns its manifest digest. */
  async image(repo: string, tag: string, opts: { annotations?: Record<string, string>; layerBytes?: number } = {}): Promise<string> {
    const layer = await this.blob(repo, randomBytes(opts.layerBytes ?? 256));
    const config = await this.blob(repo, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] }, config: {} }));
    return this.manifest(repo, tag, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    });
  }

  async getManifest(repo: string, reference: string): Promise<{ body: Buffer; contentType: string }> {
    const r = await this.#req(repo, 'GET', `/v2/${repo}/manifests/${reference}`, {
      accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json',
    });
    if (r.status !== 200) throw new Error(`manifest get ${repo}:${reference}: HTTP ${r.status}`);
    return { body: r.body, contentType: String(r.headers['content-type']) };
  }

  /** Deletes a manifest (by tag: resolved to its digest first); true when something was deleted. */
  async deleteManifest(repo: string, reference: string): Promise<boolean> {
    let digest = reference;
    if (!reference.startsWith('sha256:')) {
      const h = await this.#req(repo, 'HEAD', `/v2/${repo}/manifests/${reference}`, { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' });
      if (h.status === 404) return false;
      digest = String(h.headers['docker-content-digest']);
    }
    const r = await this.#req(repo, 'DELETE', `/v2/${repo}/manifests/${digest}`);
    if (r.status !== 202 && r.status !== 404) throw new Error(`manifest delete ${repo}@${digest}: HTTP ${r.status} ${r.body.toString().slice(0, 200)}`);
    return r.status === 202;
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const r = await this.#req(repo, 'GET', `/v2/${repo}/blobs/${digest}`);
    if (r.status !== 200) throw new Error(`blob get: HTTP ${r.status}`);
    return r.body;
  }
}

// ---- fault-injecting reverse proxy ----------------------------------------------------------------------

export type FaultAction =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly times?: number }
  | { readonly delayMs: number; readonly times?: number }
  | { readonly redirect: string; readonly times?: number }
  /** Replaces the upstream body with these bytes (same status, headers except length). */
  | { readonly replaceBody: (body: Buffer) => Buffer; readonly times?: number };

export interface FaultRule {
  readonly match: RegExp;
  readonly action: FaultAction;
}

export interface FaultProxy {
  readonly host: string;
  rules: FaultRule[];
  /** Requests seen (path per request). */
  readonly seen: string[];
  stop(): Promise<void>;
}

/** A plain-http reverse proxy to an http TestRegistry that misbehaves on matching paths. */
export async function startFaultProxy(upstream: TestRegistry): Promise<FaultProxy> {
  const used = new Map<FaultRule, number>();
  const state: FaultProxy = {
    host: '',
    rules: [],
    seen: [],
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    state.seen.push(`${req.method} ${path}`);
    if (state.seen.length > 10_000) state.seen.splice(0, 5_000);
    const rule = state.rules.find((r) => r.match.test(path) && (r.action.times === undefined || (used.get(r) ?? 0) < r.action.times));
    if (rule) used.set(rule, (used.get(rule) ?? 0) + 1);
    const a = rule?.action;
    if (a && 'status' in a) {
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end('{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}');
      return;
    }
    if (a && 'redirect' in a) {
      res.writeHead(307, { location: a.redirect }).end();
      return;
    }
    const forward = () => {
      const up = httpRequest(`http://${upstream.host}${path}`, { method: req.method, headers: { ...req.headers, host: upstream.host }, agent: false }, (ur) => {
        if (a && 'replaceBody' in a) {
          const chunks: Buffer[] = [];
          ur.on('data', (c: Buffer) => chunks.push(c));
          ur.on('end', () => {
            const body = a.replaceBody(Buffer.concat(chunks));
            const h = { ...ur.headers, 'content-length': String(body.length) };
            res.writeHead(ur.statusCode ?? 502, h).end(body);
          });
          return;
        }
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
      req.pipe(up);
    };
    if (a && 'delayMs' in a) {
      const t = setTimeout(forward, a.delayMs);
      res.on('close', () => clearTimeout(t));
    } else forward();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  (state as { host: string }).host = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return state;
}
