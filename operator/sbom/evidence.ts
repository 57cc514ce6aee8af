/**
 * The `sboms` evidence field: one entry per SBOM document found for an artifact of the release. Filled by the
 * `spec.sboms[]` collector (../evidence/sbom.ts); the registry/OCI collector adds SBOMs found next to images
 * (attestations, referrers) to the same field with its own `source`.
 */
import type { Reason } from '../errors.ts';
import type { SbomAnalysis } from './analyze.ts';

export interface SbomEvidence {
  /** `spec.artifacts[].name` this SBOM describes. */
  readonly artifact: string;
  /** Human description of where it came from: `ConfigMap acme/fw-sbom key bom.json`, `https://…`, `OCI referrer …`. */
  readonly source: string;
  /** Where it is declared in the ProductRelease, e.g. `/spec/sboms/1` (absent for registry-discovered SBOMs). */
  readonly specPointer?: string;
  /**
   * `sha256:<hex>` of the image this SBOM is cryptographically bound to, set only by the registry collector: the
   * in-toto subject of an SBOM attestation that verified against the policy's trust (or the subject of a trusted,
   * signed attached SBOM) and equals the image digest it resolved. The binding lives outside the document, so an
   * SBOM generated from sources (no hash of the built image inside) can still be tied to what ships.
   */
  readonly boundDigest?: string;
  /** The analysis, or why the document could not be obtained (fetch/read failure: transient or refused). */
  readonly analysis: SbomAnalysis | SbomUnavailable;
}

/** The document could not be read at all (as opposed to read but unusable). */
export interface SbomUnavailable {
  readonly ok: false;
  readonly unavailable: true;
  readonly reason: Reason;
  readonly message: string;
}


/**
 * Whether an SBOM could not be assessed at all (checks end in Error, fail closed): it could not be read, or its
 * analysis did not fit the operator's memory budget, or not now (issue 16) — neither says anything about the document.
 */
export function notAssessed(a: SbomAnalysis | SbomUnavailable): a is SbomUnavailable | (SbomAnalysis & { ok: false; reason: 'MemoryBudgetExceeded' | 'MemoryBudgetBusy' }) {
  return !a.ok && ('unavailable' in a || a.reason === 'MemoryBudgetExceeded' || a.reason === 'MemoryBudgetBusy');
}
