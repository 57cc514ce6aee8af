/**
 * ReleasePolicy status: `observedGeneration` and a `Ready` condition saying whether the policy is usable
 * as written — every check id known to this operator, its params accepted, dates and durations well-formed.
 * Releases governed by an unusable policy are still evaluated (and fail closed); this condition tells the
 * policy's author why, in one place.
 */
import type { ReleasePolicy, ReleasePolicyStatus } from '../api/types.ts';
import { RELEASE_POLICY_KIND, RELEASE_POLICY_PLURAL } from '../api/types.ts';
import type { CheckDefinition } from '../checks/types.ts';
import { checkRegistry } from '../checks/index.ts';
import { validatePolicySpec } from '../policy/validate.ts';
import type { Reason } from '../errors.ts';
import { mergeConditions } from '../util/conditions.ts';
import type { StatusSink } from './reconcile.ts';
import { canonicalJson } from '../util/canonical.ts';

export interface PolicyProblems {
  reason: Reason | 'Valid';
  problems: string[];
}

/** Everything wrong with a policy from this operator's point of view (empty when usable). */
export function policyProblems(policy: ReleasePolicy, registry: ReadonlyMap<string, CheckDefinition> = checkRegistry): PolicyProblems {
  const structural = validatePolicySpec(policy.spec);
  if (structural.length) return { reason: 'PolicyInvalid', problems: structural };
  const unknown: string[] = [];
  const badParams: string[] = [];
  (policy.spec.checks ?? []).forEach((entry, i) => {
    const def = registry.get(entry.id);
    if (!def) {
      unknown.push(`spec.checks[${i}].id: unknown check "${entry.id}"`);
      return;
    }
    const accepted = new Set(def.params ?? []);
    for (const key of Object.keys(entry.params ?? {})) {
      if (!accepted.has(key)) badParams.push(`spec.checks[${i}].params.${key}: not a parameter of ${entry.id}`);
    }
  });
  if (unknown.length) return { reason: 'UnknownCheck', problems: [...unknown, ...badParams] };
  if (badParams.length) return { reason: 'InvalidCheckParams', problems: badParams };
  return { reason: 'Valid', problems: [] };
}

export function buildPolicyStatus(policy: ReleasePolicy, now: Date): ReleasePolicyStatus {
  const { reason, problems } = policyProblems(policy);
  const generation = policy.metadata?.generation;
  const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
  const conditions = mergeConditions(
    policy.status?.conditions ?? [],
    [
      reason === 'Valid'
        ? { type: 'Ready', status: 'True', reason: 'Valid', message: `${policy.spec.checks?.length ?? 0} checks, all known to this operator` }
        : { type: 'Ready', status: 'False', reason, message: shown },
    ],
    generation,
    now,
  );
  return { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions };
}

/** Writes the policy's status when it differs; returns the status written (or current). */
export async function reconcilePolicyStatus(
  policy: ReleasePolicy,
  status: StatusSink,
  now: Date,
  signal?: AbortSignal,
): Promise<ReleasePolicyStatus | undefined> {
  const next = buildPolicyStatus(policy, now);
  if (canonicalJson(next) === canonicalJson(policy.status ?? {})) return next;
  const ok = await status.apply(
    { plural: RELEASE_POLICY_PLURAL, kind: RELEASE_POLICY_KIND, name: policy.metadata.name ?? '', resourceVersion: policy.metadata.resourceVersion },
    next,
    signal ? { signal } : {},
  );
  return ok ? next : undefined;
}
