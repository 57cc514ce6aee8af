/**
 * Registry credentials and challenges: `kubernetes.io/dockerconfigjson` Secrets (the format kubelet reads
 * for imagePullSecrets) and RFC 7235 `WWW-Authenticate` challenges (Basic, and the Distribution Bearer token
 * flow: `Bearer realm="…",service="…",scope="…"`).
 */
import { craError } from '../../errors.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
  readonly identityToken?: string;
}

export interface Challenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

/** The first Basic or Bearer challenge of a WWW-Authenticate header; undefined when none is usable. */
export function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (!value) return undefined;
  const m = /^\s*(Basic|Bearer)\b\s*(.*)$/i.exec(value);
  if (!m) return undefined;
  // Keys come from the registry: collected in a Map, turned into own data properties (a `__proto__` key stays a key).
  const params = new Map<string, string>();
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?/g;
  let p: RegExpExecArray | null;
  let guard = 0;
  while ((p = re.exec(m[2]!)) !== null && guard++ < 32) {
    params.set(p[1]!.toLowerCase(), (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  return { scheme: m[1]!.toLowerCase() as Challenge['scheme'], params: Object.fromEntries(params) };
}

/** Registry host of a dockerconfigjson key: `https://index.docker.io/v1/` → `registry-1.docker.io`, `host:port`. */
export function normaliseRegistryKey(key: string): string {
  let host = key.trim().replace(/^[a-z]+:\/\//i, '');
  host = host.split('/')[0] ?? host;
  host = host.toLowerCase();
  if (host === 'index.docker.io' || host === 'docker.io') return 'registry-1.docker.io';
  return host;
}

/** Parses `.dockerconfigjson` content into registry → credentials. Throws SigningConfigInvalid when malformed. */
export function parseDockerConfig(json: string, what = 'dockerconfigjson'): Map<string, Credentials> {
  let doc: { auths?: Record<string, { username?: unknown; password?: unknown; auth?: unknown; identitytoken?: unknown }> };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    throw craError('SigningConfigInvalid', `${what} is not valid JSON`);
  }
  const out = new Map<string, Credentials>();
  if (typeof doc !== 'object' || doc === null || typeof doc.auths !== 'object' || doc.auths === null) {
    throw craError('SigningConfigInvalid', `${what} has no "auths" object`);
  }
  for (const [key, entry] of Object.entries(doc.auths)) {
    if (typeof entry !== 'object' || entry === null) continue;
    let username = typeof entry.username === 'string' ? entry.username : undefined;
    let password = typeof entry.password === 'string' ? entry.password : undefined;
    if ((!username || password === undefined) && typeof entry.auth === 'string') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        username = decoded.slice(0, i);
        password = decoded.slice(i + 1);
      }
    }
    if (username === undefined || password === undefined) continue;
    out.set(normaliseRegistryKey(key), {
      username,
      password,
      ...(typeof entry.identitytoken === 'string' ? { identityToken: entry.identitytoken } : {}),
    });
  }
  return out;
}
