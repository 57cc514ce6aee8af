/**
 * analyzeSbom(): bytes -> format, schema validity and the format-neutral model. CPU-bound; the evidence
 * collector runs it in a worker thread for large documents (./worker.ts). Never throws.
 */
import { createHash } from 'node:crypto';
import { buildModel } from './model.ts';
import type { SbomModel } from './model.ts';
import type { SbomRuleFindings } from './compact.ts';
import { DEFAULT_LIMITS, SbomInputError, parseSbomText } from './parse.ts';
import type { SbomFormat, SbomInputProblem, SbomLimits } from './parse.ts';
import { validateSchema } from './schema.ts';
import type { SchemaResult } from './schema.ts';
import { toXPath, validateCycloneDxXml } from './xml.ts';

export interface SbomAnalysisOk {
  readonly ok: true;
  /** `sha256:<hex>` of the bytes analysed. */
  readonly digest: string;
  readonly sizeBytes: number;
  readonly format: SbomFormat;
  readonly specVersion: string;
  /** `xml`: CycloneDX XML; the model's JSON pointers then translate to XPath with `findingPointer`. */
  readonly syntax: 'json' | 'xml';
  readonly schema: SchemaResult;
  /**
   * Present exactly when `model` is the compact one (./compact.ts): the model rules' findings, computed on the full
   * model before it was reduced. Then never run a model rule on `model`; read these (`ruleFindings`).
   */
  readonly findings?: SbomRuleFindings;
  readonly model: SbomModel;
}

/** How a finding names a place in this SBOM: the JSON pointer, or for XML the XPath it maps to. */
export function findingPointer(a: Pick<SbomAnalysisOk, 'syntax'>, pointer: string): string {
  if (a.syntax !== 'xml') return pointer;
  if (pointer === '' || pointer === '/') return '/bom';
  return pointer.startsWith('/') && !pointer.startsWith('/bom') ? toXPath(pointer) : pointer;
}

/** A rule finding with its pointers (and the pointers quoted in its message) as XPath for an XML SBOM. */
export function localiseFinding<T extends { readonly pointer: string; readonly pointers?: readonly string[]; readonly message: string }>(a: Pick<SbomAnalysisOk, 'syntax'>, f: T): T {
  if (a.syntax !== 'xml') return f;
  return {
    ...f,
    pointer: findingPointer(a, f.pointer),
    ...(f.pointers ? { pointers: f.pointers.map((p) => findingPointer(a, p)) } : {}),
    message: f.message.replace(/(?<=[(\s,])\/(?!bom\b)[^\s,)]*/g, (p) => toXPath(p)),
  };
}

export interface SbomAnalysisFailed {
  readonly ok: false;
  readonly digest: string;
  readonly sizeBytes: number;
  readonly reason: SbomInputProblem | 'SbomDigestMismatch' | 'MemoryBudgetExceeded' | 'MemoryBudgetBusy';
  readonly message: string;
}

export type SbomAnalysis = SbomAnalysisOk | SbomAnalysisFailed;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Synchronous analysis. CycloneDX XML is parsed and modelled, but its XSD validation is asynchronous
 * (`analyzeSbomAsync`): here its schema result is invalid (fail closed), never assumed.
 */
export function analyzeSbom(bytes: Uint8Array | string, limits: SbomLimits = DEFAULT_LIMITS): SbomAnalysis {
  return analyse(bytes, limits, (det) =>
    det.syntax === 'xml'
      ? {
          schema: 'none',
          schemaName: `CycloneDX ${det.specVersion} XML (bom-${det.specVersion}.xsd)`,
          valid: false,
          errorCount: 1,
          problems: [{ pointer: '/bom', message: 'XML is validated against the XSD only by the asynchronous analysis; not validated' }],
        }
      : validateSchema(det),
  );
}

/** The analysis the operator and the CLI run: like `analyzeSbom`, with CycloneDX XML validated against its XSD. */
export async function analyzeSbomAsync(bytes: Uint8Array | string, limits: SbomLimits = DEFAULT_LIMITS): Promise<SbomAnalysis> {
  let xml: { text: string; version: string } | undefined;
  const a = analyse(bytes, limits, (det) => {
    if (det.syntax !== 'xml') return validateSchema(det);
    xml = { text: det.text ?? '', version: det.specVersion };
    return { schema: 'none', schemaName: '', valid: false, errorCount: 0, problems: [] };
  });
  if (!a.ok || !xml) return a;
  return { ...a, schema: await validateCycloneDxXml(xml.text, xml.version) };
}

function analyse(bytes: Uint8Array | string, limits: SbomLimits, schemaOf: (det: ReturnType<typeof parseSbomText>) => SchemaResult): SbomAnalysis {
  const sizeBytes = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  const digest = `sha256:${sha256Hex(bytes)}`;
  try {
    const det = parseSbomText(bytes, limits);
    const model = buildModel(det, limits.maxComponents);
    const schema = schemaOf(det);
    return { ok: true, digest, sizeBytes, format: det.format, specVersion: det.specVersion, syntax: det.syntax ?? 'json', schema, model };
  } catch (err) {
    if (err instanceof SbomInputError) return { ok: false, digest, sizeBytes, reason: err.reason, message: err.message };
    if (err instanceof RangeError) {
      // Component limit, or a stack overflow on hostile input: bounded, reported, never a crash.
      return { ok: false, digest, sizeBytes, reason: 'SbomTooLarge', message: err.message.slice(0, 200) };
    }
    return { ok: false, digest, sizeBytes, reason: 'SbomUnparseable', message: err instanceof Error ? err.message.slice(0, 200) : String(err) };
  }
}
