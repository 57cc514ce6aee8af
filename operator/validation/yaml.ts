/**
 * The one YAML loader of cra-gate: YAML read the way Kubernetes reads it. Every YAML the operator and the CLI
 * read — manifests given to the CLI, CRDs, shipped manifests and settings (config.secure-defaults), rule files
 * — goes through this module; a unit test (yaml-imports.test.ts) fails when another module imports js-yaml.
 *
 * kubectl and the API server convert YAML to JSON with sigs.k8s.io/yaml over go.yaml.in/yaml/v2 (go-yaml v2,
 * YAML 1.1 scalars). go-yaml v2's `resolve()` is reproduced here with js-yaml's public Type API (js-yaml does
 * the parsing; only plain-scalar resolution is ours):
 *  - booleans: `y Y yes Yes YES true True TRUE on On ON` / `n N no No NO false False FALSE off Off OFF`
 *    (so `privileged: yes` is `true`, as the API server runs it; `enforcement: Off` unquoted is `false`);
 *  - null: empty, `~ null Null NULL`; floats `.nan .inf +.inf -.inf` (all three spellings);
 *  - integers: underscores removed, then Go's `strconv.ParseInt(s, 0, 64)` (else `ParseUint`): `0x1F`, `0o17`,
 *    `0b101` and YAML 1.1 octal `0777` (= 511), with a sign; out of 64-bit range → float or string as in Go;
 *  - floats: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` after removing underscores (`+.5`,
 *    `1.`, `1_000.5`), or a plain scalar starting with `.`; a value that overflows float64 stays a string;
 *  - no sexagesimal numbers (`1:20` is a string) and no timestamps: `2028-01-15` stays the string
 *    "2028-01-15" (go-yaml v2 hands timestamps to `interface{}` targets as their text);
 *  - merge keys `<<`; only the core tags (`!!str !!int !!float !!bool !!null !!seq !!map`); any other tag
 *    (`!!binary`, `!!timestamp`, `!!set`, local tags) is an error rather than a guess;
 *  - duplicate mapping keys are an error. kubectl silently keeps the last value (proven in
 *    test/integration/secure-defaults.test.ts); YAML forbids duplicates and a reader of the file may take the
 *    first, so we refuse the document as ambiguous — stricter than the API server, never a silent pass.
 * Mapping keys are resolved the same way and then made strings (`on:` → key "true", `0777:` → "511"), as
 * sigs.k8s.io/yaml's YAMLToJSON does. Integers beyond ±2^53 lose precision (JavaScript numbers).
 */
import yaml from 'js-yaml';

const TRUE = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL = new Set(['', '~', 'null', 'Null', 'NULL']);
const SPECIAL_FLOATS: ReadonlyMap<string, number> = new Map([
  ...['.nan', '.NaN', '.NAN'].map((s) => [s, Number.NaN] as const),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s) => [s, Number.POSITIVE_INFINITY] as const),
  ...['-.inf', '-.Inf', '-.INF'].map((s) => [s, Number.NEGATIVE_INFINITY] as const),
]);

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const DIGITS: Readonly<Record<number, RegExp>> = { 2: /^[01]*$/, 8: /^[0-7]*$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]*$/ };
const PREFIX: Readonly<Record<number, string>> = { 2: '0b', 8: '0o', 10: '', 16: '0x' };

/** Go's strconv.ParseUint(s, 0, 64) (underscores already removed): undefined on a syntax or range error. */
function goParseUint(s: string): bigint | undefined {
  if (s === '') return undefined;
  let base = 10;
  let digits = s;
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
    if (p === 'b' || p === 'o' || p === 'x') {
      base = p === 'b' ? 2 : p === 'o' ? 8 : 16;
      digits = s.slice(2);
    } else {
      base = 8;
      digits = s.slice(1);
    }
    if (digits === '') return 0n;
  }
  if (!DIGITS[base]!.test(digits)) return undefined;
  const v = BigInt(`${PREFIX[base]}${digits}`);
  return v > UINT64_MAX ? undefined : v;
}

/** go-yaml v2: ParseInt(plain, 0, 64), else ParseUint(plain, 0, 64). */
function goInteger(plain: string): bigint | undefined {
  const sign = plain[0] === '+' || plain[0] === '-' ? plain[0] : '';
  const u = goParseUint(sign ? plain.slice(1) : plain);
  if (u === undefined) return undefined;
  if (sign === '-') return u <= INT64_MAX + 1n ? -u : undefined;
  if (sign === '+') return u <= INT64_MAX ? u : undefined; // ParseUint does not take a sign
  return u;
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** What Go's ParseFloat accepts of a scalar that starts with `.` (no underscores without a base prefix). */
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

type Resolved = { kind: 'int' | 'float'; value: number } | undefined;

/** go-yaml v2's resolution of a plain scalar to a number (after the map lookups). */
function goNumber(s: string): Resolved {
  const hint = s[0];
  if (hint === undefined) return undefined;
  if (hint === '.') {
    if (!DOT_FLOAT.test(s)) return undefined;
    const f = Number(s);
    return Number.isFinite(f) ? { kind: 'float', value: f } : undefined;
  }
  if (!/[-+0-9]/.test(hint)) return undefined;
  const plain = s.replace(/_/g, '');
  const i = goInteger(plain);
  if (i !== undefined) return { kind: 'int', value: Number(i) };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return { kind: 'float', value: f };
  }
  return undefined;
}

const goNull = new yaml.Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (data: unknown) => data === null || (typeof data === 'string' && NULL.has(data)),
  construct: () => null,
  predicate: (data: unknown) => data === null,
  represent: () => 'null',
  defaultStyle: 'lowercase',
});

const goBool = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && (TRUE.has(data) || FALSE.has(data)),
  construct: (data: string) => TRUE.has(data),
  predicate: (data: unknown) => typeof data === 'boolean',
  represent: (data: unknown) => (data ? 'true' : 'false'),
});

const goInt = new yaml.Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: unknown) => typeof data === 'string' && goNumber(data)?.kind === 'int',
  construct: (data: string) => goNumber(data)!.value,
  predicate: (data: unknown) => typeof data === 'number' && Number.isInteger(data),
  represent: (data: unknown) => String(data),
});

const goFloat = new yaml.Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  // `!!float 1` is 1.0 in go-yaml, so integers resolve as floats too (implicitly they are ints: goInt comes first).
  resolve: (data: unknown) => typeof data === 'string' && (SPECIAL_FLOATS.has(data) || goNumber(data) !== undefined),
  construct: (data: string) => SPECIAL_FLOATS.get(data) ?? goNumber(data)!.value,
  predicate: (data: unknown) => typeof data === 'number' && !Number.isInteger(data),
  represent: (data: unknown) => (Number.isNaN(data) ? '.nan' : data === Number.POSITIVE_INFINITY ? '.inf' : data === Number.NEGATIVE_INFINITY ? '-.inf' : String(data)),
});

/** js-yaml's own `<<` merge type (exported as `types.merge`; missing from @types/js-yaml). */
const mergeType = (yaml as unknown as { types: { merge: yaml.Type } }).types.merge;

/** The schema Kubernetes effectively uses (go-yaml v2 scalar resolution), built on js-yaml's failsafe schema. */
export const KUBE_YAML_SCHEMA = yaml.FAILSAFE_SCHEMA.extend({ implicit: [goNull, goBool, goInt, goFloat, mergeType] });

/** A js-yaml syntax (or resolution) error, with its 0-based mark. */
export const YAMLException = yaml.YAMLException;
export type YAMLException = yaml.YAMLException;

export function isYamlException(err: unknown): err is yaml.YAMLException {
  return err instanceof yaml.YAMLException;
}

/** 1-based line and column of a loader error, when it has a position. */
export function yamlErrorPosition(err: unknown): { line: number; column: number; reason: string } | undefined {
  if (!isYamlException(err) || typeof err.mark?.line !== 'number') return undefined;
  return { line: err.mark.line + 1, column: err.mark.column + 1, reason: err.reason || err.message.split('\n')[0]! };
}

/** One YAML document (`undefined` for an empty stream). */
export function loadYaml(text: string, filename?: string): unknown {
  return yaml.load(text, { schema: KUBE_YAML_SCHEMA, ...(filename ? { filename } : {}) });
}

/** Every document of a YAML stream, in order (empty documents are `null`). */
export function loadYamlAll(text: string, filename?: string): unknown[] {
  return yaml.loadAll(text, null, { schema: KUBE_YAML_SCHEMA, ...(filename ? { filename } : {}) });
}

/** YAML text of a value (for messages and tests), with the same schema. */
export function dumpYaml(value: unknown): string {
  return yaml.dump(value, { schema: KUBE_YAML_SCHEMA, noRefs: true, lineWidth: -1 });
}

/** One YAML document of a file, with the 1-based line it starts on. */
export interface YamlDocument {
  readonly doc: unknown;
  /** 1-based line of the document's first line (after its `---`). */
  readonly line: number;
  /** The document's source text. */
  readonly text: string;
}

/** A YAML syntax error: `line` is 1-based. */
export class YamlSyntaxError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line: number | undefined) {
    super(message);
    this.name = 'YamlSyntaxError';
    this.line = line;
  }
}

/**
 * Splits a multi-document YAML stream at `---` lines and parses each document separately, so each knows the
 * line it starts on. Empty documents (only comments) are dropped. Throws YamlSyntaxError with the file line.
 */
export function parseYamlStream(text: string, filename?: string): YamlDocument[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const chunks: { start: number; lines: string[] }[] = [{ start: 0, lines: [] }];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^---(\s|$)/.test(l)) {
      chunks.push({ start: i, lines: [' '.repeat(3) + l.slice(3)] });
    } else if (/^\.\.\.(\s|$)/.test(l)) {
      chunks.push({ start: i + 1, lines: [] });
    } else {
      chunks[chunks.length - 1]!.lines.push(l);
    }
  }
  const out: YamlDocument[] = [];
  for (const c of chunks) {
    const src = c.lines.join('\n');
    if (!/^\s*[^\s#%]/m.test(src)) continue;
    let doc: unknown;
    try {
      doc = loadYaml(src, filename);
    } catch (err) {
      const e = err as yaml.YAMLException & { mark?: { line: number } };
      const line = e.mark ? c.start + e.mark.line + 1 : undefined;
      throw new YamlSyntaxError(line ? `${e.reason ?? e.message} (line ${line})` : (e.reason ?? e.message), line);
    }
    if (doc === null || doc === undefined) continue;
    const first = c.lines.findIndex((l) => /^\s*[^\s#]/.test(l));
    out.push({ doc, line: c.start + Math.max(0, first) + 1, text: src });
  }
  return out;
}

/** Only the documents. */
export function loadYamlDocuments(text: string, filename?: string): unknown[] {
  return parseYamlStream(text, filename).map((d) => d.doc);
}
