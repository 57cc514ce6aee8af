/**
 * JSON-schema validation of SBOMs with ajv against the official schemas:
 * - CycloneDX 1.2–1.7: the schemas shipped by the CycloneDX maintainers in @cyclonedx/cyclonedx-library
 *   (`res/schema/`), with the same ajv options the library uses.
 * - SPDX 2.2 / 2.2.1 / 2.2.2 (`spdxVersion: SPDX-2.2`), SPDX 2.3 and SPDX 3.0.1: the official SPDX JSON schemas,
 *   vendored unchanged in ./schemas (repository, commit, SHA-256 and licence in its README). SPDX 3.0.1's schema is
 *   draft 2020-12 and is compiled with ajv's 2020 class.
 * - Any other SPDX version: no official schema in this build, so the result is INVALID (`schema: 'none'`) with the
 *   reason — fail closed, never a structural pass.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { nonFinitePointers } from '../util/json.ts';
import type { DetectedSbom } from './parse.ts';
import { packagePath } from '../util/package-root.ts';
import { pointerSegment } from '../util/json-pointer.ts';

const require = createRequire(import.meta.url);
const SCHEMA_DIR = packagePath('operator', 'sbom', 'schemas');

export interface SchemaProblem {
  readonly pointer: string;
  readonly message: string;
}

export interface SchemaResult {
  /**
   * `official`: validated against the maintainers' JSON schema; `none`: no official schema for this version in this
   * build, the result is then always invalid (fail closed). `structural` is no longer produced (kept in the type for
   * callers that still test for it).
   */
  readonly schema: 'official' | 'none' | 'structural';
  /** Which schema, e.g. `CycloneDX 1.6 (bom-1.6.schema.json)`. */
  readonly schemaName: string;
  readonly valid: boolean;
  /** Total number of problems found (errors beyond `problems` are counted, not kept). */
  readonly errorCount: number;
  readonly problems: readonly SchemaProblem[];
}

const CDX_VERSIONS = ['1.2', '1.3', '1.4', '1.5', '1.6', '1.7'] as const;
const MAX_KEPT = 50;

let cdxDir: string | undefined;
function cyclonedxSchemaDir(): string {
  if (!cdxDir) {
    const pkg = require.resolve('@cyclonedx/cyclonedx-library/package.json');
    cdxDir = join(dirname(pkg), 'res', 'schema');
  }
  return cdxDir;
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

function newAjv(Cls: typeof Ajv = Ajv): Ajv {
  // Same options as @cyclonedx/cyclonedx-library's own validator; remote schemas are never loaded.
  const ajv = new Cls({
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    allErrors: true,
    loadSchema: (uri: string) => {
      throw new Error(`Remote schemas are disabled: ${uri}`);
    },
  });
  addFormats(ajv);
  try {
    const draft2019 = require('ajv-formats-draft2019') as (a: Ajv, o: { formats: string[] }) => void;
    draft2019(ajv, { formats: ['idn-email'] });
  } catch {
    ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  }
  ajv.addFormat('iri-reference', true);
  // CycloneDX puts `uniqueItems: true` on components, dependencies, hashes, …: ajv checks it by pairwise deep
  // comparison, O(n²) (minutes for 50k components). Same semantics in O(n): canonical JSON (sorted keys) in a Set.
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    errors: false,
    validate: (unique: boolean, data: unknown[]) => !unique || allUnique(data),
  });
  return ajv;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** JSON-schema uniqueItems (deep equality, key order irrelevant) in linear time. */
export function allUnique(items: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const k = canonical(item);
    if (seen.has(k)) return false;
    seen.add(k);
  }
  return true;
}

const validators = new Map<string, ValidateFunction>();

function cyclonedxValidator(version: string): ValidateFunction {
  const key = `cdx-${version}`;
  let v = validators.get(key);
  if (v) return v;
  const dir = cyclonedxSchemaDir();
  const ajv = newAjv();
  ajv.addSchema(readJson(join(dir, 'spdx.SNAPSHOT.schema.json')), 'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json');
  ajv.addSchema(readJson(join(dir, 'jsf-0.82.SNAPSHOT.schema.json')), 'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json');
  if (version === '1.7') {
    ajv.addSchema(
      readJson(join(dir, 'cryptography-defs.SNAPSHOT.schema.json')),
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json',
    );
  }
  v = ajv.compile(readJson(join(dir, `bom-${version}.SNAPSHOT.schema.json`)));
  validators.set(key, v);
  return v;
}

/** Vendored official SPDX schemas (files in ./schemas, see its README), by the version `detectFormat` reports. */
const SPDX_SCHEMAS: Readonly<Record<string, { file: string; name: string; draft2020: boolean }>> = {
  '2.2': { file: 'spdx-schema-2.2.json', name: 'SPDX 2.2 (spdx-schema.json, v2.2.2)', draft2020: false },
  '2.3': { file: 'spdx-schema-2.3.json', name: 'SPDX 2.3 (spdx-schema.json)', draft2020: false },
  '3.0.1': { file: 'spdx-json-schema-3.0.1.json', name: 'SPDX 3.0.1 (spdx-json-schema.json)', draft2020: true },
};

/** SPDX versions validated against a vendored official schema. */
export const SPDX_SCHEMA_VERSIONS: readonly string[] = Object.keys(SPDX_SCHEMAS);

function spdxValidator(version: string): ValidateFunction {
  const key = `spdx-${version}`;
  let v = validators.get(key);
  if (v) return v;
  const s = SPDX_SCHEMAS[version]!;
  v = newAjv(s.draft2020 ? Ajv2020 : Ajv).compile(readJson(join(SCHEMA_DIR, s.file)));
  validators.set(key, v);
  return v;
}

function fromAjv(errors: readonly ErrorObject[] | null | undefined): { problems: SchemaProblem[]; count: number } {
  const list = errors ?? [];
  // allErrors + oneOf/anyOf produce many near-duplicates: keep the first per pointer+keyword.
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const e of list) {
    let pointer = e.instancePath || '';
    let msg = e.message ?? e.keyword;
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      msg = `required property "${e.params.missingProperty}" is missing`;
    } else if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      pointer = `${pointer}/${pointerSegment(e.params.additionalProperty)}`;
      msg = 'property is not allowed by the schema';
    } else if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
      msg = `must be one of ${e.params.allowedValues.slice(0, 8).map((x) => JSON.stringify(x)).join(', ')}`;
    }
    const key = `${pointer}\u0000${msg}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (problems.length < MAX_KEPT) problems.push({ pointer, message: msg });
  }
  return { problems, count: seen.size };
}

function noSchema(det: DetectedSbom): SchemaResult {
  const pointer = det.specVersion.startsWith('3.') ? '/@context' : '/spdxVersion';
  return {
    schema: 'none',
    schemaName: `SPDX ${det.specVersion} (no official schema available in this build)`,
    valid: false,
    errorCount: 1,
    problems: [
      {
        pointer,
        message: `no official schema available for SPDX ${det.specVersion} in this build (official schemas bundled: SPDX ${SPDX_SCHEMA_VERSIONS.join(', ')})`,
      },
    ],
  };
}

/** Validate a detected SBOM. Never throws for document content. */
export function validateSchema(det: DetectedSbom): SchemaResult {
  const r = validateOfficialSchema(det);
  // `1e999` parses to Infinity, which Ajv's number/integer keywords accept; JSON has no such number.
  const bad = nonFinitePointers(det.doc);
  if (bad.length === 0) return r;
  const problems = bad.map((pointer) => ({ pointer, message: 'number is not finite (overflows to Infinity; JSON has no such number)' }));
  return { ...r, valid: false, errorCount: r.errorCount + bad.length, problems: [...problems, ...r.problems] };
}

function validateOfficialSchema(det: DetectedSbom): SchemaResult {
  if (det.format === 'CycloneDX') {
    if (!(CDX_VERSIONS as readonly string[]).includes(det.specVersion)) {
      return {
        schema: 'official',
        schemaName: `CycloneDX ${det.specVersion}`,
        valid: false,
        errorCount: 1,
        problems: [{ pointer: '/specVersion', message: `no CycloneDX schema for specVersion ${det.specVersion}` }],
      };
    }
    const v = cyclonedxValidator(det.specVersion);
    const ok = v(det.doc);
    const { problems, count } = fromAjv(ok ? null : v.errors);
    return { schema: 'official', schemaName: `CycloneDX ${det.specVersion} (bom-${det.specVersion}.schema.json)`, valid: ok, errorCount: count, problems };
  }
  // `SPDX-2.2` documents (spec 2.2, 2.2.1, 2.2.2 all write that spdxVersion) use the v2.2.2 schema.
  const s = Object.hasOwn(SPDX_SCHEMAS, det.specVersion) ? SPDX_SCHEMAS[det.specVersion] : undefined;
  if (!s) return noSchema(det);
  let v: ValidateFunction;
  try {
    v = spdxValidator(det.specVersion);
  } catch (e) {
    // A missing or uncompilable vendored schema must not turn into a pass.
    return { ...noSchema(det), schemaName: s.name, problems: [{ pointer: '', message: `official schema ${s.file} could not be loaded: ${(e as Error).message}` }] };
  }
  const ok = v(det.doc);
  const { problems, count } = fromAjv(ok ? null : v.errors);
  return { schema: 'official', schemaName: s.name, valid: ok, errorCount: count, problems };
}
