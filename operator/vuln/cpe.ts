/**
 * CPE names (NISTIR 7695, CPE 2.3 Naming) and name matching (NISTIR 7696, CPE 2.3 Name Matching), for
 * matching SBOM components against NVD configurations. No maintained npm library implements the binding
 * and matching specifications, so this is a small implementation of exactly what matching needs:
 *
 *  - the formatted-string binding `cpe:2.3:part:vendor:product:version:update:edition:language:sw_edition:
 *    target_sw:target_hw:other` (§6.2): `\` quotes the next character, a lone `*` is ANY, a lone `-` is NA,
 *    unquoted `*` / `?` at the start or end of a value are wildcards (anywhere else they make the name
 *    invalid);
 *  - the URI binding `cpe:/part:vendor:product:version:update:edition:language` (§6.1, CPE 2.2; percent
 *    encoding; an empty or missing component is ANY, `-` is NA);
 *  - attribute comparison (NISTIR 7696 §6.1, Table 6-2): a criterion matches a component name when every
 *    attribute relation is SUPERSET or EQUAL; a SUBSET relation (the component says ANY where the criterion
 *    is specific) is reported as undecided, never as a non-match.
 *
 * Values compare case-insensitively (CPE dictionary values are lower-case).
 */

export const CPE_ATTRIBUTES = ['part', 'vendor', 'product', 'version', 'update', 'edition', 'language', 'sw_edition', 'target_sw', 'target_hw', 'other'] as const;
export type CpeAttribute = (typeof CPE_ATTRIBUTES)[number];

/** One attribute value of a well-formed name: ANY, NA, or a string (possibly with leading/trailing wildcards). */
export type CpeValue =
  | { readonly kind: 'ANY' }
  | { readonly kind: 'NA' }
  | {
      readonly kind: 'value';
      /** The unquoted literal part, lower-cased. */
      readonly text: string;
      /** Leading wildcard: `*` (any number) or a count of `?` (one each). */
      readonly prefix?: '*' | number;
      readonly suffix?: '*' | number;
    };

export type Cpe = Readonly<Record<CpeAttribute, CpeValue>>;

export class CpeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CpeError';
  }
}

const ANY: CpeValue = { kind: 'ANY' };
const NA: CpeValue = { kind: 'NA' };
const MAX_CPE_LENGTH = 2048;

/** Unbind one formatted-string value (NISTIR 7695 §6.2.3, unbind_value_fs). */
function unbindFs(raw: string, attr: CpeAttribute): CpeValue {
  if (raw === '*') return ANY;
  if (raw === '-') return NA;
  if (raw === '') throw new CpeError(`empty ${attr}`);
  let text = '';
  let prefix: '*' | number | undefined;
  let suffix: '*' | number | undefined;
  let i = 0;
  // leading wildcards
  if (raw[0] === '*') {
    prefix = '*';
    i = 1;
  } else {
    let q = 0;
    while (raw[i] === '?') {
      q++;
      i++;
    }
    if (q > 0) prefix = q;
  }
  let end = raw.length;
  // trailing wildcards (unquoted)
  const quotedAt = (k: number): boolean => {
    let n = 0;
    for (let j = k - 1; j >= 0 && raw[j] === '\\'; j--) n++;
    return n % 2 === 1;
  };
  if (end > i && raw[end - 1] === '*' && !quotedAt(end - 1)) {
    suffix = '*';
    end--;
  } else {
    let q = 0;
    while (end > i && raw[end - 1] === '?' && !quotedAt(end - 1)) {
      q++;
      end--;
    }
    if (q > 0) suffix = q;
  }
  for (let k = i; k < end; k++) {
    const c = raw[k]!;
    if (c === '\\') {
      const n = raw[k + 1];
      if (n === undefined || k + 1 >= end) throw new CpeError(`${attr}: dangling "\\"`);
      text += n;
      k++;
    } else if (c === '*' || c === '?') {
      throw new CpeError(`${attr}: unquoted "${c}" inside a value`);
    } else if (/[\s]/.test(c)) {
      throw new CpeError(`${attr}: whitespace is not allowed`);
    } else text += c;
  }
  if (text === '' && prefix === undefined && suffix === undefined) throw new CpeError(`empty ${attr}`);
  return { kind: 'value', text: text.toLowerCase(), ...(prefix !== undefined ? { prefix } : {}), ...(suffix !== undefined ? { suffix } : {}) };
}

/** Split a formatted string on unquoted colons. */
function splitFs(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!;
      i++;
    } else if (c === ':') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function parseFs(s: string): Cpe {
  const parts = splitFs(s);
  if (parts.length !== 13) throw new CpeError(`a CPE 2.3 formatted string has 13 colon-separated parts, this one ${parts.length}`);
  const out: Partial<Record<CpeAttribute, CpeValue>> = {};
  CPE_ATTRIBUTES.forEach((a, i) => {
    out[a] = unbindFs(parts[i + 2]!, a);
  });
  return finish(out as Cpe);
}

function parseUri(s: string): Cpe {
  const parts = s.slice(5).split(':');
  if (parts.length > 7) throw new CpeError('a CPE 2.2 URI has at most 7 components');
  const out: Partial<Record<CpeAttribute, CpeValue>> = {};
  CPE_ATTRIBUTES.forEach((a, i) => {
    const raw = i < 7 ? parts[i] : undefined;
    if (raw === undefined || raw === '') out[a] = ANY;
    else if (raw === '-') out[a] = NA;
    else {
      let text: string;
      try {
        text = decodeURIComponent(raw);
      } catch {
        throw new CpeError(`${a}: bad percent-encoding`);
      }
      if (/[\s*?]/.test(text)) throw new CpeError(`${a}: "${text.slice(0, 40)}" is not a CPE 2.2 value`);
      out[a] = { kind: 'value', text: text.toLowerCase() };
    }
  });
  return finish(out as Cpe);
}

function finish(c: Cpe): Cpe {
  const part = c.part;
  if (part.kind === 'value' && (part.prefix !== undefined || part.suffix !== undefined || !['a', 'o', 'h'].includes(part.text))) {
    throw new CpeError('part must be "a", "o" or "h"');
  }
  return c;
}

/** Parse a CPE 2.3 formatted string or a CPE 2.2 URI. Throws CpeError. */
export function parseCpe(name: string): Cpe {
  const s = name.trim();
  if (s.length > MAX_CPE_LENGTH) throw new CpeError(`longer than ${MAX_CPE_LENGTH} characters`);
  if (/^cpe:2\.3:/i.test(s)) return parseFs(s.slice(0, 8).toLowerCase() + s.slice(8));
  if (/^cpe:\//i.test(s)) return parseUri(s);
  throw new CpeError('neither a CPE 2.3 formatted string ("cpe:2.3:…") nor a CPE 2.2 URI ("cpe:/…")');
}

/** Parse, or undefined. */
export function tryParseCpe(name: string): Cpe | undefined {
  try {
    return parseCpe(name);
  } catch {
    return undefined;
  }
}

/** The literal value of an attribute without wildcards, or undefined. */
export function literal(v: CpeValue): string | undefined {
  return v.kind === 'value' && v.prefix === undefined && v.suffix === undefined ? v.text : undefined;
}

function wildcardMatches(pattern: Extract<CpeValue, { kind: 'value' }>, target: string): boolean {
  const { text, prefix, suffix } = pattern;
  const idx: number[] = [];
  for (let from = 0; ; ) {
    const i = target.indexOf(text, from);
    if (i < 0) break;
    idx.push(i);
    from = i + 1;
  }
  return idx.some((i) => {
    const before = i;
    const after = target.length - i - text.length;
    const okBefore = prefix === undefined ? before === 0 : prefix === '*' ? true : before === prefix;
    const okAfter = suffix === undefined ? after === 0 : suffix === '*' ? true : after === suffix;
    return okBefore && okAfter;
  });
}

export type CpeRelation = 'EQUAL' | 'SUPERSET' | 'SUBSET' | 'DISJOINT' | 'UNDEFINED';

/** NISTIR 7696 Table 6-2: the relation of a source (criterion) attribute value to a target (component) one. */
export function compareAttribute(source: CpeValue, target: CpeValue): CpeRelation {
  if (target.kind === 'value' && (target.prefix !== undefined || target.suffix !== undefined)) return 'UNDEFINED';
  if (source.kind === 'ANY') return target.kind === 'ANY' ? 'EQUAL' : 'SUPERSET';
  if (source.kind === 'NA') return target.kind === 'NA' ? 'EQUAL' : target.kind === 'ANY' ? 'SUBSET' : 'DISJOINT';
  if (target.kind === 'ANY') return 'SUBSET';
  if (target.kind === 'NA') return 'DISJOINT';
  if (source.prefix === undefined && source.suffix === undefined) return source.text === target.text ? 'EQUAL' : 'DISJOINT';
  return wildcardMatches(source, target.text) ? 'SUPERSET' : 'DISJOINT';
}

export interface CpeMatchResult {
  readonly match: boolean;
  /** Set when the relation cannot be decided (the component's name is less specific than the criterion). */
  readonly undecided?: string;
}

/**
 * Whether criterion `source` matches the component name `target`, comparing every attribute except those in
 * `skip` (e.g. `version`, when a version range decides it). DISJOINT anywhere: no match. Otherwise SUBSET /
 * UNDEFINED anywhere: undecided (the caller fails closed).
 */
export function cpeMatches(source: Cpe, target: Cpe, skip: readonly CpeAttribute[] = []): CpeMatchResult {
  let undecided: string | undefined;
  for (const a of CPE_ATTRIBUTES) {
    if (skip.includes(a)) continue;
    const r = compareAttribute(source[a], target[a]);
    if (r === 'DISJOINT') return { match: false };
    if (r === 'SUBSET' || r === 'UNDEFINED') undecided ??= `the component's CPE does not state ${a} (the criterion requires ${formatValue(source[a])})`;
  }
  return undecided ? { match: true, undecided } : { match: true };
}

export function formatValue(v: CpeValue): string {
  if (v.kind === 'ANY') return '*';
  if (v.kind === 'NA') return '-';
  const w = (x: '*' | number | undefined) => (x === undefined ? '' : x === '*' ? '*' : '?'.repeat(x));
  return `${w(v.prefix)}${v.text}${w(v.suffix)}`;
}
