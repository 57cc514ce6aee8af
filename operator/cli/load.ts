/**
 * Reads the manifests given to `cra-gate evaluate`: ProductReleases, ReleasePolicies, ConfigMaps and Secrets
 * (e.g. the public signing key a policy's spec.signing names; their values never reach any output), from any
 * of the files (multi-document YAML or JSON, `kind: List` expanded). Every cra-gate manifest is validated
 * against the CRDs exactly as a create on the API server would be (operator/validation); a problem is an
 * InputError whose message is one line naming the file, the line and the problem.
 *
 * Each manifest is treated as freshly created, as the operator would see it right after `kubectl apply`:
 * schema defaults applied, `metadata.generation` 1 and the namespace defaulted (`--namespace`, else "default").
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import { packagePath } from '../util/package-root.ts';
import { ManifestValidator } from '../validation/validate.ts';
import { parseYamlStream, YamlSyntaxError } from '../validation/yaml.ts';
import { isObject } from '../util/json.ts';

export const CRD_DIR = packagePath('crds');
/** Manifests larger than this are refused (bounded cost on hostile input). */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

export { InputError } from './input-error.ts';
import { InputError } from './input-error.ts';

/** Where a manifest came from (for messages and SARIF locations). */
export interface Source {
  readonly file: string;
  /** 1-based line the YAML document starts on. */
  readonly line: number;
  /** The document's YAML text (for locating fields). */
  readonly text: string;
}

export interface Loaded<T> {
  readonly object: T;
  readonly source: Source;
}

export interface Inputs {
  readonly releases: Loaded<ProductRelease>[];
  readonly policies: Map<string, Loaded<ReleasePolicy>>;
  /** `namespace/name` → data. */
  readonly configMaps: Map<string, Record<string, string>>;
  /** `namespace/name` → decoded data (`data` base64-decoded, `stringData` over it, as the API server stores it). */
  readonly secrets: Map<string, Record<string, string>>;
  /** Documents of other kinds that were ignored (for a note on stderr). */
  readonly ignored: string[];
}

export interface LoadOptions {
  /** Namespace of namespaced manifests without one (kubectl's default: "default"). */
  readonly namespace?: string;
  readonly validator?: ManifestValidator;
  /** Paths in messages are shown relative to this directory. */
  readonly cwd?: string;
}

let sharedValidator: ManifestValidator | undefined;
export function defaultValidator(): ManifestValidator {
  sharedValidator ??= ManifestValidator.fromDirectory(CRD_DIR);
  return sharedValidator;
}

/** Kinds that may sit beside releases in a file (e.g. the examples' Namespace) and are skipped silently. */
const QUIET_KINDS = new Set(['Namespace']);

function describeObject(o: Record<string, unknown>): string {
  const meta = isObject(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' && meta.name ? ` "${meta.name}"` : '';
  return `${typeof o.kind === 'string' && o.kind ? o.kind : 'object'}${name}`;
}

export function loadInputs(files: readonly string[], opts: LoadOptions = {}): Inputs {
  const validator = opts.validator ?? defaultValidator();
  const defaultNamespace = opts.namespace ?? 'default';
  const cwd = opts.cwd ?? process.cwd();
  const releases: Loaded<ProductRelease>[] = [];
  const releaseKeys = new Map<string, Source>();
  const policies = new Map<string, Loaded<ReleasePolicy>>();
  const configMaps = new Map<string, Record<string, string>>();
  const configMapSources = new Map<string, Source>();
  const secrets = new Map<string, Record<string, string>>();
  const secretSources = new Map<string, Source>();
  const ignored: string[] = [];

  const seen = new Set<string>();
  for (const given of files) {
    const file = path.resolve(cwd, given);
    if (seen.has(file)) continue; // the same file named twice (e.g. also as --policy) is read once
    seen.add(file);
    const shown = path.relative(cwd, file) || given;
    let text: string;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new InputError(`${shown}: not a regular file`);
      if (st.size > MAX_FILE_BYTES) throw new InputError(`${shown}: file is ${st.size} bytes, more than the limit of ${MAX_FILE_BYTES}`);
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof InputError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(`${shown}: cannot read file: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
    }
    let docs;
    try {
      docs = parseYamlStream(text);
    } catch (err) {
      const line = err instanceof YamlSyntaxError && err.line ? `:${err.line}` : '';
      throw new InputError(`${shown}${line}: not valid YAML: ${(err instanceof YamlSyntaxError && err.line ? err.message.replace(/ \(line \d+\)$/, '') : (err as Error).message).replace(/\s+/g, ' ')}`);
    }
    if (docs.length === 0) throw new InputError(`${shown}: no manifests in file`);

    for (const d of docs) {
      const items = isObject(d.doc) && d.doc.kind === 'List' && Array.isArray(d.doc.items) ? (d.doc.items as unknown[]) : [d.doc];
      for (const item of items) {
        const source: Source = { file: shown, line: d.line, text: d.text };
        const where = `${shown}:${d.line}`;
        if (!isObject(item)) throw new InputError(`${where}: not a Kubernetes manifest (expected a mapping with apiVersion and kind)`);
        if (typeof item.apiVersion !== 'string' || typeof item.kind !== 'string' || !item.apiVersion || !item.kind) {
          throw new InputError(`${where}: not a Kubernetes manifest: apiVersion and kind are required`);
        }
        if (validator.knows(item.apiVersion, item.kind)) {
          const result = validator.validate(item);
          if (result.errors.length > 0) {
            throw new InputError(`${where}: ${describeObject(item)} is invalid: ${result.errors.map((e) => e.message).join('; ')}`);
          }
          const object = result.object;
          const meta = object.metadata as Record<string, unknown>;
          meta.generation ??= 1;
          if (item.kind === 'ProductRelease') {
            meta.namespace ??= defaultNamespace;
            const key = `${String(meta.namespace)}/${String(meta.name)}`;
            const prev = releaseKeys.get(key);
            if (prev) throw new InputError(`${where}: ProductRelease ${key} is also defined at ${prev.file}:${prev.line}`);
            releaseKeys.set(key, source);
            releases.push({ object: object as unknown as ProductRelease, source });
          } else if (item.kind === 'ReleasePolicy') {
            delete meta.namespace; // cluster-scoped: the API server drops it too
            const name = String(meta.name);
            const prev = policies.get(name);
            if (prev) throw new InputError(`${where}: ReleasePolicy "${name}" is also defined at ${prev.source.file}:${prev.source.line}`);
            policies.set(name, { object: object as unknown as ReleasePolicy, source });
          } else {
            ignored.push(`${where}: ${describeObject(item)}`);
          }
        } else if (item.apiVersion === 'v1' && item.kind === 'ConfigMap') {
          const { key, data } = readConfigMap(item, where, defaultNamespace);
          const prev = configMapSources.get(key);
          if (prev) throw new InputError(`${where}: ConfigMap ${key} is also defined at ${prev.file}:${prev.line}`);
          configMapSources.set(key, source);
          configMaps.set(key, data);
        } else if (item.apiVersion === 'v1' && item.kind === 'Secret') {
          const { key, data } = readSecret(item, where, defaultNamespace);
          const prev = secretSources.get(key);
          if (prev) throw new InputError(`${where}: Secret ${key} is also defined at ${prev.file}:${prev.line}`);
          secretSources.set(key, source);
          secrets.set(key, data);
        } else if (item.apiVersion.endsWith('cra-gate.dev/v1alpha1') || item.apiVersion.startsWith('cra-gate.dev/')) {
          throw new InputError(`${where}: unknown cra-gate kind ${item.kind} in ${item.apiVersion}`);
        } else if (!QUIET_KINDS.has(item.kind)) {
          ignored.push(`${where}: ${describeObject(item)}`);
        }
      }
    }
  }
  return { releases, policies, configMaps, secrets, ignored };
}

const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `namespace/name` of a ConfigMap or Secret, the name validated as the API server does. */
function objectKey(item: Record<string, unknown>, bad: (problem: string) => InputError, defaultNamespace: string): string {
  const meta = isObject(item.metadata) ? item.metadata : undefined;
  const name = meta?.name;
  if (typeof name !== 'string' || !name) throw bad('metadata.name: Required value: name or generateName is required');
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) throw bad(`metadata.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
  const namespace = typeof meta?.namespace === 'string' && meta.namespace ? meta.namespace : defaultNamespace;
  return `${namespace}/${name}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A Secret's identity and data, validated as the API server validates Secrets: `data` values are base64 (decoded
 * here, as the operator decodes what it reads), `stringData` values are strings and win over `data`. Messages
 * name keys, never values.
 */
function readSecret(item: Record<string, unknown>, where: string, defaultNamespace: string): { key: string; data: Record<string, string> } {
  const bad = (problem: string): InputError => new InputError(`${where}: ${describeObject(item)} is invalid: ${problem}`);
  const key = objectKey(item, bad, defaultNamespace);
  const data = Object.create(null) as Record<string, string>;
  for (const field of ['data', 'stringData'] as const) {
    const map = item[field];
    if (map === undefined || map === null) continue;
    if (!isObject(map)) throw bad(`${field}: Invalid value: must be a map of strings`);
    for (const [k, v] of Object.entries(map)) {
      if (!CONFIGMAP_KEY.test(k) || k.length > 253) throw bad(`${field}[${k}]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
      if (typeof v !== 'string') throw bad(`${field}[${k}]: Invalid value: must be a string (quote it in YAML)`);
      if (field === 'data' && !BASE64.test(v.replace(/\s+/g, ''))) throw bad(`data[${k}]: Invalid value: not base64 (use stringData for plain text)`);
      data[k] = field === 'data' ? Buffer.from(v.replace(/\s+/g, ''), 'base64').toString('utf8') : v;
    }
  }
  for (const k of Object.keys(item)) {
    if (!['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'].includes(k)) throw bad(`unknown field "${k}"`);
  }
  return { key, data };
}

/** A ConfigMap's identity and `data`, validated as the API server validates ConfigMaps. */
function readConfigMap(item: Record<string, unknown>, where: string, defaultNamespace: string): { key: string; data: Record<string, string> } {
  const bad = (problem: string): InputError => new InputError(`${where}: ${describeObject(item)} is invalid: ${problem}`);
  const key = objectKey(item, bad, defaultNamespace);
  // Keys are user-chosen: null prototype, so `__proto__` stays a key and `constructor` is not inherited.
  const data = Object.create(null) as Record<string, string>;
  if (item.data !== undefined && item.data !== null) {
    if (!isObject(item.data)) throw bad('data: Invalid value: must be a map of strings');
    for (const [k, v] of Object.entries(item.data)) {
      if (!CONFIGMAP_KEY.test(k) || k.length > 253) throw bad(`data[${k}]: Invalid value: ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`);
      if (typeof v !== 'string') throw bad(`data[${k}]: Invalid value: must be a string (quote it in YAML)`);
      data[k] = v;
    }
  }
  for (const k of Object.keys(item)) {
    if (!['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'].includes(k)) throw bad(`unknown field "${k}"`);
  }
  return { key, data };
}
