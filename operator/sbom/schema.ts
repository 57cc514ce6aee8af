/**
 * JSON-schema validation of SBOMs with ajv against the official schemas:
 * - CycloneDX 1.2–1.7: the schemas shipped by the CycloneDX maintainers in @cyclonedx/cyclonedx-library
 *   (`res/schema/`), with the same ajv options the library uses.
 * - SPDX 2.3: the official SPDX 2.3 JSON schema, vendored in ./schemas (source and licence in its README).
 * - SPDX 2.2.x and SPDX 3.0.1: no official schema is available to this project offline; those documents get
 *   a STRUCTURAL check only, and the result says so (`schema: 'structural'`). Never presented as official.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DetectedSbom } from './parse.ts';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

export interface SchemaProblem {
  readonly pointer: string;
  readonly message: string;
}

export interface SchemaResult {
  /** `official`: validated against the maintainers' JSON schema; `structural`: no official schema available. */
  readonly schema: 'official' | 'structural';
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

function newAjv(): Ajv {
  // Same options as @cyclonedx/cyclonedx-library's own validator; remote schemas are never loaded.
  const ajv = new Ajv({
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

function spdx23Validator(): ValidateFunction {
  let v = validators.get('spdx-2.3');
  if (v) return v;
  v = newAjv().compile(readJson(join(here, 'schemas', 'spdx-schema-2.3.json')));
  validators.set('spdx-2.3', v);
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
      pointer = `${pointer}/${e.params.additionalProperty.replaceAll('~', '~0').replaceAll('/', '~1')}`;
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

function structural(det: DetectedSbom): SchemaResult {
  const problems: SchemaProblem[] = [];
  const d = det.doc;
  const req = (cond: boolean, pointer: string, message: string) => {
    if (!cond) problems.push({ pointer, message });
  };
  if (det.specVersion.startsWith('3.')) {
    const graph = d['@graph'];
    req(Array.isArray(graph), '/@graph', 'SPDX 3 JSON-LD needs an @graph array');
    if (Array.isArray(graph)) {
      for (let i = 0; i < graph.length && problems.length < MAX_KEPT; i++) {
        const el = graph[i] as Record<string, unknown> | null;
        if (typeof el !== 'object' || el === null || Array.isArray(el)) {
          problems.push({ pointer: `/@graph/${i}`, message: 'element must be an object' });
          continue;
        }
        req(typeof el.type === 'string', `/@graph/${i}/type`, 'element needs a string "type"');
        if (el.type !== 'CreationInfo') {
          req(typeof el.spdxId === 'string' || typeof el['@id'] === 'string', `/@graph/${i}/spdxId`, 'element needs a spdxId');
        }
      }
    }
  } else {
    for (const k of ['SPDXID', 'creationInfo', 'dataLicense', 'name', 'spdxVersion']) req(d[k] !== undefined, `/${k}`, `required property "${k}" is missing`);
    const ci = d.creationInfo as Record<string, unknown> | undefined;
    if (ci && typeof ci === 'object') {
      req(typeof ci.created === 'string', '/creationInfo/created', 'must be a string');
      req(Array.isArray(ci.creators), '/creationInfo/creators', 'must be an array');
    }
    for (const k of ['packages', 'files', 'relationships']) {
      req(d[k] === undefined || Array.isArray(d[k]), `/${k}`, 'must be an array');
    }
  }
  return {
    schema: 'structural',
    schemaName: `SPDX ${det.specVersion} (structural check: the official JSON schema is not bundled)`,
    valid: problems.length === 0,
    errorCount: problems.length,
    problems,
  };
}

/** Validate a detected SBOM. Never throws for document content. */
export function validateSchema(det: DetectedSbom): SchemaResult {
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
  if (det.specVersion === '2.3') {
    const v = spdx23Validator();
    const ok = v(det.doc);
    const { problems, count } = fromAjv(ok ? null : v.errors);
    return { schema: 'official', schemaName: 'SPDX 2.3 (spdx-schema.json)', valid: ok, errorCount: count, problems };
  }
  return structural(det);
}
