/**
 * Evidence collector for config.secure-defaults: reads spec.secureDefaults.manifests and .settings (a
 * ConfigMap in the release's namespace, or an https URL through the SSRF-guarded fetcher, checked against its
 * digest), parses them with bounded cost, records the sha256 of what was read, and loads the configuration
 * rules: the built-in ones shipped under policies/rules/ and extra rule sets named by the policy entry's
 * `params.ruleConfigMaps: [{namespace, name}]` (every key of such a ConfigMap is a rule file).
 *
 * Never throws: failures become evidence errors with source `secureDefaults.*`, and the check reports Error
 * (fail closed). When the policy does not run config.secure-defaults, nothing is read.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvidenceError } from '../types/evidence.ts';
import { CraGateError, errorMessage, isCraGateError } from '../errors.ts';
import type { Reason } from '../errors.ts';
import { DEFAULT_LIMITS, parseManifests, parseSettings } from '../secure-defaults/parse.ts';
import type { ParseLimits, TextFile } from '../secure-defaults/parse.ts';
import { parseRuleFile } from '../secure-defaults/rules.ts';
import type { ManifestDoc, RuleSource, SecureDefaultsEvidence, SettingsFile } from '../secure-defaults/types.ts';
import type { CollectContext } from './collect.ts';
import { fetchBytes } from './https.ts';
import { packagePath } from '../util/package-root.ts';

export const CHECK_ID = 'config.secure-defaults';

/** policies/rules/ of this installation. */
export const BUILTIN_RULES_DIR = packagePath('policies', 'rules');

interface SourceSpec {
  url?: string;
  digest?: string;
  configMapRef?: { name: string; key?: string };
}

export interface SecureDefaultsCollectOptions {
  readonly limits?: ParseLimits;
  readonly builtinRulesDir?: string;
  /** Options for URL sources, merged over `ctx.runtime.http` (tests point this at a loopback server with a CA). */
  readonly fetch?: Parameters<typeof fetchBytes>[1];
}

let builtinCache: { dir: string; rules: RuleSource[] } | undefined;

/** The built-in rule documents (read once per process; they ship with the operator). */
export async function loadBuiltinRules(dir: string = BUILTIN_RULES_DIR): Promise<RuleSource[]> {
  if (builtinCache?.dir === dir) return builtinCache.rules;
  const names = (await readdir(dir)).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  const rules: RuleSource[] = [];
  for (const n of names) {
    const text = await readFile(path.join(dir, n), 'utf8');
    for (const document of parseRuleFile(text, n)) rules.push({ origin: `builtin:${n}`, document });
  }
  builtinCache = { dir, rules };
  return rules;
}

function sha256(parts: readonly TextFile[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    if (parts.length > 1) h.update(`${p.name}\u0000`);
    h.update(p.text);
    if (parts.length > 1) h.update('\u0000');
  }
  return `sha256:${h.digest('hex')}`;
}

function verifyDigest(bytes: Buffer, digest: string, url: string): void {
  const [alg, hex] = digest.split(':', 2);
  if (!alg || !hex || !['sha256', 'sha384', 'sha512'].includes(alg)) {
    throw new CraGateError('InvalidSpec', `digest ${JSON.stringify(digest)} of ${url} is not sha256:/sha384:/sha512:<hex>`);
  }
  const actual = createHash(alg).update(bytes).digest('hex');
  if (actual !== hex.toLowerCase()) {
    throw new CraGateError('EvidenceUnavailable', `${url}: content digest ${alg}:${actual.slice(0, 16)}… does not match the declared ${alg}:${hex.slice(0, 16)}…`, { retryable: false });
  }
}

/** Read one source into text files (ConfigMap keys in name order, or the URL's last path segment). */
async function readSource(ctx: CollectContext, src: SourceSpec, what: string, opts: SecureDefaultsCollectOptions): Promise<TextFile[]> {
  const namespace = ctx.release.metadata?.namespace ?? 'default';
  const limits = opts.limits ?? DEFAULT_LIMITS;
  if (src.configMapRef) {
    const { name, key } = src.configMapRef;
    const data = await ctx.sources.readConfigMap(namespace, name);
    if (data === undefined) throw new CraGateError('EvidenceUnavailable', `${what}: ConfigMap ${namespace}/${name} not found`);
    if (key !== undefined) {
      const text = data[key];
      if (text === undefined) throw new CraGateError('EvidenceUnavailable', `${what}: ConfigMap ${namespace}/${name} has no key ${JSON.stringify(key)}`);
      return [{ name: key, text }];
    }
    const keys = Object.keys(data).sort();
    if (keys.length === 0) throw new CraGateError('MalformedSecureDefaults', `${what}: ConfigMap ${namespace}/${name} has no data`);
    return keys.map((k) => ({ name: k, text: data[k] ?? '' }));
  }
  if (src.url) {
    const res = await fetchBytes(src.url, { ...ctx.runtime.http, maxBytes: limits.maxFileBytes, ...opts.fetch, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    if (src.digest) verifyDigest(res.bytes, src.digest, src.url);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(res.bytes);
    const base = new URL(res.finalUrl).pathname.split('/').filter(Boolean).pop() ?? 'document';
    return [{ name: decodeURIComponent(base), text }];
  }
  throw new CraGateError('InvalidSpec', `${what}: neither configMapRef nor url is set`);
}

function toError(source: string, err: unknown): EvidenceError {
  let reason: Reason = 'EvidenceUnavailable';
  if (isCraGateError(err)) reason = err.code === 'Internal' ? 'EvidenceUnavailable' : err.code;
  return { source, reason, message: errorMessage(err, 280) };
}

/** The policy entry of config.secure-defaults (undefined: the policy does not run it). */
function policyEntry(ctx: CollectContext): { params: Record<string, unknown> } | undefined {
  if (!ctx.policy) return { params: {} };
  const entry = ctx.policy.spec.checks.find((c) => c.id === CHECK_ID && c.enforcement !== 'Off');
  return entry ? { params: (entry.params ?? {}) } : undefined;
}

export async function collectSecureDefaults(ctx: CollectContext, opts: SecureDefaultsCollectOptions = {}): Promise<{ secureDefaults?: SecureDefaultsEvidence; errors?: EvidenceError[] }> {
  const entry = policyEntry(ctx);
  if (!entry) return {};
  const errors: EvidenceError[] = [];
  const sd = (ctx.release.spec as { secureDefaults?: { manifests?: SourceSpec; settings?: SourceSpec } }).secureDefaults;
  const limits = opts.limits ?? DEFAULT_LIMITS;

  let manifests: SecureDefaultsEvidence['manifests'];
  if (sd?.manifests) {
    try {
      const files = await readSource(ctx, sd.manifests, 'secureDefaults.manifests', opts);
      const documents: ManifestDoc[] = parseManifests(files, limits);
      manifests = { documents, digest: sha256(files) };
    } catch (err) {
      errors.push(toError('secureDefaults.manifests', err));
    }
  }

  let settings: SecureDefaultsEvidence['settings'];
  if (sd?.settings) {
    try {
      const files = await readSource(ctx, sd.settings, 'secureDefaults.settings', opts);
      const parsed: SettingsFile[] = files.map((f) => parseSettings(f, limits));
      settings = { files: parsed, digest: sha256(files) };
    } catch (err) {
      errors.push(toError('secureDefaults.settings', err));
    }
  }

  const rules: RuleSource[] = [];
  try {
    rules.push(...(await loadBuiltinRules(opts.builtinRulesDir)));
  } catch (err) {
    errors.push(toError('secureDefaults.rules', new CraGateError('InvalidRule', `built-in rules: ${errorMessage(err)}`)));
  }
  const refs = entry.params.ruleConfigMaps;
  if (refs !== undefined) {
    if (!Array.isArray(refs)) {
      errors.push({ source: 'secureDefaults.rules', reason: 'InvalidCheckParams', message: 'params.ruleConfigMaps must be a list of {namespace, name}' });
    } else {
      for (const [i, ref] of refs.entries()) {
        const r = ref as { namespace?: unknown; name?: unknown };
        if (typeof r?.namespace !== 'string' || typeof r.name !== 'string') {
          errors.push({ source: 'secureDefaults.rules', reason: 'InvalidCheckParams', message: `params.ruleConfigMaps[${i}] needs namespace and name` });
          continue;
        }
        try {
          const data = await ctx.sources.readConfigMap(r.namespace, r.name);
          if (data === undefined) throw new CraGateError('EvidenceUnavailable', `rule ConfigMap ${r.namespace}/${r.name} not found`);
          for (const key of Object.keys(data).sort()) {
            const origin = `configmap:${r.namespace}/${r.name}/${key}`;
            let docs: unknown[];
            try {
              docs = parseRuleFile(data[key] ?? '', origin);
            } catch (err) {
              throw new CraGateError('InvalidRule', errorMessage(err));
            }
            for (const document of docs) rules.push({ origin, document });
          }
        } catch (err) {
          errors.push(toError('secureDefaults.rules', err));
        }
      }
    }
  }

  return {
    secureDefaults: {
      declared: { manifests: Boolean(sd?.manifests), settings: Boolean(sd?.settings) },
      ...(manifests ? { manifests } : {}),
      ...(settings ? { settings } : {}),
      rules,
    },
    ...(errors.length > 0 ? { errors } : {}),
  };
}
