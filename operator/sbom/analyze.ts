/**
 * analyzeSbom(): bytes -> format, schema validity and the format-neutral model. CPU-bound; the evidence
 * collector runs it in a worker thread for large documents (./worker.ts). Never throws.
 */
import { createHash } from 'node:crypto';
import { buildModel } from './model.ts';
import type { SbomModel } from './model.ts';
import { DEFAULT_LIMITS, SbomInputError, parseSbomText } from './parse.ts';
import type { SbomFormat, SbomInputProblem, SbomLimits } from './parse.ts';
import { validateSchema } from './schema.ts';
import type { SchemaResult } from './schema.ts';

export interface SbomAnalysisOk {
  readonly ok: true;
  /** `sha256:<hex>` of the bytes analysed. */
  readonly digest: string;
  readonly sizeBytes: number;
  readonly format: SbomFormat;
  readonly specVersion: string;
  readonly schema: SchemaResult;
  readonly model: SbomModel;
}

export interface SbomAnalysisFailed {
  readonly ok: false;
  readonly digest: string;
  readonly sizeBytes: number;
  readonly reason: SbomInputProblem | 'SbomDigestMismatch';
  readonly message: string;
}

export type SbomAnalysis = SbomAnalysisOk | SbomAnalysisFailed;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function analyzeSbom(bytes: Uint8Array | string, limits: SbomLimits = DEFAULT_LIMITS): SbomAnalysis {
  const sizeBytes = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  const digest = `sha256:${sha256Hex(bytes)}`;
  try {
    const det = parseSbomText(bytes, limits);
    const model = buildModel(det, limits.maxComponents);
    const schema = validateSchema(det);
    return { ok: true, digest, sizeBytes, format: det.format, specVersion: det.specVersion, schema, model };
  } catch (err) {
    if (err instanceof SbomInputError) return { ok: false, digest, sizeBytes, reason: err.reason, message: err.message };
    if (err instanceof RangeError) {
      // Component limit, or a stack overflow on hostile input: bounded, reported, never a crash.
      return { ok: false, digest, sizeBytes, reason: 'SbomTooLarge', message: err.message.slice(0, 200) };
    }
    return { ok: false, digest, sizeBytes, reason: 'SbomUnparseable', message: err instanceof Error ? err.message.slice(0, 200) : String(err) };
  }
}
