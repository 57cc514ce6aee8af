/**
 * Turning SBOM bytes into a JSON value, with bounded cost: a size limit, a nesting-depth limit checked on the
 * raw text before JSON.parse (so no later recursive walk can overflow the stack), and format detection
 * (CycloneDX JSON, SPDX 2.x JSON, SPDX 3 JSON-LD; CycloneDX/SPDX XML and tag-value are recognised and
 * reported as unsupported).
 */

import { CDX_XML_VERSIONS, cycloneDxXmlVersion, parseCycloneDxXml, xmlDepthExceeds } from './xml.ts';

export type SbomFormat = 'CycloneDX' | 'SPDX';

export interface SbomLimits {
  /** Maximum document size in bytes. */
  readonly maxBytes: number;
  /** Maximum JSON nesting depth (objects + arrays). */
  readonly maxDepth: number;
  /** Maximum number of components/packages/elements. */
  readonly maxComponents: number;
}

export const DEFAULT_LIMITS: SbomLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 128, maxComponents: 500_000 };

/** Heap of the analysis worker (MiB), see ../evidence/sbom.ts. */
export const WORKER_HEAP_MB = 1536;
/**
 * Memory per SBOM byte during a full analysis, rounded up from docs/benchmarks.md (35.6 MiB → 510 MiB peak RSS of
 * the whole process, about 14×, of which the process baseline is ~70 MiB: ≈ 12×).
 */
export const ANALYSIS_BYTES_PER_BYTE = 12;
/** The hard ceiling of `spec.limits.sbomMaxBytes`: the worker heap over the memory per byte (128 MiB). */
export const SBOM_MAX_BYTES_CEILING = Math.floor((WORKER_HEAP_MB * 1024 * 1024) / ANALYSIS_BYTES_PER_BYTE);
/** The policy field that raises the SBOM size limit (named in every SbomTooLarge message). */
export const SBOM_MAX_BYTES_PARAM = 'ReleasePolicy spec.limits.sbomMaxBytes';

/** "above the limit of N bytes (raise it with …, at most …)": what an SbomTooLarge message ends with. */
export function sizeLimitHint(maxBytes: number): string {
  return maxBytes >= SBOM_MAX_BYTES_CEILING
    ? `the limit of ${maxBytes} bytes (${SBOM_MAX_BYTES_PARAM} is at its ceiling of ${SBOM_MAX_BYTES_CEILING}, set by the analysis worker's ${WORKER_HEAP_MB} MiB heap)`
    : `the limit of ${maxBytes} bytes (raise it with ${SBOM_MAX_BYTES_PARAM}, at most ${SBOM_MAX_BYTES_CEILING})`;
}

/** The limits a policy asks for: `spec.limits.sbomMaxBytes` (an integer, at most the ceiling), else the defaults. */
export function limitsForPolicy(policySpec: unknown, base: SbomLimits = DEFAULT_LIMITS): SbomLimits {
  const lim = typeof policySpec === 'object' && policySpec !== null ? (policySpec as { limits?: unknown }).limits : undefined;
  const v = typeof lim === 'object' && lim !== null ? (lim as { sbomMaxBytes?: unknown }).sbomMaxBytes : undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1024) return base;
  // Never above the ceiling, whatever the (unvalidated) input says: the CRD and validatePolicySpec reject it.
  return { ...base, maxBytes: Math.min(v, SBOM_MAX_BYTES_CEILING) };
}

/** Why a document could not be used at all (reported as Error / exit code 2). */
export type SbomInputProblem = 'SbomTooLarge' | 'SbomUnparseable' | 'SbomFormatUnsupported';

export class SbomInputError extends Error {
  readonly reason: SbomInputProblem;
  constructor(reason: SbomInputProblem, message: string) {
    super(message);
    this.name = 'SbomInputError';
    this.reason = reason;
  }
}

export interface DetectedSbom {
  readonly format: SbomFormat;
  /** `xml` for CycloneDX XML (`doc` is then its mapping onto the JSON structure; `text` the XML for the XSD). */
  readonly syntax?: 'json' | 'xml';
  readonly text?: string;
  /** `1.6` for CycloneDX, `2.3` / `3.0.1` for SPDX. */
  readonly specVersion: string;
  readonly doc: Record<string, unknown>;
  /** True when the JSON text was scanned and holds no number that parses to ±Infinity (parseSbomText). */
  readonly finiteNumbers?: boolean;
}

/** What one pass over a JSON text tells before it is parsed. */
export interface JsonScan {
  /** Nesting (objects + arrays) deeper than the limit; the scan stopped there. */
  readonly tooDeep: boolean;
  /**
   * No number in the text can parse to ±Infinity: none has an exponent and none has a run of 300 or more digits
   * (a number without exponent reaches Number.MAX_VALUE only with 309 integer digits). False means "maybe": the
   * parsed value must then be searched (../util/json.ts nonFinitePointers).
   */
  readonly finiteNumbers: boolean;
}

/** A run of this many digits might overflow (see JsonScan.finiteNumbers). */
const LONG_DIGIT_RUN = 300;

/**
 * One pass over a JSON text, outside strings only: nesting depth against `limit` (stops early once exceeded) and
 * whether a number could overflow. O(n), no allocation: a string is skipped with indexOf to its closing quote (a
 * quote preceded by an odd number of backslashes is escaped), which is where SBOM text mostly is.
 */
export function scanJson(text: string, limit: number): JsonScan {
  let depth = 0;
  let digits = 0;
  let finiteNumbers = true;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++digits >= LONG_DIGIT_RUN) finiteNumbers = false;
      continue;
    }
    // An exponent: `e`/`E` right after a digit (outside strings, `e` is otherwise only in true/false).
    if ((c === 0x65 || c === 0x45) && digits > 0) finiteNumbers = false;
    digits = 0;
    if (c === 0x22) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return { tooDeep: false, finiteNumbers }; // unterminated string: nothing more is structure (JSON.parse rejects it)
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return { tooDeep: true, finiteNumbers: false };
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { tooDeep: false, finiteNumbers };
}

/** Whether a JSON text nests deeper than `limit` (objects + arrays), outside strings; see scanJson. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  return scanJson(text, limit).tooDeep;
}

function firstSignificant(text: string): string {
  const m = /^[\s\uFEFF]*(\S)/.exec(text.slice(0, 4096));
  return m?.[1] ?? '';
}

/** Decode, check limits, parse and detect the format. Throws SbomInputError. */
export function parseSbomText(bytes: Uint8Array | string, limits: SbomLimits = DEFAULT_LIMITS): DetectedSbom {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > limits.maxBytes) {
    throw new SbomInputError('SbomTooLarge', `document is ${size} bytes, above ${sizeLimitHint(limits.maxBytes)}`);
  }
  if (size === 0) throw new SbomInputError('SbomUnparseable', 'document is empty');
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SbomInputError('SbomUnparseable', 'document is not valid UTF-8');
  }
  const first = firstSignificant(text);
  if (first === '<') {
    const head = text.slice(0, 4096);
    const cdx = cycloneDxXmlVersion(head);
    if (cdx !== undefined) {
      if (!(CDX_XML_VERSIONS as readonly string[]).includes(cdx)) {
        throw new SbomInputError('SbomFormatUnsupported', `CycloneDX XML ${cdx} is not supported (XSDs bundled: ${CDX_XML_VERSIONS.join(', ')})`);
      }
      if (xmlDepthExceeds(text, limits.maxDepth)) throw new SbomInputError('SbomUnparseable', `XML nesting is deeper than ${limits.maxDepth} levels`);
      let doc: Record<string, unknown>;
      try {
        doc = parseCycloneDxXml(text, cdx);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new SbomInputError('SbomUnparseable', `invalid CycloneDX XML: ${msg.slice(0, 160)}`);
      }
      return { format: 'CycloneDX', specVersion: cdx, doc, syntax: 'xml', text };
    }
    const what = /cyclonedx\.org\/schema\/bom/i.test(head) ? 'XML in a CycloneDX namespace this build does not know' : /spdx/i.test(head) ? 'SPDX RDF/XML' : 'XML';
    throw new SbomInputError(
      'SbomFormatUnsupported',
      `${what} is not supported: provide the SBOM as CycloneDX JSON (1.4–1.7) or XML (1.2–1.7), SPDX 2.2/2.3 JSON or SPDX 3.0.1 JSON-LD`,
    );
  }
  if (/^SPDXVersion:/m.test(text.slice(0, 4096))) {
    throw new SbomInputError('SbomFormatUnsupported', 'SPDX tag-value is not supported: provide SPDX JSON');
  }
  if (first !== '{') {
    throw new SbomInputError('SbomUnparseable', 'document is not a JSON object');
  }
  const scan = scanJson(text, limits.maxDepth);
  if (scan.tooDeep) {
    throw new SbomInputError('SbomUnparseable', `JSON nesting is deeper than ${limits.maxDepth} levels`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new SbomInputError('SbomUnparseable', `invalid JSON: ${msg.slice(0, 160)}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SbomInputError('SbomUnparseable', 'document is not a JSON object');
  }
  return detectFormat(doc as Record<string, unknown>, scan.finiteNumbers);
}

/** `finiteNumbers`: the text was scanned and no number in it can be non-finite (JsonScan.finiteNumbers). */
export function detectFormat(doc: Record<string, unknown>, finiteNumbers = false): DetectedSbom {
  const det = detectFormatOf(doc);
  return finiteNumbers ? { ...det, finiteNumbers } : det;
}

function detectFormatOf(doc: Record<string, unknown>): DetectedSbom {
  if (doc.bomFormat === 'CycloneDX') {
    const v = doc.specVersion;
    if (typeof v !== 'string' || !/^1\.\d+$/.test(v)) {
      throw new SbomInputError('SbomFormatUnsupported', `CycloneDX document has no usable specVersion (${JSON.stringify(v)?.slice(0, 40)})`);
    }
    return { format: 'CycloneDX', specVersion: v, doc };
  }
  if (typeof doc.spdxVersion === 'string') {
    const m = /^SPDX-(\d+\.\d+(?:\.\d+)?)$/.exec(doc.spdxVersion);
    if (!m) throw new SbomInputError('SbomFormatUnsupported', `unrecognised spdxVersion ${JSON.stringify(doc.spdxVersion).slice(0, 40)}`);
    return { format: 'SPDX', specVersion: m[1]!, doc };
  }
  const ctx = doc['@context'];
  const ctxText = typeof ctx === 'string' ? ctx : Array.isArray(ctx) ? ctx.filter((c) => typeof c === 'string').join(' ') : '';
  const m3 = /spdx\.org\/rdf\/(3\.\d+(?:\.\d+)?)\//.exec(ctxText);
  if (m3) return { format: 'SPDX', specVersion: m3[1]!, doc };
  if (doc.bomFormat !== undefined) {
    throw new SbomInputError('SbomFormatUnsupported', `unknown bomFormat ${JSON.stringify(doc.bomFormat).slice(0, 40)}`);
  }
  throw new SbomInputError(
    'SbomFormatUnsupported',
    'not a recognised SBOM: expected CycloneDX JSON (bomFormat), SPDX 2 JSON (spdxVersion) or SPDX 3 JSON-LD (@context)',
  );
}

/** Compare dotted versions numerically: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
