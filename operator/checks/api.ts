/**
 * The API types the engine uses, from the CRD-generated `operator/api/types.ts`. Status shapes are narrowed
 * to what the engine always fills in (reason, message and cra are always set on a check it reports).
 */
import type { CheckResult as GenCheckResult, ReleaseSummary } from '../api/types.ts';

export type {
  Manufacturer,
  PolicyCheck as PolicyCheckEntry,
  ProductRelease,
  ProductReleaseSpec,
  ReleasePolicy,
  ReleasePolicySpec,
} from '../api/types.ts';

/** One element of `status.checks[]`, as the engine produces it. */
export type StatusCheck = GenCheckResult & { reason: string; message: string; cra: string[] };

/** `status.summary`, every count present. */
export type StatusSummary = Required<ReleaseSummary>;
