/**
 * The one HTTPS fetcher for evidence, behind an SSRF guard.
 *
 * - https only (http only with `allowHttp`, for tests/labs).
 * - Every host is resolved and every address checked; loopback, link-local (incl. 169.254.169.254), private,
 *   CGNAT, documentation, multicast and other special ranges are refused unless the host (or host:port) is in
 *   `allowHosts`. The connection uses exactly the address that was checked (custom `lookup`), so DNS
 *   rebinding between check and connect is not possible.
 * - Redirects are followed manually, bounded, and every hop is checked again.
 * - Size limit while streaming (aborts past it); one total timeout for all hops; optional CA bundle.
 * - Network access is a capability the caller passes (`network: 'allow'`, from the composition root's
 *   EvidenceRuntime); without it every request is refused before any DNS lookup or connection, so a fetch site
 *   that forgets to pass it cannot reach the network (`cra-gate evaluate --offline` passes 'deny').
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { craError } from '../errors.ts';
import { redactUrl } from '../util/redact.ts';

/** Whether a client may reach the network at all: the composition root decides (operator: allow; CLI --offline: deny). */
export type NetworkAccess = 'allow' | 'deny';

/**
 * Refuses a request unless network access was granted explicitly: anything but `'allow'` (absent included) is a
 * coded EvidenceUnavailable naming the (redacted) URL, so the checks that needed it end in Error, never Pass.
 */
export function requireNetwork(network: NetworkAccess | undefined, rawUrl: string): void {
  if (network === 'allow') return;
  throw craError('EvidenceUnavailable', `${redactUrl(rawUrl).slice(0, 160)} not fetched (offline: this evaluation has no network access)`, { retryable: false });
}

export interface FetchOptions {
  /** Network access; anything but 'allow' (absent included) refuses every request (fail closed). */
  readonly network?: NetworkAccess;
  /** Max response body bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /** Total time for all hops (default 30 s). */
  readonly timeoutMs?: number;
  /** Max redirects (default 5). */
  readonly maxRedirects?: number;
  /** `host` or `host:port` entries allowed even when they resolve to special addresses. */
  readonly allowHosts?: readonly string[];
  /** Extra CA certificates (PEM) trusted in addition to the system store. */
  readonly ca?: string | readonly string[];
  /** Permit http:// (never by default). */
  readonly allowHttp?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export interface FetchResult {
  readonly bytes: Buffer;
  /** hex */
  readonly sha256: string;
  readonly finalUrl: string;
  readonly status: number;
  readonly contentType?: string;
  /**
   * Selected response headers (lower-case names): etag, last-modified, content-type, cache-control, expires
   * when present. Optional so that injected test fetchers need not provide them.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * true for a 304 Not Modified answer to a conditional request (the caller sent If-None-Match or
   * If-Modified-Since); `bytes` is then empty. Without conditional headers a 304 is an error as before.
   */
  readonly notModified?: boolean;
}

const KEPT_HEADERS = ['etag', 'last-modified', 'content-type', 'cache-control', 'expires'] as const;

function keptHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of KEPT_HEADERS) {
    const v = res.headers[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

function isConditional(headers: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(headers ?? {}).some(([k, v]) => v !== '' && /^if-(none-match|modified-since)$/i.test(k));
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
// IPv6 ranges that are special themselves or embed an IPv4 address (RFC 6890 / IANA special-purpose registry):
// ::/96 covers ::, ::1 and the deprecated IPv4-compatible addresses (::127.0.0.1 = ::7f00:1, ::a9fe:a9fe);
// ::ffff:0:0/96 IPv4-mapped (also checked against the IPv4 list below), ::ffff:0:0:0/96 IPv4-translated (RFC 2765),
// 64:ff9b::/96 and 64:ff9b:1::/48 NAT64, 2002::/16 6to4, 2001::/32 Teredo (inside 2001::/23): all refused whole,
// since an embedded address could be any IPv4 address, including private ones.
for (const [net, prefix] of [
  ['::', 96], ['::ffff:0:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is in a special-purpose range (not publicly routable). */
export function isSpecialAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    if (/^::ffff:/i.test(address)) return true;
    return blocked.check(address, 'ipv6');
  }
  return true;
}

function hostAllowed(url: URL, allowHosts: readonly string[]): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowHosts.some((h) => {
    const e = h.trim().toLowerCase();
    if (e === '') return false;
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(e);
    if (!m) return false;
    return m[1] === host && (m[2] === undefined || m[2] === port);
  });
}

/** Throws UrlNotAllowed when the URL itself (scheme, credentials, literal address) is refused. */
export function checkUrl(raw: string, opts: Pick<FetchOptions, 'allowHosts' | 'allowHttp'> = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw craError('UrlNotAllowed', `not a URL (${raw.length} characters; not echoed, it may hold credentials)`);
  }
  if (url.protocol !== 'https:' && !(opts.allowHttp && url.protocol === 'http:')) {
    throw craError('UrlNotAllowed', `${url.protocol} URLs are not allowed (https only): ${url.origin}`);
  }
  if (url.username || url.password) throw craError('UrlNotAllowed', 'URLs with credentials are not allowed');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isSpecialAddress(host) && !hostAllowed(url, opts.allowHosts ?? [])) {
    throw craError('UrlNotAllowed', `address ${host} is loopback, private, link-local or otherwise special and not allow-listed`);
  }
  return url;
}

type LookupCb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** The SSRF guard as a `lookup` for node:http(s)/net: refuses special addresses unless the host is allow-listed. */
export function guardedLookup(url: URL, allowHosts: readonly string[]) {
  const allowed = hostAllowed(url, allowHosts);
  return (hostname: string, options: { all?: boolean }, cb: LookupCb): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return cb(err, '');
      const list = addresses;
      if (list.length === 0) return cb(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      if (!allowed) {
        const bad = list.find((a) => isSpecialAddress(a.address));
        if (bad) {
          return cb(Object.assign(new Error(`${hostname} resolves to ${bad.address}, a special address that is not allow-listed`), { code: 'ESSRF' }), '');
        }
      }
      if (options.all) return cb(null, list);
      cb(null, list[0]!.address, list[0]!.family);
    });
  };
}

function once(url: URL, opts: FetchOptions, signal: AbortSignal, maxBytes: number): Promise<{ res: IncomingMessage; body?: Buffer }> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const req = (isHttps ? httpsRequest : httpRequest)(
      url,
      {
        method: 'GET',
        signal,
        lookup: guardedLookup(url, opts.allowHosts ?? []),
        headers: { 'user-agent': 'cra-gate', accept: 'application/json, */*;q=0.5', ...opts.headers },
        ...(isHttps && opts.ca ? { ca: typeof opts.ca === 'string' ? opts.ca : [...opts.ca] } : {}),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          return resolve({ res });
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          res.destroy();
          return reject(craError('FetchFailed', `response of ${declared} bytes exceeds the limit of ${maxBytes} bytes`, { retryable: false, details: { tooLarge: true } }));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            res.destroy();
            reject(craError('FetchFailed', `response exceeds the limit of ${maxBytes} bytes`, { retryable: false, details: { tooLarge: true } }));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve({ res, body: Buffer.concat(chunks, size) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Fetch a URL through the SSRF guard. Throws CraGateError (UrlNotAllowed, FetchFailed). */
export async function fetchBytes(rawUrl: string, opts: FetchOptions = {}): Promise<FetchResult> {
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  const maxRedirects = opts.maxRedirects ?? 5;
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  requireNetwork(opts.network, rawUrl);
  let url = checkUrl(rawUrl, opts);
  for (let hop = 0; hop <= maxRedirects; hop++) {
    let r: { res: IncomingMessage; body?: Buffer };
    try {
      r = await once(url, opts, signal, maxBytes);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'ESSRF') throw craError('UrlNotAllowed', err.message);
      if (err instanceof Error && err.name === 'CraGateError') throw err;
      const msg = signal.aborted && timeout.aborted ? `timed out after ${opts.timeoutMs ?? 30_000} ms` : err instanceof Error ? err.message : String(err);
      throw craError('FetchFailed', `${url.origin}${url.pathname}: ${msg}`.slice(0, 240), { cause: err });
    }
    const status = r.res.statusCode ?? 0;
    if (status === 304 && isConditional(opts.headers)) {
      const empty = Buffer.alloc(0);
      return {
        bytes: empty,
        sha256: createHash('sha256').update(empty).digest('hex'),
        finalUrl: url.toString(),
        status,
        notModified: true,
        headers: keptHeaders(r.res),
      };
    }
    if (status >= 300 && status < 400) {
      const loc = r.res.headers.location;
      if (!loc) throw craError('FetchFailed', `HTTP ${status} without Location from ${url.origin}`);
      url = checkUrl(new URL(loc, url).toString(), opts);
      continue;
    }
    if (status < 200 || status >= 300) {
      throw craError('FetchFailed', `HTTP ${status} from ${url.origin}${url.pathname}`.slice(0, 240), { retryable: status >= 500 || status === 429 || status === 408 });
    }
    const bytes = r.body ?? Buffer.alloc(0);
    const ct = r.res.headers['content-type'];
    return {
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      finalUrl: url.toString(),
      status,
      ...(ct ? { contentType: ct } : {}),
      headers: keptHeaders(r.res),
    };
  }
  throw craError('FetchFailed', `more than ${maxRedirects} redirects`, { retryable: false });
}
