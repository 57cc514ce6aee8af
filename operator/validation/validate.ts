/**
 * Offline validation of cra-gate manifests against the CRDs in crds/, so that the CLI rejects what the API
 * server rejects, with the same field paths (`spec.artifacts[0].url: Invalid value: ...`).
 *
 * What the API server does on create, and how it is reproduced here:
 * 1. strict field validation: unknown fields fail (`unknown field "spec.x"`) before anything else — a walk
 *    of the structural schema (`x-kubernetes-preserve-unknown-fields` subtrees accept anything);
 * 2. defaulting (`default`) — ajv `useDefaults`, on a copy;
 * 3. the OpenAPI v3 schema (type, required, enum, pattern, lengths, bounds, `format`) — ajv compiled from
 *    each served version's `openAPIV3Schema`, `x-kubernetes-*` keywords declared to ajv and enforced here;
 * 4. `x-kubernetes-list-type: map` key uniqueness (`Duplicate value`) and `set` uniqueness;
 * 5. `x-kubernetes-validations` CEL rules, evaluated with a CEL library at the node they are attached to
 *    (skipped, as the API server skips them, when a type error was found: values of the wrong type cannot be
 *    given to CEL);
 * 6. ObjectMeta: name required and a DNS-1123 subdomain, namespace a DNS-1123 label, label syntax.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { compileRule, type CompiledRule, type RuleSpec } from './cel.ts';
import { loadYamlDocuments } from './yaml.ts';
import { isObject } from '../util/json.ts';
import { unescapePointerSegment } from '../util/json-pointer.ts';

/** A node of a Kubernetes structural schema (the subset the validator reads). */
export interface Schema {
  type?: string;
  format?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean | Schema;
  required?: string[];
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: string;
  'x-kubernetes-validations'?: RuleSpec[];
  [k: string]: unknown;
}

/** One path segment: a property (`.name`), a map key (`[key]`) or a list index (`[0]`). */
type Segment = { prop: string } | { key: string } | { index: number };

export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    if ('prop' in s) out += out ? `.${s.prop}` : s.prop;
    else if ('key' in s) out += `[${s.key}]`;
    else out += `[${s.index}]`;
  }
  return out;
}

export type FieldErrorType = 'Unknown' | 'Required' | 'Invalid' | 'Unsupported' | 'Duplicate' | 'Forbidden' | 'TooLong' | 'TooMany';

/** One rejected field, in the API server's words. */
export interface FieldError {
  readonly type: FieldErrorType;
  /** Field path as the API server prints it, e.g. `spec.artifacts[0].url`. */
  readonly field: string;
  /** The full line, e.g. `spec.version: Required value`. */
  readonly message: string;
}

export interface ValidationResult {
  readonly errors: FieldError[];
  /** The manifest after defaulting (only meaningful when `errors` is empty). */
  readonly object: Record<string, unknown>;
}

interface CompiledVersion {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespaced: boolean;
  readonly schema: Schema;
  readonly ajv: ValidateFunction;
  readonly rules: Map<Schema, CompiledRule[]>;
}

const X_KEYWORDS = [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  ((addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats));

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, validateFormats: true });
  addFormats(ajv);
  // Kubernetes formats ajv-formats does not define are accepted as the API server accepts unknown formats.
  for (const f of ['int-or-string', 'byte', 'password', 'quantity']) if (!ajv.formats[f]) ajv.addFormat(f, true);
  for (const keyword of X_KEYWORDS) ajv.addKeyword({ keyword });
  return ajv;
}

/** The validator for a set of CRDs (normally every file in crds/). */
export class ManifestValidator {
  private readonly versions = new Map<string, CompiledVersion>();

  /** Loads every CustomResourceDefinition in the YAML files of `dir`. */
  static fromDirectory(dir: string): ManifestValidator {
    const crds: unknown[] = [];
    for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
      const file = path.join(dir, f);
      for (const doc of loadYamlDocuments(readFileSync(file, 'utf8'), file)) crds.push(doc);
    }
    return new ManifestValidator(crds);
  }

  constructor(crds: readonly unknown[]) {
    const ajv = newAjv();
    for (const raw of crds) {
      const crd = raw as {
        kind?: string;
        spec?: { group: string; scope: string; names: { kind: string }; versions: { name: string; served?: boolean; schema?: { openAPIV3Schema?: Schema } }[] };
      };
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const v of crd.spec.versions) {
        const schema = v.schema?.openAPIV3Schema;
        if (!schema || v.served === false) continue;
        const apiVersion = `${crd.spec.group}/${v.name}`;
        const rules = new Map<Schema, CompiledRule[]>();
        collectRules(schema, rules);
        this.versions.set(`${apiVersion}/${crd.spec.names.kind}`, {
          kind: crd.spec.names.kind,
          apiVersion,
          namespaced: crd.spec.scope === 'Namespaced',
          schema,
          ajv: ajv.compile(structuredClone(schema)),
          rules,
        });
      }
    }
  }

  /** Whether a CRD defines this apiVersion and kind. */
  knows(apiVersion: unknown, kind: unknown): boolean {
    return this.versions.has(`${String(apiVersion)}/${String(kind)}`);
  }

  isNamespaced(apiVersion: unknown, kind: unknown): boolean {
    return this.versions.get(`${String(apiVersion)}/${String(kind)}`)?.namespaced ?? false;
  }

  /** Validates one manifest as a create would; the returned object carries the schema defaults. */
  validate(manifest: unknown): ValidationResult {
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
      return { errors: [{ type: 'Invalid', field: '', message: 'Object is not a map' }], object: {} };
    }
    const obj = manifest as Record<string, unknown>;
    const v = this.versions.get(`${String(obj.apiVersion)}/${String(obj.kind)}`);
    if (!v) {
      return {
        errors: [{ type: 'Invalid', field: 'kind', message: `no matches for kind "${String(obj.kind)}" in version "${String(obj.apiVersion)}"` }],
        object: obj,
      };
    }
    // 1. strict field validation (the API server fails the request on these alone).
    const unknown: FieldError[] = [];
    findUnknownFields(v.schema, obj, [], unknown, true);
    if (unknown.length) return { errors: unknown, object: obj };

    // 2 + 3. defaulting and the OpenAPI schema.
    const object = structuredClone(obj);
    const errors: FieldError[] = [];
    validateObjectMeta(object.metadata, v.namespaced, errors);
    const schemaOk = v.ajv(object);
    let typeErrors = false;
    if (!schemaOk) {
      for (const e of v.ajv.errors ?? []) {
        const fe = fromAjv(e, v.schema, object);
        if (fe) errors.push(fe);
        if (e.keyword === 'type') typeErrors = true;
      }
    }
    // 4 + 5. list uniqueness and CEL rules.
    walkExtensions(v, v.schema, object, [], errors, !typeErrors);
    return { errors: dedupe(errors), object };
  }
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => (seen.has(e.message) ? false : (seen.add(e.message), true)));
}

function collectRules(schema: Schema, out: Map<Schema, CompiledRule[]>): void {
  const rules = schema['x-kubernetes-validations'];
  if (rules?.length) out.set(schema, rules.map((r) => compileRule(r)));
  for (const p of Object.values(schema.properties ?? {})) collectRules(p, out);
  if (schema.items) collectRules(schema.items, out);
  if (typeof schema.additionalProperties === 'object') collectRules(schema.additionalProperties, out);
}

function findUnknownFields(schema: Schema, value: unknown, at: Segment[], out: FieldError[], root = false): void {
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => findUnknownFields(schema.items!, item, [...at, { index: i }], out));
    return;
  }
  if (!isObject(value)) return;
  if (root && isObject(value.metadata)) {
    for (const k of Object.keys(value.metadata)) {
      if (!OBJECT_META_FIELDS.has(k)) out.push(unknownField([...at, { prop: 'metadata' }, { prop: k }]));
    }
  }
  const props = schema.properties;
  for (const [k, child] of Object.entries(value)) {
    if (root && k === 'metadata') continue;
    const sub = props?.[k];
    if (sub) findUnknownFields(sub, child, [...at, { prop: k }], out);
    else if (typeof schema.additionalProperties === 'object') findUnknownFields(schema.additionalProperties, child, [...at, { key: k }], out);
    else if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields']) continue;
    else if (root && k === 'status') continue;
    else out.push(unknownField([...at, { prop: k }]));
  }
}

function unknownField(at: Segment[]): FieldError {
  const field = formatPath(at);
  return { type: 'Unknown', field, message: `unknown field "${field}"` };
}

/** JSON pointer → path segments, using the schema to tell properties from map keys. */
function segmentsOf(pointer: string, schema: Schema | undefined): Segment[] {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapePointerSegment);
  const out: Segment[] = [];
  let s: Schema | undefined = schema;
  for (const p of parts) {
    if (s?.type === 'array' || (s === undefined && /^\d+$/.test(p))) {
      out.push({ index: Number(p) });
      s = s?.items;
    } else if (s?.properties?.[p]) {
      out.push({ prop: p });
      s = s.properties[p];
    } else if (s && typeof s.additionalProperties === 'object') {
      out.push({ key: p });
      s = s.additionalProperties;
    } else {
      out.push({ prop: p });
      s = undefined;
    }
  }
  return out;
}

function valueAt(root: unknown, pointer: string): unknown {
  let v: unknown = root;
  if (pointer === '') return v;
  for (const p of pointer.slice(1).split('/')) {
    const k = unescapePointerSegment(p);
    if (Array.isArray(v)) v = v[Number(k)];
    else if (isObject(v)) v = v[k];
    else return undefined;
  }
  return v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(jsonTypeOf(v));
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function fromAjv(e: ErrorObject, schema: Schema, root: unknown): FieldError | undefined {
  const at = segmentsOf(e.instancePath, schema);
  const field = formatPath(at);
  const value = valueAt(root, e.instancePath);
  const p = e.params as Record<string, unknown>;
  const line = (type: FieldErrorType, f: string, detail: string): FieldError => ({ type, field: f, message: f ? `${f}: ${detail}` : detail });
  switch (e.keyword) {
    case 'required': {
      const missing = String(p.missingProperty);
      const f = formatPath([...at, { prop: missing }]);
      return line('Required', f, 'Required value');
    }
    case 'type':
      return line('Invalid', field, `Invalid value: ${JSON.stringify(jsonTypeOf(value))}: ${field} in body must be of type ${String(p.type)}: ${JSON.stringify(jsonTypeOf(value))}`);
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ');
      return line('Unsupported', field, `Unsupported value: ${show(value)}: supported values: ${allowed}`);
    }
    case 'pattern':
      return line('Invalid', field, `Invalid value: ${show(value)}: ${field} in body should match '${String(p.pattern)}'`);
    case 'format':
      return line('Invalid', field, `Invalid value: ${show(value)}: ${field} in body must be of type ${String(p.format)}: ${show(value)}`);
    case 'minLength':
      return line('Invalid', field, `Invalid value: ${show(value)}: ${field} in body should be at least ${String(p.limit)} chars long`);
    case 'maxLength':
      return line('TooLong', field, `Too long: may not be more than ${String(p.limit)} bytes`);
    case 'minimum':
    case 'exclusiveMinimum':
      return line('Invalid', field, `Invalid value: ${show(value)}: ${field} in body should be greater than or equal to ${String(p.limit)}`);
    case 'maximum':
    case 'exclusiveMaximum':
      return line('Invalid', field, `Invalid value: ${show(value)}: ${field} in body should be less than or equal to ${String(p.limit)}`);
    case 'minItems':
      return line('Invalid', field, `Invalid value: ${Array.isArray(value) ? value.length : 0}: ${field} in body should have at least ${String(p.limit)} items`);
    case 'maxItems':
      return line('TooMany', field, `Too many: ${Array.isArray(value) ? value.length : 0}: must have at most ${String(p.limit)} items`);
    case 'minProperties':
      return line('Invalid', field, `Invalid value: ${isObject(value) ? Object.keys(value).length : 0}: ${field} in body should have at least ${String(p.limit)} properties`);
    case 'maxProperties':
      return line('TooMany', field, `Too many: ${isObject(value) ? Object.keys(value).length : 0}: must have at most ${String(p.limit)} items`);
    case 'additionalProperties':
      return unknownField([...at, { prop: String(p.additionalProperty) }]);
    default:
      return line('Invalid', field, `Invalid value: ${show(value)}: ${e.message ?? e.keyword}`);
  }
}

function validateObjectMeta(meta: unknown, namespaced: boolean, errors: FieldError[]): void {
  if (!isObject(meta)) {
    errors.push({ type: 'Required', field: 'metadata.name', message: 'metadata.name: Required value: name or generateName is required' });
    return;
  }
  const name = meta.name;
  if (name === undefined || name === '') {
    if (!meta.generateName) errors.push({ type: 'Required', field: 'metadata.name', message: 'metadata.name: Required value: name or generateName is required' });
  } else if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    errors.push({
      type: 'Invalid',
      field: 'metadata.name',
      message: `metadata.name: Invalid value: ${show(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  if (namespaced && meta.namespace !== undefined && (typeof meta.namespace !== 'string' || meta.namespace.length > 63 || !DNS1123_LABEL.test(meta.namespace))) {
    errors.push({
      type: 'Invalid',
      field: 'metadata.namespace',
      message: `metadata.namespace: Invalid value: ${show(meta.namespace)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
    });
  }
  if (meta.labels !== undefined) {
    if (!isObject(meta.labels)) {
      errors.push({ type: 'Invalid', field: 'metadata.labels', message: 'metadata.labels: Invalid value: must be a map of strings' });
    } else {
      for (const [k, v] of Object.entries(meta.labels)) {
        const [prefix, nameOnly] = k.includes('/') ? [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)] : [undefined, k];
        const keyOk = nameOnly.length <= 63 && QUALIFIED_NAME.test(nameOnly) && (prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix)));
        if (!keyOk) errors.push({ type: 'Invalid', field: 'metadata.labels', message: `metadata.labels: Invalid value: ${JSON.stringify(k)}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` });
        if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
          errors.push({ type: 'Invalid', field: 'metadata.labels', message: `metadata.labels: Invalid value: ${show(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character` });
        }
      }
    }
  }
  if (meta.annotations !== undefined && (!isObject(meta.annotations) || Object.values(meta.annotations).some((x) => typeof x !== 'string'))) {
    errors.push({ type: 'Invalid', field: 'metadata.annotations', message: 'metadata.annotations: Invalid value: must be a map of strings' });
  }
}

/** The value as CEL sees it: integers as ints (BigInt), per the schema. */
export function toCel(schema: Schema | undefined, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => toCel(schema?.items, v));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const sub = schema?.properties?.[k] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out[k] = toCel(sub, v);
    }
    return out;
  }
  if (typeof value === 'number') {
    if (schema?.type === 'number') return value;
    if (Number.isInteger(value)) return BigInt(value);
    return value;
  }
  return value;
}

function walkExtensions(v: CompiledVersion, schema: Schema, value: unknown, at: Segment[], errors: FieldError[], cel: boolean): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    if (schema.type !== 'array') return;
    checkListUniqueness(schema, value, at, errors);
    if (schema.items) value.forEach((item, i) => walkExtensions(v, schema.items!, item, [...at, { index: i }], errors, cel));
  } else if (isObject(value)) {
    if (schema.type !== 'object' && !schema['x-kubernetes-preserve-unknown-fields']) return;
    for (const [k, child] of Object.entries(value)) {
      const sub = schema.properties?.[k];
      if (sub) walkExtensions(v, sub, child, [...at, { prop: k }], errors, cel);
      else if (typeof schema.additionalProperties === 'object') walkExtensions(v, schema.additionalProperties, child, [...at, { key: k }], errors, cel);
    }
  }
  const rules = v.rules.get(schema);
  if (cel && rules) {
    const self = toCel(schema, value);
    for (const rule of rules) runRule(rule, schema, self, at, errors);
  }
}

function checkListUniqueness(schema: Schema, list: unknown[], at: Segment[], errors: FieldError[]): void {
  const type = schema['x-kubernetes-list-type'];
  if (type !== 'map' && type !== 'set') return;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const identity =
      type === 'map' && isObject(item)
        ? JSON.stringify(keys.map((k) => item[k] ?? (schema.items?.properties?.[k]?.default ?? null)))
        : JSON.stringify(item);
    if (seen.has(identity)) {
      const field = formatPath([...at, { index: i }]);
      const shown =
        type === 'map' && isObject(item)
          ? `map[string]interface {}{${keys.map((k) => `"${k}":${JSON.stringify(item[k])}`).join(', ')}}`
          : show(item);
      errors.push({ type: 'Duplicate', field, message: `${field}: Duplicate value: ${shown}` });
    }
    seen.add(identity);
  });
}

/** Parses a rule's `fieldPath` (`.a.b`, `['a']`, `[0]`) into segments. */
function parseFieldPath(fp: string): Segment[] {
  const out: Segment[] = [];
  const re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\['((?:[^'\\]|\\.)*)'\]|\[(\d+)\]/y;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < fp.length) {
    re.lastIndex = pos;
    m = re.exec(fp);
    if (!m) throw new Error(`unsupported fieldPath ${fp}`);
    if (m[1] !== undefined) out.push({ prop: m[1] });
    else if (m[2] !== undefined) out.push({ prop: m[2] });
    else out.push({ index: Number(m[3]) });
    pos = re.lastIndex;
  }
  return out;
}

function runRule(rule: CompiledRule, schema: Schema, self: unknown, at: Segment[], errors: FieldError[]): void {
  const where = rule.fieldPath ? [...at, ...parseFieldPath(rule.fieldPath)] : at;
  const field = formatPath(where);
  const typeName = schema.type ?? 'object';
  let ok: unknown;
  try {
    ok = rule.evaluate(self);
  } catch (err) {
    errors.push({ type: 'Invalid', field, message: `${field}: Invalid value: ${JSON.stringify(typeName)}: rule evaluation error: ${(err as Error).message}` });
    return;
  }
  if (ok === true) return;
  let message = rule.message ?? `failed rule: ${rule.rule.replace(/\s+/g, ' ').trim()}`;
  if (rule.evaluateMessage) {
    try {
      const m = rule.evaluateMessage(self);
      if (typeof m === 'string' && m.trim()) message = m;
    } catch {
      // the API server falls back to message (or the rule) when messageExpression fails
    }
  }
  if (ok !== false) message = `rule evaluation error: the rule returned ${typeof ok}, not a bool`;
  const prefix = field ? `${field}: ` : '';
  switch (rule.reason) {
    case 'FieldValueRequired':
      errors.push({ type: 'Required', field, message: `${prefix}Required value: ${message}` });
      break;
    case 'FieldValueForbidden':
      errors.push({ type: 'Forbidden', field, message: `${prefix}Forbidden: ${message}` });
      break;
    case 'FieldValueDuplicate':
      errors.push({ type: 'Duplicate', field, message: `${prefix}Duplicate value: ${message}` });
      break;
    default:
      errors.push({ type: 'Invalid', field, message: `${prefix}Invalid value: ${JSON.stringify(typeName)}: ${message}` });
  }
}
