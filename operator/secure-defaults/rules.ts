/**
 * User-extensible configuration rules: JSON Schema (draft-07, ajv) documents that a compliant document
 * satisfies, each with an id, a message and CRA references, applied to selected manifests (by kind) or
 * settings files (by name). The built-in settings rules (TLS, authentication, debug, telemetry) are written
 * this way and shipped under `policies/rules/`.
 *
 * A rule document (YAML or JSON; a file may hold several documents, or `rules: [...]`):
 *
 *   id: acme.deployments-have-revision-limit      # lowercase, dots and dashes
 *   message: Deployments keep at most 3 old ReplicaSets
 *   cra: ["Annex I Part I(2)(b)"]                 # what the CRA's own text requires
 *   standards: ["ETSI EN 303 645 V2.1.1 5.6-1"]   # optional: guidance that makes it concrete
 *   select:
 *     kinds: [Deployment]                         # manifests of these kinds (optionally apiVersions: [...])
 *     settings: ["*.yaml"]                        # and/or settings files whose name matches a glob (* ?)
 *   schema:                                       # JSON Schema draft-07 the selected document must satisfy
 *     required: [spec]
 *     properties: {spec: {required: [revisionHistoryLimit], properties: {revisionHistoryLimit: {maximum: 3}}}}
 *
 * Every schema error becomes one finding with the JSON pointer of the offending value (for `required`, the
 * missing member). Compilation uses ajv strict mode, so unknown keywords in a rule are errors, not silence.
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { pointerSegment } from '../util/json-pointer.ts';
import type { ManifestDoc, RuleSource, SettingsFile } from './types.ts';
import { loadYamlAll } from '../validation/yaml.ts';

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

export interface ConfigRule {
  readonly id: string;
  readonly message: string;
  readonly cra: readonly string[];
  /** Guidelines/standards that make the rule concrete (never presented as CRA text). */
  readonly standards: readonly string[];
  readonly select: { readonly kinds?: readonly string[]; readonly apiVersions?: readonly string[]; readonly settings?: readonly string[] };
  readonly schema: Record<string, unknown>;
  readonly origin: string;
}

export interface CompiledRule extends ConfigRule {
  readonly validate: ValidateFunction;
  readonly settingsMatchers: readonly RegExp[];
}

export interface RuleViolation {
  readonly rule: string;
  readonly cra: readonly string[];
  readonly standards: readonly string[];
  /** Absolute: `/manifests/<i>/...` or `/settings/<file>/...`. */
  readonly pointer: string;
  readonly object: string;
  readonly message: string;
}

/** Bounds: rules per evaluation, findings per rule and document. */
export const MAX_RULES = 500;
export const MAX_ERRORS_PER_DOCUMENT = 50;

const ruleDocumentSchema = {
  type: 'object',
  required: ['id', 'message', 'cra', 'select', 'schema'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9]([a-z0-9.-]{0,126}[a-z0-9])?$' },
    message: { type: 'string', minLength: 1, maxLength: 300 },
    description: { type: 'string' },
    cra: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, maxLength: 100 } },
    standards: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 } },
    select: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        kinds: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        apiVersions: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
        settings: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      },
      anyOf: [{ required: ['kinds'] }, { required: ['settings'] }],
    },
    schema: { type: 'object' },
  },
} as const;

const metaAjv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validateRuleDocument = metaAjv.compile(ruleDocumentSchema);

/** Compiled validators by schema text; a fresh Ajv when the cache is full (bounded memory). */
const CACHE_LIMIT = 256;
let schemaAjv = newSchemaAjv();
const compiled = new Map<string, ValidateFunction>();

function newSchemaAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const { $id: _id, $schema, ...rest } = schema;
  if ($schema !== undefined && (typeof $schema !== 'string' || !/json-schema\.org\/draft-07\/schema#?$/.test($schema))) {
    throw new Error(`only JSON Schema draft-07 is supported ($schema ${JSON.stringify($schema)})`);
  }
  const key = JSON.stringify(rest);
  const hit = compiled.get(key);
  if (hit) return hit;
  if (compiled.size >= CACHE_LIMIT) {
    compiled.clear();
    schemaAjv = newSchemaAjv();
  }
  const fn = schemaAjv.compile(rest);
  compiled.set(key, fn);
  return fn;
}

/** `*.yaml` → /^[^/]*\.yaml$/ (only `*` and `?` are special). */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function ajvErrorText(errors: readonly ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'invalid';
  return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`;
}

/** Split a rule file into rule documents (several YAML documents, or a `rules:` list). */
export function parseRuleFile(text: string, name: string): unknown[] {
  let docs: unknown[];
  try {
    docs = loadYamlAll(text, name);
  } catch (err) {
    throw new Error(`${name}: invalid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const out: unknown[] = [];
  for (const d of docs) {
    if (d === null || d === undefined) continue;
    const rules = (d as { rules?: unknown }).rules;
    if (typeof d === 'object' && !Array.isArray(d) && Array.isArray(rules) && Object.keys(d).length === 1) out.push(...(rules as unknown[]));
    else out.push(d);
  }
  return out;
}

export interface LoadedRules {
  readonly rules: CompiledRule[];
  /** One line per invalid rule document (the check reports InvalidRule). */
  readonly errors: string[];
}

/** Validate and compile rule documents. Later rules with an id already seen are errors (no silent override). */
export function compileRules(sources: readonly RuleSource[]): LoadedRules {
  const rules: CompiledRule[] = [];
  const errors: string[] = [];
  const ids = new Map<string, string>();
  if (sources.length > MAX_RULES) {
    return { rules, errors: [`${sources.length} rule documents exceed the limit of ${MAX_RULES}`] };
  }
  for (const src of sources) {
    if (!validateRuleDocument(src.document)) {
      errors.push(`${src.origin}: not a rule document: ${ajvErrorText(validateRuleDocument.errors)}`);
      continue;
    }
    const doc = src.document as unknown as Omit<ConfigRule, 'origin' | 'standards'> & { standards?: string[] };
    const earlier = ids.get(doc.id);
    if (earlier !== undefined) {
      errors.push(`${src.origin}: rule id ${doc.id} is already defined by ${earlier}`);
      continue;
    }
    let validate: ValidateFunction;
    try {
      validate = compileSchema(doc.schema);
    } catch (err) {
      errors.push(`${src.origin}: rule ${doc.id} has an invalid schema: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      continue;
    }
    ids.set(doc.id, src.origin);
    rules.push({
      id: doc.id,
      message: doc.message,
      cra: [...doc.cra],
      standards: [...(doc.standards ?? [])],
      select: doc.select,
      schema: doc.schema,
      origin: src.origin,
      validate,
      settingsMatchers: (doc.select.settings ?? []).map(globToRegExp),
    });
  }
  return { rules, errors };
}

/** The pointer an ajv error is about (for `required`/`additionalProperties`/`dependencies`, the member). */
function errorPointer(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'required' && typeof p.missingProperty === 'string') return `${e.instancePath}/${pointerSegment(p.missingProperty)}`;
  if (e.keyword === 'additionalProperties' && typeof p.additionalProperty === 'string') return `${e.instancePath}/${pointerSegment(p.additionalProperty)}`;
  if (e.keyword === 'dependencies' && typeof p.missingProperty === 'string') return `${e.instancePath}/${pointerSegment(p.missingProperty)}`;
  return e.instancePath;
}

/** Keywords that only explain other errors (their sub-errors carry the real pointers). */
const WRAPPER_KEYWORDS = new Set(['anyOf', 'oneOf', 'allOf', 'if', 'then', 'else', '$ref']);

function violationsOf(rule: CompiledRule, data: unknown, base: string, object: string): RuleViolation[] {
  if (rule.validate(data)) return [];
  const errs = rule.validate.errors ?? [];
  const pointers = new Set<string>();
  const concrete = errs.filter((e) => !WRAPPER_KEYWORDS.has(e.keyword));
  for (const e of concrete.length > 0 ? concrete : errs) {
    if (pointers.size >= MAX_ERRORS_PER_DOCUMENT) break;
    pointers.add(errorPointer(e));
  }
  return [...pointers].map((p) => ({ rule: rule.id, cra: rule.cra, standards: rule.standards, pointer: `${base}${p}`, object, message: rule.message }));
}

export function ruleAppliesToManifest(rule: ConfigRule, doc: Pick<ManifestDoc, 'kind' | 'apiVersion'>): boolean {
  const { kinds, apiVersions } = rule.select;
  if (!kinds || !kinds.includes(doc.kind)) return false;
  return !apiVersions || apiVersions.includes(doc.apiVersion);
}

/** Apply every rule to the documents it selects. */
export function applyRules(rules: readonly CompiledRule[], manifests: readonly ManifestDoc[], settings: readonly SettingsFile[]): RuleViolation[] {
  const out: RuleViolation[] = [];
  for (const rule of rules) {
    if (rule.select.kinds) {
      for (const d of manifests) {
        if (ruleAppliesToManifest(rule, d)) out.push(...violationsOf(rule, d.object, `/manifests/${d.index}`, `${d.kind}/${d.name}`));
      }
    }
    if (rule.settingsMatchers.length > 0) {
      for (const f of settings) {
        if (rule.settingsMatchers.some((re) => re.test(f.name))) {
          out.push(...violationsOf(rule, f.data, `/settings/${pointerSegment(f.name)}`, `settings:${f.name}`));
        }
      }
    }
  }
  return out;
}
