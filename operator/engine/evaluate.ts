/**
 * evaluate(): the single entry point shared by the operator and the offline CLI. Pure: no Kubernetes IO, no
 * clock (time comes from `now`), no network. Never throws; fails closed (an error is never Approved).
 */
import { toleranceDays } from '../policy/placed-on-market.ts';
import { errorMessage } from '../errors.ts';
import type { Reason } from '../errors.ts';
import { checkRegistry } from '../checks/index.ts';
import type { CheckDefinition, Evidence, Finding } from '../checks/types.ts';
import type { ProductRelease, ReleasePolicy, StatusCheck, StatusSummary } from '../checks/api.ts';
import { assessEntry, decide } from '../decision/decide.ts';
import { tryParseDuration } from '../policy/duration.ts';
import { validatePolicySpec } from '../policy/validate.ts';
import type { ConformityStatus, ExploitedVulnerability, VulnerabilityCoverage } from '../api/types.ts';
import { productCategory } from '../conformity/categories.ts';
import { exploitedClock, newlyExploitedReason } from '../vuln/art14.ts';
import { vulnerabilityCoverage } from '../vuln/coverage.ts';

/** Periodic re-evaluation is never more frequent than this, whatever the policy says (no polling). */
export const MIN_REEVALUATE_MS = 60_000;
/** setTimeout's maximum delay; longer waits are re-armed by the caller. */
export const MAX_REQUEUE_MS = 2_147_483_647;

export interface EvaluateInput {
  readonly release: ProductRelease;
  readonly policy: ReleasePolicy | undefined;
  /** The policy the release refers to (spec.policyRef, or the CLI's --policy name). */
  readonly policyName: string;
  readonly now: Date;
  readonly evidence?: Evidence;
  readonly registry?: ReadonlyMap<string, CheckDefinition>;
}

export type DecisionValue = 'Pending' | 'Approved' | 'Blocked';

export interface Evaluation {
  readonly decision: DecisionValue;
  readonly reason: Reason;
  readonly message: string;
  /** Exactly the `status.checks[]` shape, in policy order. */
  readonly checks: StatusCheck[];
  readonly summary: StatusSummary;
  readonly policy?: { name: string; generation?: number };
  /** Time until the next date that changes the outcome, or `reevaluateEvery`, whichever is sooner. */
  readonly requeueAfterMs?: number;
  /** A blocking check errored for a transient reason (e.g. EvidenceUnavailable): retry with backoff. */
  readonly retryable: boolean;
  /** Art. 14 clock: actively exploited vulnerabilities affecting the release (status.exploited). */
  readonly exploited?: ExploitedVulnerability[];
  /** How many SBOM components the vulnerability feeds could assess (status.vulnerabilityCoverage). */
  readonly vulnerabilityCoverage?: VulnerabilityCoverage;
  /** Findings per check id (for `describe`-style output and the CLI; not written to status). */
  readonly findings: Readonly<Record<string, readonly Finding[]>>;
  /** The product's CRA category and declared conformity procedure (status.conformity), when declared. */
  readonly conformity?: ConformityStatus;
}

/** `status.conformity`: category, class (Art. 7, 8) and procedure (Art. 32) as declared, for status, columns, metrics. */
export function conformityStatus(release: ProductRelease): ConformityStatus | undefined {
  const spec = (release as { spec?: { product?: { category?: unknown }; conformity?: { module?: unknown } } }).spec;
  const category = productCategory(spec?.product?.category);
  const module = spec?.conformity?.module;
  if (!category && typeof module !== 'string') return undefined;
  return {
    ...(category ? { category: category.id, productClass: category.cls } : {}),
    ...(typeof module === 'string' ? { module: module.slice(0, 16) } : {}),
  };
}

const ZERO: StatusSummary = { passed: 0, failed: 0, warned: 0, waived: 0, errored: 0, skipped: 0 };

function pending(reason: Reason, message: string, policy?: Evaluation['policy'], retryable = false): Evaluation {
  return {
    decision: 'Pending',
    reason,
    message,
    checks: [],
    summary: { ...ZERO },
    ...(policy ? { policy } : {}),
    retryable,
    findings: {},
  };
}

export function evaluate(input: EvaluateInput): Evaluation {
  try {
    return evaluateUnsafe(input);
  } catch (err) {
    return pending('Internal', `evaluation failed: ${errorMessage(err, 160)}`, undefined, true);
  }
}

function evaluateUnsafe(input: EvaluateInput): Evaluation {
  const { release, policy, policyName, now } = input;
  const registry = input.registry ?? checkRegistry;
  const evidence = input.evidence ?? {};

  if (!policy) return pending('PolicyNotFound', `ReleasePolicy "${policyName}" not found`);
  const policyRef: Evaluation['policy'] = {
    name: policyName,
    ...(typeof policy.metadata?.generation === 'number' ? { generation: policy.metadata.generation } : {}),
  };

  const spec: unknown = (release as { spec?: unknown } | undefined)?.spec;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    return pending('InvalidSpec', 'ProductRelease has no spec', policyRef);
  }
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new Error('now is not a valid Date');

  const problems = validatePolicySpec(policy.spec);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : '';
    return pending('PolicyInvalid', `ReleasePolicy "${policyName}" is invalid: ${problems[0]}${more}`, policyRef);
  }

  const checks: StatusCheck[] = [];
  const findings: Record<string, readonly Finding[]> = {};
  // The tolerance for placedOnMarket vs evidence times is a param of cra.applicability (issue 13 item 5).
  // An invalid value counts as the strictest (0 days); cra.applicability itself reports it as InvalidCheckParams.
  const tolerance = toleranceDays(policy.spec.checks.find((c) => c.id === 'cra.applicability')?.params?.placedOnMarketToleranceDays) ?? 0;
  let nextChange: number | undefined;
  for (const entry of policy.spec.checks) {
    const a = assessEntry({
      entry,
      registry,
      release,
      now,
      evidence,
      ...(policy.spec.waivers ? { waivers: policy.spec.waivers } : {}),
      placedOnMarketToleranceDays: tolerance,
    });
    if (!a) continue;
    checks.push(a.status);
    if (a.findings) findings[a.status.id] = a.findings;
    if (a.changesAt) nextChange = Math.min(nextChange ?? Infinity, a.changesAt.getTime());
  }

  const d = decide(checks);
  const conformity = conformityStatus(release);
  const exploited = exploitedClock(evidence, release.status, now);
  const coverage = vulnerabilityCoverage(evidence);
  const reason = newlyExploitedReason(d.decision, d.reason, checks, release.status);
  const waits: number[] = [];
  if (nextChange !== undefined) waits.push(Math.max(1_000, nextChange - now.getTime()));
  const every = tryParseDuration(policy.spec.reevaluateEvery);
  if (every !== undefined) waits.push(Math.max(MIN_REEVALUATE_MS, every));
  const requeueAfterMs = waits.length > 0 ? Math.min(MAX_REQUEUE_MS, ...waits) : undefined;

  return {
    decision: d.decision,
    reason,
    message: d.message,
    checks,
    ...(exploited ? { exploited } : {}),
    ...(coverage ? { vulnerabilityCoverage: coverage } : {}),
    summary: d.summary,
    policy: policyRef,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
    retryable: d.retryable,
    findings,
    ...(conformity ? { conformity } : {}),
  };
}
