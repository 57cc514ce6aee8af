/**
 * Compiled SBOM schema validators, and their precompiled (Ajv standalone) form.
 *
 * Compiling the CycloneDX 1.6 schema with Ajv costs more than checking a 1,000-component SBOM, and loading Ajv itself
 * is a good part of the CLI's start-up. So the validators are generated once as Ajv standalone code (plain
 * JavaScript, the same code Ajv would compile in memory) and loaded from there:
 *  - the compiled package: `npm run build` writes dist/operator/sbom/validators/<key>.cjs (scripts/gen-sbom-validators.ts);
 *  - a repository checkout: the first use compiles in memory and writes the same module to .cache/sbom-validators/,
 *    which later processes load.
 * Each module records a fingerprint of everything it was generated from (this file, the Ajv/ajv-formats versions,
 * the schema files); a module whose fingerprint differs is ignored and the schema compiled afresh — a stale or
 * foreign module is never used. Anything going wrong with the precompiled form falls back to compiling.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as AjvModule from 'ajv';
import type * as Ajv2020Module from 'ajv/dist/2020.js';
import type { Ajv as AjvType, KeywordCxt, ValidateFunction } from 'ajv';
import { packagePath } from '../util/package-root.ts';

// Ajv and its plugins are CommonJS, loaded on demand: a process that finds precompiled validators never loads Ajv.
const require = createRequire(import.meta.url);
const SCHEMA_DIR = packagePath('operator', 'sbom', 'schemas');

export const CDX_VERSIONS = ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7'] as const;

/** Vendored official SPDX schemas (files in ./schemas, see its README), by the version `detectFormat` reports. */
export const SPDX_SCHEMAS: Readonly<Record<string, { file: string; name: string; draft2020: boolean }>> = {
  '2.2': { file: 'spdx-schema-2.2.json', name: 'SPDX 2.2 (spdx-schema.json, v2.2.2)', draft2020: false },
  '2.3': { file: 'spdx-schema-2.3.json', name: 'SPDX 2.3 (spdx-schema.json)', draft2020: false },
  '3.0.1': { file: 'spdx-json-schema-3.0.1.json', name: 'SPDX 3.0.1 (spdx-json-schema.json)', draft2020: true },
};

/** `cdx-1.6`, `spdx-2.3`, …: one validator per schema. */
export const VALIDATOR_KEYS: readonly string[] = [...CDX_VERSIONS.map((v) => `cdx-${v}`), ...Object.keys(SPDX_SCHEMAS).map((v) => `spdx-${v}`)];

interface SchemaSources {
  readonly draft2020: boolean;
  /** Files added by id before compiling the main schema (the schemas it `$ref`s). */
  readonly refs: readonly { readonly file: string; readonly id: string }[];
  readonly main: string;
}

let cdxDir: string | undefined;
function cyclonedxSchemaDir(): string {
  cdxDir ??= join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
  return cdxDir;
}

function sources(key: string): SchemaSources {
  const [kind, version] = [key.slice(0, key.indexOf('-')), key.slice(key.indexOf('-') + 1)];
  if (kind === 'cdx' && (CDX_VERSIONS as readonly string[]).includes(version)) {
    const dir = cyclonedxSchemaDir();
    const ref = (name: string) => ({ file: join(dir, name), id: `http://cyclonedx.org/schema/${name}` });
    const refs = [ref('spdx.SNAPSHOT.schema.json'), ref('jsf-0.82.SNAPSHOT.schema.json')];
    if (version === '1.7') refs.push(ref('cryptography-defs.SNAPSHOT.schema.json'));
    return { draft2020: false, refs, main: join(dir, `bom-${version}.SNAPSHOT.schema.json`) };
  }
  const s = kind === 'spdx' && Object.hasOwn(SPDX_SCHEMAS, version) ? SPDX_SCHEMAS[version] : undefined;
  if (!s) throw new Error(`no schema for validator ${key}`);
  return { draft2020: s.draft2020, refs: [], main: join(SCHEMA_DIR, s.file) };
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/**
 * JSON-schema uniqueItems (deep equality, key order irrelevant) in linear time. Primitives are compared by value in
 * a Set (for JSON values SameValueZero is JSON equality). Objects are bucketed by the raw value of one probe key: the
 * first (by name) key holding a string in the array's first object (for components `bom-ref`, for dependencies
 * `ref`), arrays by their length. Only items in the same bucket are compared, by their canonical JSON (computed at
 * most once per item), so the cost never exceeds canonicalising every item and is usually far below it: no key
 * string is built per item.
 */
export function allUnique(items: readonly unknown[]): boolean {
  if (items.length < 2) return true;
  // Short arrays (hashes, licences, dependsOn, urls: most uniqueItems arrays of an SBOM hold one to a few items):
  // pairwise deep equality costs less than building a Set or Map per array.
  if (items.length <= SMALL_UNIQUE) {
    for (let i = 1; i < items.length; i++) for (let j = 0; j < i; j++) if (jsonEqual(items[i], items[j])) return false;
    return true;
  }
  let prims: Set<unknown> | undefined;
  let probe: string | undefined | null = null; // null: not chosen yet; undefined: the first object has no string value
  const buckets = new Map<unknown, Bucket>();
  let arrays: Map<unknown, Bucket> | undefined;
  for (const item of items) {
    if (typeof item !== 'object' || item === null) {
      prims ??= new Set();
      if (prims.has(item)) return false;
      prims.add(item);
      continue;
    }
    let key: unknown;
    if (Array.isArray(item)) key = item.length;
    else {
      const o = item as Record<string, unknown>;
      if (probe === null) probe = Object.keys(o).filter((k) => typeof o[k] === 'string').sort()[0];
      const v = probe === undefined || !Object.hasOwn(o, probe) ? ABSENT : o[probe];
      key = typeof v === 'object' && v !== null ? NESTED : v;
    }
    // Arrays and objects never share a bucket key: a number key is an array's length only in `arrays`.
    const map: Map<unknown, Bucket> = Array.isArray(item) ? (arrays ??= new Map<unknown, Bucket>()) : buckets;
    const b = map.get(key);
    if (b === undefined) {
      map.set(key, { first: item });
      continue;
    }
    b.canon ??= new Set([canonical(b.first)]);
    const c = canonical(item);
    if (b.canon.has(c)) return false;
    b.canon.add(c);
  }
  return true;
}
interface Bucket {
  readonly first: unknown;
  canon?: Set<string>;
}
const ABSENT = Symbol('absent');
const NESTED = Symbol('nested');

/** Arrays up to this length are checked pairwise (at most 28 comparisons), longer ones by the bucketed keys. */
const SMALL_UNIQUE = 8;

/**
 * Deep equality of parsed JSON values as JSON Schema defines it for uniqueItems: same type, arrays item by item,
 * objects with the same own keys (in any order) and equal values. Recursion is bounded by the nesting-depth limit
 * checked before parsing (./parse.ts), like canonical().
 */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) if (!Object.hasOwn(y, k) || !jsonEqual(x[k], y[k])) return false;
  return true;
}

type FormatDef = unknown;

/** The formats the validators use: ajv-formats' full set, idn-email (draft 2019), iri-reference unchecked. */
function formats(): Record<string, FormatDef> {
  const { fullFormats } = require('ajv-formats/dist/formats') as { fullFormats: Record<string, FormatDef> };
  let idnEmail: FormatDef;
  try {
    idnEmail = require('ajv-formats-draft2019/formats/idn-email') as FormatDef;
  } catch {
    idnEmail = /^[^\s@]+@[^\s@]+$/u;
  }
  return { ...fullFormats, 'idn-email': idnEmail, 'iri-reference': true };
}

/** What the generated code refers to at run time (`deps.…`): supplied by the loader, identical to the compiler's. */
interface Deps {
  readonly formats: Record<string, FormatDef>;
  readonly allUnique: (items: readonly unknown[]) => boolean;
  /** Resolves Ajv's run-time helpers (`ajv/dist/runtime/…`) from here, wherever the module file lies. */
  readonly require: NodeJS.Require;
}
let depsMemo: Deps | undefined;
function deps(): Deps {
  depsMemo ??= { formats: formats(), allUnique, require };
  return depsMemo;
}

function newAjv(draft2020: boolean, source: boolean): AjvType {
  const ajvModule = require('ajv') as typeof AjvModule;
  const Cls = draft2020 ? (require('ajv/dist/2020') as typeof Ajv2020Module).Ajv2020 : ajvModule.Ajv;
  const { _ } = ajvModule;
  // Same options as @cyclonedx/cyclonedx-library's own validator; remote schemas are never loaded.
  const ajv = new Cls({
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    allErrors: true,
    code: { source, formats: _`deps.formats` },
    loadSchema: (uri: string) => {
      throw new Error(`Remote schemas are disabled: ${uri}`);
    },
  });
  // ajv-formats for its keywords (formatMaximum, …); the formats themselves are the set above, by name.
  const addFormatsModule = require('ajv-formats') as { default: (a: AjvType) => AjvType };
  addFormatsModule.default(ajv);
  for (const [name, f] of Object.entries(deps().formats)) ajv.addFormat(name, f as never);
  // CycloneDX puts `uniqueItems: true` on components, dependencies, hashes, …: ajv checks it by pairwise deep
  // comparison, O(n²) (minutes for 50k components). Same semantics in O(n): canonical JSON (sorted keys) in a Set.
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    code(cxt: KeywordCxt) {
      if (cxt.schema !== true) return;
      const fn = cxt.gen.scopeValue('func', { ref: allUnique, code: _`deps.allUnique` });
      cxt.fail(_`!${fn}(${cxt.data})`);
    },
  });
  return ajv;
}

function compile(key: string, source: boolean): ValidateFunction {
  const s = sources(key);
  const ajv = newAjv(s.draft2020, source);
  for (const r of s.refs) ajv.addSchema(readJson(r.file), r.id);
  const v = ajv.compile(readJson(s.main));
  if (source) (v as unknown as { ajv: AjvType }).ajv = ajv;
  return v;
}

/** A validator compiled in memory now (what the precompiled modules must agree with). */
export function compileValidator(key: string): ValidateFunction {
  return compile(key, false);
}

function packageVersionOf(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return 'absent';
  }
}

/** SHA-256 over everything a validator module is generated from. */
export function fingerprint(key: string): string {
  const s = sources(key);
  const h = createHash('sha256');
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const p of ['ajv', 'ajv-formats', 'ajv-formats-draft2019', 'fast-uri']) h.update(`\0${p}@${packageVersionOf(p)}`);
  for (const r of [...s.refs, { id: '', file: s.main }]) h.update(`\0${r.id}\0`).update(readFileSync(r.file));
  return h.digest('hex');
}

/** The CommonJS module text of a precompiled validator (Ajv standalone code, wrapped to receive its `deps`). */
export function standaloneModule(key: string): string {
  const v = compile(key, true);
  const standalone = (require('ajv/dist/standalone') as { default: (a: AjvType, v: ValidateFunction) => string }).default;
  const code = standalone((v as unknown as { ajv: AjvType }).ajv, v);
  return [
    `// Generated by cra-gate (operator/sbom/schema-compile.ts) from the ${key} JSON schema with Ajv standalone code. Do not edit.`,
    "'use strict';",
    `exports.key = ${JSON.stringify(key)};`,
    `exports.fingerprint = ${JSON.stringify(fingerprint(key))};`,
    'exports.create = function (deps) {',
    'const module = { exports: {} };',
    'const require = deps.require;',
    code,
    ';return module.exports.default || module.exports;',
    '};',
    '',
  ].join('\n');
}

/** Writes every validator's module to `dir` (the build); returns the files written. */
export function writePrecompiled(dir: string, keys: readonly string[] = VALIDATOR_KEYS): string[] {
  mkdirSync(dir, { recursive: true });
  return keys.map((key) => {
    const file = join(dir, `${key}.cjs`);
    writeFileSync(file, standaloneModule(key));
    return file;
  });
}

const PRECOMPILED_DIR = fileURLToPath(new URL('./validators/', import.meta.url));
const fromSources = import.meta.url.endsWith('.ts');
function devCacheDir(): string {
  return packagePath('.cache', 'sbom-validators');
}

/** The precompiled validator in `file` if it exists and was generated from exactly these inputs. */
export function loadPrecompiled(file: string, key: string, expected: string = fingerprint(key)): ValidateFunction | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const m = require(file) as { key?: unknown; fingerprint?: unknown; create?: (d: Deps) => ValidateFunction };
    if (m.key !== key || m.fingerprint !== expected || typeof m.create !== 'function') return undefined;
    const v = m.create(deps());
    return typeof v === 'function' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The validator for `key`: precompiled when a matching module exists, else compiled now (and, from a repository
 * checkout, written to the development cache for the next process). Throws only when the schema cannot be compiled.
 */
export function loadValidator(key: string): ValidateFunction {
  const expected = fingerprint(key);
  const dirs = fromSources ? [devCacheDir()] : [PRECOMPILED_DIR];
  for (const dir of dirs) {
    const v = loadPrecompiled(join(dir, `${key}.cjs`), key, expected);
    if (v) return v;
  }
  if (!fromSources) return compileValidator(key);
  // Development: compile once into the cache (written atomically; a read-only checkout just compiles every time).
  try {
    const dir = devCacheDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${key}.cjs`);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, standaloneModule(key));
    renameSync(tmp, file);
    const v = loadPrecompiled(file, key, expected);
    if (v) return v;
  } catch {
    // fall through to compiling in memory
  }
  return compileValidator(key);
}
