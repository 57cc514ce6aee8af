/**
 * The status builder: an evaluation becomes the ProductRelease `.status` (decision, conditions, checks, summary).
 * Shared by the operator (operator/controller/reconcile.ts writes it) and the offline CLI (operator/cli/evaluate.ts
 * prints it), so both produce the same status byte for byte. Pure: no IO, time comes from `now`.
 */
import type { ProductRelease, ProductReleaseStatus } from '../api/types.ts';
import type { Evaluation } from './evaluate.ts';
import { mergeConditions, rfc3339, type ConditionInput } from '../util/conditions.ts';

export function buildStatus(release: ProductRelease, ev: Evaluation, now: Date): ProductReleaseStatus {
  const generation = release.metadata?.generation;
  const evaluated: ConditionInput =
    ev.decision === 'Pending'
      ? { type: 'Evaluated', status: 'False', reason: ev.reason, message: ev.message }
      : {
          type: 'Evaluated',
          status: 'True',
          reason: 'Evaluated',
          message: `evaluated against policy ${ev.policy?.name ?? '?'} (generation ${ev.policy?.generation ?? '?'})`,
        };
  const approved: ConditionInput = {
    type: 'Approved',
    status: ev.decision === 'Approved' ? 'True' : 'False',
    reason: ev.reason,
    message: ev.message,
  };
  const ready: ConditionInput = { ...approved, type: 'Ready' };
  const conditions = mergeConditions(
    (release.status?.conditions ?? []),
    [evaluated, approved, ready],
    generation,
    now,
  );
  const status = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    decision: ev.decision,
    conditions,
    checks: ev.checks,
    summary: ev.summary,
    policy: ev.policy ?? null,
    evaluatedAt: rfc3339(now),
    ...(ev.exploited && ev.exploited.length > 0 ? { exploited: ev.exploited } : {}),
    ...(ev.conformity ? { conformity: ev.conformity } : {}),
    ...(ev.vulnerabilityCoverage ? { vulnerabilityCoverage: ev.vulnerabilityCoverage } : {}),
  } as ProductReleaseStatus;
  return status;
}
