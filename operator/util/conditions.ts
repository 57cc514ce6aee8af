/**
 * metav1.Condition handling: `lastTransitionTime` moves only when a condition's status changes,
 * every condition carries the generation it was computed for.
 */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Merges desired conditions into the existing list, keeping transition times of unchanged statuses. */
export function mergeConditions(
  existing: readonly Condition[] | undefined,
  desired: readonly ConditionInput[],
  generation: number | undefined,
  now: Date,
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  return desired.map((d) => {
    const prev = byType.get(d.type);
    const lastTransitionTime =
      prev && prev.status === d.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now);
    return {
      type: d.type,
      status: d.status,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      lastTransitionTime,
      reason: d.reason,
      message: truncate(d.message, 32_000),
    };
  });
}

/** RFC 3339 with second precision, as Kubernetes stores metav1.Time. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
