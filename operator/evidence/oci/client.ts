/**
 * A small, exact OCI Distribution client (pull side): manifests and indexes (OCI and Docker v2 media types),
 * blobs, tags, the OCI 1.1 referrers API with the tag-schema fallback, and cosign's tag conventions.
 *
 * - Auth: anonymous, Basic, and the Bearer token flow from `WWW-Authenticate` (credentials per registry from
 *   dockerconfigjson Secrets; see ./auth.ts).
 * - Transport: node:http(s) behind the SSRF guard of ../https.ts (literal addresses via `checkUrl`, names via
 *   `guardedLookup`); every redirect is re-checked and Authorization is never forwarded to another host. TLS
 *   with an extra CA bundle; plain http only for hosts listed in `insecureHosts`.
 * - Every manifest and blob is verified against its digest before it is returned. Size limits while
 *   streaming; a timeout per attempt; retries with exponential backoff (honouring Retry-After, capped) on
 *   429, 5xx and network errors.
 * - Content fetched by digest is immutable: it is cached in a bounded LRU keyed by digest (./cache.ts); the
 *   composition root creates one and passes it to every client (EvidenceRuntime), so all releases share it.
 * - Network access is a capability (`network: 'allow'`); without it every request — token requests included —
 *   is refused in the one exchange function, before any connection (fail closed; `--offline` passes 'deny').
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { craError, CraGateError, errorMessage } from '../../errors.ts';
import { checkUrl, guardedLookup, requireNetwork } from '../https.ts';
import type { NetworkAccess } from '../https.ts';
import { parseChallenge } from './auth.ts';
import type { Credentials } from './auth.ts';
import { DigestCache } from './cache.ts';
import { digestTag, isDigest } from './reference.ts';
import type { ImageReference } from './reference.ts';
import { parseJsonOrThrow } from '../../util/json.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

const MANIFEST_ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(', ');

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Readonly<Record<string, unknown>>;
}

export interface Manifest {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config?: Descriptor;
  readonly layers?: readonly Descriptor[];
  readonly manifests?: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly manifest: Manifest;
}

export interface RegistryClientOptions {
  /** Network access; anything but 'allow' (absent included) refuses every request (fail closed). */
  readonly network?: NetworkAccess;
  /** `host` / `host:port` allowed although they resolve to loopback/private/link-local addresses. */
  readonly allowHosts?: readonly string[];
  /** Registries reached over plain http (`host:port`), for labs and tests only. */
  readonly insecureHosts?: readonly string[];
  /** Extra CA certificates (PEM) for registry TLS. */
  readonly ca?: string | readonly string[];
  /** Per-attempt timeout (default 15 s). */
  readonly timeoutMs?: number;
  /** Cancels every request of this client (a reconcile's signal); an aborted request is not retried. */
  readonly signal?: AbortSignal;
  /** Attempts for 429/5xx/network errors (default 4). */
  readonly attempts?: number;
  /** First backoff (default 200 ms; doubles, ±25 % jitter, capped at 5 s incl. Retry-After). */
  readonly backoffMs?: number;
  readonly maxManifestBytes?: number;
  readonly maxBlobBytes?: number;
  /** Content cache shared across clients (default: a small one of this client's own). */
  readonly cache?: DigestCache;
  /** Credentials for a registry host (`host[:port]`), or undefined for anonymous. */
  readonly credentials?: (registry: string) => Credentials | undefined;
}

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_BYTES = 32 * 1024 * 1024;

/** Size of the content cache the composition root shares across clients (content addressed by digest is immutable). */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT';

interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function verifyDigest(bytes: Uint8Array, digest: string): boolean {
  const m = /^(sha256|sha384|sha512):([a-f0-9]+)$/.exec(digest);
  if (!m) return false;
  return createHash(m[1]!).update(bytes).digest('hex') === m[2];
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export class RegistryClient {
  readonly options: RegistryClientOptions;
  readonly cache: DigestCache;
  readonly #httpsAgent: HttpsAgent;
  readonly #httpAgent: HttpAgent;
  /** `registry|scope` → bearer token and its expiry. */
  readonly #tokens = new Map<string, { token: string; expires: number }>();
  /** Per registry: the last challenge seen (so later requests authenticate up front). */
  readonly #challenges = new Map<string, ReturnType<typeof parseChallenge>>();
  /** Request counters (benchmarks, tests). */
  readonly stats = { requests: 0, cacheHits: 0, cacheMisses: 0, retries: 0 };

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.cache = options.cache ?? new DigestCache(8 * 1024 * 1024);
    const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? options.ca : [...options.ca];
    this.#httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, ...(ca ? { ca } : {}) });
    this.#httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  }

  close(): void {
    this.#httpsAgent.destroy();
    this.#httpAgent.destroy();
  }

  #base(registry: string): string {
    const insecure = (this.options.insecureHosts ?? []).some((h) => h.toLowerCase() === registry.toLowerCase());
    return `${insecure ? 'http' : 'https'}://${registry}`;
  }

  /** One HTTP exchange through the guard (no retries, no auth). Redirects are followed and re-checked. */
  async #exchange(method: HttpMethod, rawUrl: string, headers: Record<string, string>, maxBytes: number, body?: Buffer): Promise<Response & { location?: string }> {
    const insecure = this.options.insecureHosts ?? [];
    const allowHosts = this.options.allowHosts ?? [];
    const timeoutMs = this.options.timeoutMs ?? 15_000;
    requireNetwork(this.options.network, rawUrl);
    const signal = this.options.signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), this.options.signal]) : AbortSignal.timeout(timeoutMs);
    let url = checkUrl(rawUrl, { allowHosts, allowHttp: insecure.length > 0 });
    const origin = url.host;
    for (let hop = 0; hop <= 5; hop++) {
      if (url.protocol === 'http:' && !insecure.some((h) => h.toLowerCase() === url.host.toLowerCase())) {
        throw craError('UrlNotAllowed', `plain http to ${url.host} is not allowed (not an insecure registry)`);
      }
      const sameHost = url.host === origin;
      const hdrs = sameHost ? headers : Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      this.stats.requests++;
      let res: Response & { location?: string };
      try {
        res = await this.#once(method, url, hdrs, maxBytes, signal, body);
      } catch (err) {
        if (err instanceof CraGateError) throw err;
        const code = (err as { code?: string }).code;
        if (code === 'ESSRF') throw craError('UrlNotAllowed', errorMessage(err));
        const msg = signal.aborted ? `timed out after ${timeoutMs} ms` : errorMessage(err, 160);
        throw craError('RegistryUnavailable', `${method} ${url.origin}${url.pathname}: ${msg}`.slice(0, 300), { cause: err });
      }
      // Uploads are not replayed across redirects; a 3xx on a write is the registry's answer, returned as is.
      if (res.status >= 300 && res.status < 400 && res.status !== 304 && body === undefined) {
        if (!res.location) throw craError('RegistryUnavailable', `HTTP ${res.status} without Location from ${url.origin}`);
        url = checkUrl(new URL(res.location, url).toString(), { allowHosts, allowHttp: insecure.length > 0 });
        continue;
      }
      return res;
    }
    throw craError('RegistryUnavailable', `more than 5 redirects from ${rawUrl.slice(0, 120)}`, { retryable: false });
  }

  #once(method: string, url: URL, headers: Record<string, string>, maxBytes: number, signal: AbortSignal, body?: Buffer): Promise<Response & { location?: string }> {
    const isHttps = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (isHttps ? httpsRequest : httpRequest)(
        url,
        {
          method,
          signal,
          headers: { 'user-agent': 'cra-gate', ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
          lookup: guardedLookup(url, this.options.allowHosts ?? []),
          agent: isHttps ? this.#httpsAgent : this.#httpAgent,
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if ((status >= 300 && status < 400) || method === 'HEAD' || (body !== undefined && status === 202)) {
            res.resume();
            res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.alloc(0), ...(location ? { location } : {}) }));
            res.on('error', reject);
            return;
          }
          const declared = Number(res.headers['content-length']);
          const tooLarge = (n: number) =>
            craError('RegistryContentInvalid', `${url.pathname}: response of ${n} bytes exceeds the limit of ${maxBytes} bytes`, { details: { tooLarge: true } });
          if (status >= 200 && status < 300 && Number.isFinite(declared) && declared > maxBytes) {
            res.destroy();
            return reject(tooLarge(declared));
          }
          // Error bodies are read only a little (they are messages, not content).
          const cap = status >= 200 && status < 300 ? maxBytes : 16 * 1024;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > cap) {
              res.destroy();
              if (cap === maxBytes) reject(tooLarge(size));
              else resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks, size) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A request with auth (Basic / Bearer from the challenge) and retries on 429/5xx/network errors. */
  async #request(
    registry: string,
    repository: string,
    method: HttpMethod,
    path: string,
    accept: string,
    maxBytes: number,
    write?: { body?: Buffer; contentType?: string },
  ): Promise<Response & { location?: string }> {
    const url = path.startsWith('http://') || path.startsWith('https://') ? path : `${this.#base(registry)}${path}`;
    const scope = write ? 'pull,push' : 'pull';
    const extra: Record<string, string> = write?.contentType ? { 'content-type': write.contentType } : {};
    const attempts = this.options.attempts ?? 4;
    let delay = this.options.backoffMs ?? 200;
    let lastErr: unknown;
    let authRetried = false;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const headers: Record<string, string> = { accept, ...extra };
        const auth = await this.#authorization(registry, repository, false, scope);
        if (auth) headers.authorization = auth;
        let res = await this.#exchange(method, url, headers, maxBytes, write?.body);
        if (res.status === 401 && !authRetried) {
          authRetried = true;
          const challenge = parseChallenge(res.headers['www-authenticate']);
          if (!challenge) throw craError('RegistryAuthFailed', `${registry}: 401 without a usable WWW-Authenticate challenge`);
          this.#challenges.set(registry, challenge);
          const fresh = await this.#authorization(registry, repository, true, scope);
          if (!fresh) throw craError('RegistryAuthFailed', `${registry} requires authentication and no credentials are configured for it`);
          res = await this.#exchange(method, url, { accept, ...extra, authorization: fresh }, maxBytes, write?.body);
        }
        if (res.status === 401 || res.status === 403) {
          throw craError('RegistryAuthFailed', `${registry}: HTTP ${res.status} for ${path.slice(0, 160)}`);
        }
        if (res.status === 429 || res.status >= 500) {
          const ra = res.headers['retry-after'];
          if (ra && /^\d+$/.test(ra)) retryAfterMs = Number(ra) * 1000;
          throw craError('RegistryUnavailable', `${registry}: HTTP ${res.status} for ${path.slice(0, 160)}`);
        }
        return res;
      } catch (err) {
        lastErr = err;
        const retryable = err instanceof CraGateError && err.code === 'RegistryUnavailable' && err.retryable;
        if (!retryable || attempt === attempts || this.options.signal?.aborted) break;
        this.stats.retries++;
        const jitter = delay * (0.75 + Math.random() * 0.5);
        await sleep(Math.min(5_000, Math.max(jitter, retryAfterMs ?? 0)));
        delay *= 2;
      }
    }
    if (lastErr instanceof CraGateError && lastErr.code === 'RegistryUnavailable' && attempts > 1) {
      throw craError('RegistryUnavailable', `${errorMessage(lastErr)} (after ${attempts} attempts)`, { cause: lastErr });
    }
    throw lastErr;
  }

  async #authorization(registry: string, repository: string, fresh: boolean, actions = 'pull'): Promise<string | undefined> {
    const challenge = this.#challenges.get(registry);
    if (!challenge) return undefined;
    const creds = this.options.credentials?.(registry);
    if (challenge.scheme === 'basic') {
      if (!creds) return undefined;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    const scope = `repository:${repository}:${actions}`;
    const key = `${registry}|${scope}`;
    const cached = this.#tokens.get(key);
    if (!fresh && cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const realm = challenge.params.realm;
    if (!realm) throw craError('RegistryAuthFailed', `${registry}: Bearer challenge without realm`);
    const tokenUrl = new URL(realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    tokenUrl.searchParams.set('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (creds?.identityToken === undefined && creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const res = await this.#exchange('GET', tokenUrl.toString(), headers, 64 * 1024);
    if (res.status === 401 || res.status === 403) throw craError('RegistryAuthFailed', `${registry}: the token service refused the credentials (HTTP ${res.status})`);
    if (res.status === 429 || res.status >= 500) throw craError('RegistryUnavailable', `${registry}: token service HTTP ${res.status}`);
    if (res.status !== 200) throw craError('RegistryAuthFailed', `${registry}: token service HTTP ${res.status}`);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(res.body.toString('utf8')) as typeof body;
    } catch {
      throw craError('RegistryAuthFailed', `${registry}: the token service answered with malformed JSON`);
    }
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (!token) throw craError('RegistryAuthFailed', `${registry}: the token service answered without a token`);
    const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    this.#tokens.set(key, { token, expires: Date.now() + Math.max(0, ttl - 10) * 1000 });
    return `Bearer ${token}`;
  }

  /** Resolve a tag (or digest) to a manifest digest without downloading it when the registry tells (HEAD). */
  async resolve(ref: ImageReference): Promise<string | undefined> {
    if (ref.digest) return ref.digest;
    const res = await this.#request(ref.registry, ref.repository, 'HEAD', `/v2/${ref.repository}/manifests/${encodeURIComponent(ref.tag ?? 'latest')}`, MANIFEST_ACCEPT, 0);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw craError('RegistryUnavailable', `${ref.registry}: HTTP ${res.status} resolving ${ref.repository}:${ref.tag}`);
    const d = res.headers['docker-content-digest'];
    if (typeof d === 'string' && isDigest(d)) return d;
    // No digest header: download and hash.
    return (await this.manifest(ref))?.digest;
  }

  /**
   * A manifest or index by tag or digest; undefined when it does not exist (404). Verified against the digest
   * (requested, or the Docker-Content-Digest the registry claims for a tag) before it is parsed.
   */
  async manifest(ref: ImageReference | { registry: string; repository: string; digest: string }): Promise<FetchedManifest | undefined> {
    const reference = ref.digest ?? ('tag' in ref && ref.tag ? ref.tag : 'latest');
    if (ref.digest) {
      const hit = this.cache.get(ref.digest);
      if (hit && hit.kind === 'manifest') {
        this.stats.cacheHits++;
        return hit.value as FetchedManifest;
      }
      this.stats.cacheMisses++;
    }
    const max = this.options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    const res = await this.#request(ref.registry, ref.repository, 'GET', `/v2/${ref.repository}/manifests/${ref.digest ? reference : encodeURIComponent(reference)}`, MANIFEST_ACCEPT, max);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw craError('RegistryUnavailable', `${ref.registry}: HTTP ${res.status} for manifest ${ref.repository}@${reference}`);
    const claimed = res.headers['docker-content-digest'];
    const digest = ref.digest ?? (typeof claimed === 'string' && isDigest(claimed) ? claimed : sha256Digest(res.body));
    if (!verifyDigest(res.body, digest)) {
      throw craError('RegistryContentInvalid', `manifest ${ref.repository}@${reference} does not match its digest ${digest.slice(0, 19)}… (tampered or corrupt)`);
    }
    const fetched = parseManifest(res.body, digest, res.headers['content-type']);
    this.cache.set(digest, { kind: 'manifest', value: fetched, size: res.body.length });
    return fetched;
  }

  /** A blob, verified against its digest; undefined when it does not exist. */
  async blob(registry: string, repository: string, digest: string, maxBytes?: number): Promise<Buffer | undefined> {
    if (!isDigest(digest)) throw craError('RegistryContentInvalid', `malformed blob digest ${digest.slice(0, 80)}`);
    const hit = this.cache.get(digest);
    if (hit && hit.kind === 'blob') {
      this.stats.cacheHits++;
      return hit.value as Buffer;
    }
    this.stats.cacheMisses++;
    const max = maxBytes ?? this.options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    const res = await this.#request(registry, repository, 'GET', `/v2/${repository}/blobs/${digest}`, '*/*', max);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw craError('RegistryUnavailable', `${registry}: HTTP ${res.status} for blob ${repository}@${digest}`);
    if (!verifyDigest(res.body, digest)) {
      throw craError('RegistryContentInvalid', `blob ${repository}@${digest.slice(0, 19)}… does not match its digest (tampered or corrupt)`);
    }
    this.cache.set(digest, { kind: 'blob', value: res.body, size: res.body.length });
    return res.body;
  }

  /**
   * Uploads a blob unless the registry has it (monolithic upload: POST, then PUT with the digest; OCI
   * Distribution spec "pushing blobs"). Returns its digest.
   */
  async pushBlob(registry: string, repository: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    const head = await this.#request(registry, repository, 'HEAD', `/v2/${repository}/blobs/${digest}`, '*/*', 0, {});
    if (head.status === 200) return digest;
    const start = await this.#request(registry, repository, 'POST', `/v2/${repository}/blobs/uploads/`, '*/*', 16 * 1024, { body: Buffer.alloc(0) });
    if (start.status !== 202 || !start.location) throw craError('RegistryUnavailable', `${registry}: HTTP ${start.status} starting a blob upload to ${repository}`, { retryable: false });
    const loc = new URL(start.location, `${this.#base(registry)}/`);
    if (loc.host !== new URL(this.#base(registry)).host) throw craError('UrlNotAllowed', `${registry}: the upload location points to another host (${loc.host})`);
    loc.searchParams.set('digest', digest);
    const put = await this.#request(registry, repository, 'PUT', loc.toString(), '*/*', 16 * 1024, { body: bytes, contentType: 'application/octet-stream' });
    if (put.status !== 201) throw craError('RegistryUnavailable', `${registry}: HTTP ${put.status} completing the upload of ${digest.slice(0, 19)}… to ${repository}`, { retryable: false });
    return digest;
  }

  /**
   * Puts a manifest under a tag (or its digest); returns the digest of the bytes pushed and whether the registry
   * processed a `subject` (the OCI-Subject response header of registries with the referrers API).
   */
  async pushManifest(registry: string, repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<{ digest: string; subjectProcessed: boolean }> {
    const digest = sha256Digest(bytes);
    const res = await this.#request(registry, repository, 'PUT', `/v2/${repository}/manifests/${encodeURIComponent(reference)}`, '*/*', 16 * 1024, { body: bytes, contentType: mediaType });
    if (res.status !== 201) throw craError('RegistryUnavailable', `${registry}: HTTP ${res.status} pushing manifest ${repository}:${reference.slice(0, 80)}`, { retryable: false });
    return { digest, subjectProcessed: typeof res.headers['oci-subject'] === 'string' };
  }

  /** Tags of a repository (paginated, at most `maxPages` pages of 1000). */
  async tags(registry: string, repository: string, maxPages = 10): Promise<string[]> {
    const out: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    for (let page = 0; path && page < maxPages; page++) {
      const res = await this.#request(registry, repository, 'GET', path, 'application/json', 4 * 1024 * 1024);
      if (res.status === 404) return out;
      if (res.status !== 200) throw craError('RegistryUnavailable', `${registry}: HTTP ${res.status} listing tags of ${repository}`);
      const body = JSON.parse(res.body.toString('utf8')) as { tags?: unknown };
      if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === 'string') out.push(t);
      const link = res.headers.link;
      const m = typeof link === 'string' ? /<([^>]+)>;\s*rel="?next"?/.exec(link) : null;
      path = m ? (m[1]!.startsWith('/') ? m[1] : undefined) : undefined;
    }
    return out;
  }

  /**
   * Referrers of a manifest (OCI 1.1): the referrers API, else the tag schema fallback `sha256-<hex>`.
   * Filtered by artifactType on the client too (registries may ignore the filter).
   */
  async referrers(registry: string, repository: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const max = this.options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.#request(registry, repository, 'GET', `/v2/${repository}/referrers/${digest}${q}`, MEDIA.ociIndex, max);
    let index: Manifest | undefined;
    if (res.status === 200 && /application\/vnd\.oci\.image\.index\.v1\+json/.test(String(res.headers['content-type'] ?? ''))) {
      index = parseRegistryJson(res.body, `referrers of ${repository}@${digest.slice(0, 19)}`) as Manifest;
    } else if (res.status === 404 || res.status === 200 || res.status === 400 || res.status === 405) {
      // Registry without the referrers API: the tag schema (an index tagged sha256-<hex>).
      index = (await this.manifest({ registry, repository, tag: digestTag(digest) }))?.manifest;
    } else {
      throw craError('RegistryUnavailable', `${registry}: HTTP ${res.status} for referrers of ${repository}@${digest.slice(0, 19)}`);
    }
    const list: readonly unknown[] = Array.isArray(index?.manifests) ? index.manifests : [];
    return list.filter((d): d is Descriptor => isDescriptor(d) && (!artifactType || d.artifactType === artifactType));
  }
}

function isDescriptor(d: unknown): d is Descriptor {
  const o = d as Descriptor;
  return typeof o === 'object' && o !== null && typeof o.digest === 'string' && isDigest(o.digest) && typeof o.mediaType === 'string' && typeof o.size === 'number';
}

/** Registry JSON (manifests, layers): bytes that do not parse are RegistryContentInvalid naming `what`. */
export function parseRegistryJson(bytes: Buffer, what: string): unknown {
  return parseJsonOrThrow(bytes.toString('utf8'), () => craError('RegistryContentInvalid', `${what} is not valid JSON`));
}

export function parseManifest(bytes: Buffer, digest: string, contentType?: string): FetchedManifest {
  const m = parseRegistryJson(bytes, `manifest ${digest.slice(0, 19)}`) as Manifest;
  if (typeof m !== 'object' || m === null || m.schemaVersion !== 2) {
    throw craError('RegistryContentInvalid', `manifest ${digest.slice(0, 19)}… is not a schema 2 manifest`);
  }
  const mediaType = m.mediaType ?? (Array.isArray(m.manifests) ? MEDIA.ociIndex : (contentType?.split(';')[0]?.trim() || MEDIA.ociManifest));
  if (![MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].includes(mediaType as never)) {
    throw craError('RegistryContentInvalid', `manifest ${digest.slice(0, 19)}… has unsupported media type ${mediaType.slice(0, 80)}`);
  }
  for (const d of [...(m.layers ?? []), ...(m.manifests ?? []), ...(m.config ? [m.config] : [])]) {
    if (!isDescriptor(d)) throw craError('RegistryContentInvalid', `manifest ${digest.slice(0, 19)}… has a malformed descriptor`);
  }
  return { digest, mediaType, bytes, manifest: m };
}
