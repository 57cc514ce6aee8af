/**
 * Default-credential detection in shipped manifests and settings. Findings carry a pointer and a kind,
 * NEVER the value.
 *
 * Rules:
 *  - `credentials.private-key` — a PEM/OpenSSH/PGP private key anywhere (every string of every document);
 *  - `credentials.token` — a well-known token format anywhere: AWS access key ids, GitHub, GitLab, Slack,
 *    Stripe live, Google API keys, npm tokens, JWTs;
 *  - `credentials.url-password` — a URL with an embedded password (`scheme://user:pass@host`);
 *  - `credentials.default-password` — a secret-like key (password, secret, token, api key, …) whose value is
 *    a well-known default password (admin, changeme, …);
 *  - `credentials.hardcoded-secret` — a secret-like key with any other literal value, or (in env values,
 *    ConfigMaps, Secrets and settings) a random-looking token by Shannon entropy.
 * Placeholders (`${VAR}`, `$(VAR)`, `{{ … }}`, `<…>`, empty) and references (paths, `file:`, `vault:`) are
 * not values. Secret `data` is base64-decoded before scanning.
 */
import { pointerSegment } from '../util/json-pointer.ts';
import { containersOf, podSpecOf } from './pss.ts';
import type { ManifestDoc } from './types.ts';

export const CREDENTIAL_RULES = {
  'credentials.private-key': 'a private key',
  'credentials.token': 'an access token',
  'credentials.url-password': 'a URL with an embedded password',
  'credentials.default-password': 'a well-known default password',
  'credentials.hardcoded-secret': 'a hard-coded secret',
} as const;

export type CredentialRuleId = keyof typeof CREDENTIAL_RULES;

export interface CredentialViolation {
  readonly rule: CredentialRuleId;
  /** Relative to the scanned root (object root, or settings file root). */
  readonly pointer: string;
  readonly message: string;
}

/** Well-known default / vendor / top-of-breach-list passwords (compared case-insensitively). */
export const DEFAULT_PASSWORDS: ReadonlySet<string> = new Set([
  'admin', 'administrator', 'password', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'pass', 'passwd', 'changeme', 'change_me',
  'changeit', 'secret', 'root', 'toor', 'default', 'guest', 'test', 'testing', 'demo', 'user', 'letmein', 'welcome',
  'qwerty', 'abc123', '123456', '1234567', '12345678', '123456789', '1234567890', '12345', '1234', '0000', '000000',
  '111111', 'admin123', 'admin1234', 'password1', 'password123', 'root123', 'postgres', 'mysql', 'mariadb', 'redis',
  'rabbitmq', 'elastic', 'kibana', 'minio123', 'minioadmin', 'grafana', 'jenkins', 'tomcat', 'oracle', 'sa', 'sysadmin',
  'superuser', 'master', 'ubnt', 'raspberry', 'alpine', 'openshift', 'keycloak', 'prom-operator', 'neo4j', 'couchbase',
  'zabbix', 'nagios', 'vagrant', 'docker', 'kubernetes', 'insecure', 'secret123', 'mypassword', 'temp', 'temp123',
]);

const PRIVATE_KEY = /-----BEGIN ((RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----/;
const TOKENS: readonly { name: string; re: RegExp }[] = [
  { name: 'an AWS access key id', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/ },
  { name: 'a GitHub token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/ },
  { name: 'a GitLab token', re: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { name: 'a Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { name: 'a Stripe live key', re: /\b[sr]k_live_[A-Za-z0-9]{20,}\b/ },
  { name: 'a Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'an npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { name: 'a JSON Web Token', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
];
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s@/]+)@/i;

/** Key names that hold secrets: the last word of the key (camelCase, snake_case, kebab-case, dotted). */
const SECRET_KEY = /(?:^|_)(password|passwd|passphrase|pwd|pass|secret|token|apikey|api_key|access_key|secret_key|private_key|client_secret|credential|credentials|auth_token|bearer)$/;

/** Keys that name non-secret connection parameters (a Secret often carries them next to the password). */
const NON_SECRET_KEY = /(?:^|_)(user|username|user_name|login|host|hostname|port|url|uri|endpoint|database|db|name|namespace|region|email|ca|ca_crt|tls_crt|crt|cert|certificate)$/;

/** `adminPassword` → `admin_password`, `DB-PASS` → `db_pass`. */
function normalizeKey(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[-.\s]+/g, '_').toLowerCase();
}

function isPlaceholder(v: string): boolean {
  const t = v.trim();
  if (t === '') return true;
  if (/^\$\{[^}]*\}$|^\$\([^)]*\)$|^\{\{.*\}\}$|^<[^>]*>$|^%[^%]+%$|^\$[A-Z_][A-Z0-9_]*$/.test(t)) return true;
  if (/^(?:file|vault|env|secret|ref|aws-sm|gcp-sm|azure-kv|k8s|kubernetes):/i.test(t)) return true;
  if (/^\/[^\s]*$/.test(t) || /^\.{1,2}\//.test(t)) return true; // a path
  if (/^\*+$|^x{3,}$/i.test(t)) return true; // masked
  return false;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/**
 * Whether a value looks like a random secret: one token (no spaces), 20+ chars of a base64/hex alphabet,
 * mixing character classes, high entropy; and not an obvious non-secret (digest, UUID, version, URL, path).
 */
export function looksRandom(v: string): boolean {
  const t = v.trim();
  if (t.length < 20 || t.length > 4096 || /\s/.test(t)) return false;
  if (!/^[A-Za-z0-9+/=_.-]+$/.test(t)) return false;
  if (/^(sha(1|256|384|512)|md5|blake\d*):/i.test(t) || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t)) return false;
  if (/^[a-z0-9]+([.-][a-z0-9]+)+$/.test(t)) return false; // DNS names, k8s names, versions
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(t)).length;
  if (/^[0-9a-f]+$/i.test(t)) return t.length >= 32 && shannonEntropy(t) >= 3.5 && classes >= 2 && !/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i.test(t);
  return classes >= 3 && shannonEntropy(t) >= 4.0;
}

export function isSecretKey(key: string): boolean {
  return key !== '' && SECRET_KEY.test(normalizeKey(key));
}

interface ScanOptions {
  /** Apply the entropy heuristic to values under non-secret keys (env, ConfigMaps, Secrets, settings). */
  readonly entropy: boolean;
  /** Every value under this subtree is a secret value (Secret data). */
  readonly allSecret?: boolean;
}

/** Classify one string value at `pointer` whose key (or env name) is `key`. */
export function classifyValue(key: string, value: string, options: ScanOptions): { rule: CredentialRuleId; what: string } | undefined {
  if (PRIVATE_KEY.test(value)) return { rule: 'credentials.private-key', what: 'a private key' };
  for (const t of TOKENS) if (t.re.test(value)) return { rule: 'credentials.token', what: t.name };
  const url = URL_PASSWORD.exec(value);
  if (url && !isPlaceholder(url[1] ?? '')) return { rule: 'credentials.url-password', what: 'a URL with an embedded password' };
  const secretKey = isSecretKey(key);
  if (secretKey || (options.allSecret && !NON_SECRET_KEY.test(normalizeKey(key)))) {
    if (isPlaceholder(value)) return undefined;
    if (DEFAULT_PASSWORDS.has(value.trim().toLowerCase())) return { rule: 'credentials.default-password', what: 'a well-known default password' };
    if (secretKey) return { rule: 'credentials.hardcoded-secret', what: 'a hard-coded secret value' };
  }
  if (options.entropy && looksRandom(value)) return { rule: 'credentials.hardcoded-secret', what: 'a random-looking secret (high entropy)' };
  return undefined;
}

/** Walk a JSON tree (bounded by the parser's node budget) and classify every string. */
export function scanTree(root: unknown, base: string, options: ScanOptions, out: CredentialViolation[], describe: (pointer: string, key: string) => string): void {
  const walk = (v: unknown, pointer: string, key: string): void => {
    if (typeof v === 'string') {
      const hit = classifyValue(key, v, options);
      if (hit) out.push({ rule: hit.rule, pointer, message: `${describe(pointer, key)} holds ${hit.what}` });
      return;
    }
    if (typeof v === 'number' && isSecretKey(key) && DEFAULT_PASSWORDS.has(String(v))) {
      out.push({ rule: 'credentials.default-password', pointer, message: `${describe(pointer, key)} holds a well-known default password` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${pointer}/${i}`, key));
      return;
    }
    if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, `${pointer}/${pointerSegment(k)}`, k);
    }
  };
  walk(root, base, '');
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

function decodeBase64(v: string): string | undefined {
  const t = v.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) return undefined;
  const buf = Buffer.from(t, 'base64');
  const text = buf.toString('utf8');
  // Binary data (not valid UTF-8 text) is not a password; keys and tokens are text.
  return text.includes('\uFFFD') ? undefined : text;
}

/** Scan one Kubernetes object. */
export function scanManifest(doc: ManifestDoc): CredentialViolation[] {
  const out: CredentialViolation[] = [];
  const seen = new Set<string>();
  const push = (v: CredentialViolation): void => {
    const k = `${v.rule}\u0000${v.pointer}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  };

  // 1. Container env values: a name like DB_PASSWORD with a literal value.
  const loc = podSpecOf(doc);
  if (loc) {
    for (const r of containersOf(loc)) {
      (Array.isArray(r.c.env) ? r.c.env : []).forEach((raw, i) => {
        const e = rec(raw);
        if (!e || typeof e.value !== 'string') return;
        const name = typeof e.name === 'string' ? e.name : '';
        const hit = classifyValue(name, e.value, { entropy: true });
        if (hit) push({ rule: hit.rule, pointer: `${r.pointer}/env/${i}/value`, message: `env ${name} of container "${r.name}" holds ${hit.what}` });
      });
    }
  }

  // 2. ConfigMap data and Secret data/stringData: every value, with the entropy heuristic.
  const core = !doc.apiVersion.includes('/');
  if (core && doc.kind === 'ConfigMap') {
    const found: CredentialViolation[] = [];
    scanTree(doc.object.data, '/data', { entropy: true }, found, (_p, key) => `ConfigMap key ${key}`);
    found.forEach(push);
  }
  if (core && doc.kind === 'Secret') {
    for (const [k, v] of Object.entries(rec(doc.object.data) ?? {})) {
      if (typeof v !== 'string') continue;
      const text = decodeBase64(v);
      if (text === undefined) continue;
      const hit = classifyValue(k, text, { entropy: true, allSecret: true });
      if (hit) push({ rule: hit.rule, pointer: `/data/${pointerSegment(k)}`, message: `Secret key ${k} holds ${hit.what}` });
    }
    for (const [k, v] of Object.entries(rec(doc.object.stringData) ?? {})) {
      if (typeof v !== 'string') continue;
      const hit = classifyValue(k, v, { entropy: true, allSecret: true });
      if (hit) push({ rule: hit.rule, pointer: `/stringData/${pointerSegment(k)}`, message: `Secret key ${k} holds ${hit.what}` });
    }
  }

  // 3. Everything else: only the high-precision patterns (keys, tokens, URL passwords) and secret-like keys
  //    in spec-like fields; annotations and labels get patterns only.
  const found: CredentialViolation[] = [];
  const skip = new Set(['data', 'stringData', 'binaryData']);
  for (const [k, v] of Object.entries(doc.object)) {
    if ((core && (doc.kind === 'ConfigMap' || doc.kind === 'Secret') && skip.has(k)) || k === 'status') continue;
    scanTree(v, `/${pointerSegment(k)}`, { entropy: false }, found, (p) => `field ${p}`);
  }
  found.forEach(push);
  return out;
}

/** Scan one settings file (every value; entropy on). */
export function scanSettings(data: unknown): CredentialViolation[] {
  const out: CredentialViolation[] = [];
  scanTree(data, '', { entropy: true }, out, (p) => `setting ${p || '/'}`);
  return out;
}
