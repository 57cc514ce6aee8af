/**
 * JSON-schema validation of SBOMs with ajv against the official schemas:
 * - CycloneDX 1.2–1.7: the schemas shipped by the CycloneDX maintainers in @cyclonedx/cyclonedx-library
 *   (`res/schema/`), with the same ajv options the library uses.
 * - SPDX 2.2 / 2.2.1 / 2.2.2 (`spdxVersion: SPDX-2.2`), SPDX 2.3 and SPDX 3.0.1: the official SPDX JSON schemas,
 *   vendored unchanged in ./schemas (repository, commit, SHA-256 and licence in its README). SPDX 3.0.1's schema is
 *   draft 2020-12 and is compiled with ajv's 2020 class.
 * - Any other SPDX version: no official schema in this build, so the result is INVALID (`schema: 'none'`) with the
 *   reason — fail closed, never a structural pass.
 * The validators are compiled once, ahead of time where possible (./schema-compile.ts: Ajv standalone code).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { nonFinitePointers } from '../util/json.ts';
import type { DetectedSbom } from './parse.ts';
import { pointerSegment } from '../util/json-pointer.ts';
import { CDX_VERSIONS, SPDX_SCHEMAS, loadValidator } from './schema-compile.ts';

export { allUnique } from './schema-compile.ts';

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

const MAX_KEPT = 50;

/** Validators by key (`cdx-1.6`, `spdx-2.3`): precompiled or compiled once per process (./schema-compile.ts). */
const validators = new Map<string, ValidateFunction>();

function validator(key: string): ValidateFunction {
  let v = validators.get(key);
  if (!v) validators.set(key, (v = loadValidator(key)));
  return v;
}

/** SPDX versions validated against a vendored official schema. */
export const SPDX_SCHEMA_VERSIONS: readonly string[] = Object.keys(SPDX_SCHEMAS);

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
  // Searched only when the scan of the text before parsing could not rule them out (./parse.ts scanJson).
  const bad = det.finiteNumbers === true ? [] : nonFinitePointers(det.doc);
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
    const v = validator(`cdx-${det.specVersion}`);
    const ok = v(det.doc);
    const { problems, count } = fromAjv(ok ? null : v.errors);
    return { schema: 'official', schemaName: `CycloneDX ${det.specVersion} (bom-${det.specVersion}.schema.json)`, valid: ok, errorCount: count, problems };
  }
  // `SPDX-2.2` documents (spec 2.2, 2.2.1, 2.2.2 all write that spdxVersion) use the v2.2.2 schema.
  const s = Object.hasOwn(SPDX_SCHEMAS, det.specVersion) ? SPDX_SCHEMAS[det.specVersion] : undefined;
  if (!s) return noSchema(det);
  let v: ValidateFunction;
  try {
    v = validator(`spdx-${det.specVersion}`);
  } catch (e) {
    // A missing or uncompilable vendored schema must not turn into a pass.
    return { ...noSchema(det), schemaName: s.name, problems: [{ pointer: '', message: `official schema ${s.file} could not be loaded: ${(e as Error).message}` }] };
  }
  const ok = v(det.doc);
  const { problems, count } = fromAjv(ok ? null : v.errors);
  return { schema: 'official', schemaName: s.name, valid: ok, errorCount: count, problems };
}
