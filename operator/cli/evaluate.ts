/**
 * `cra-gate evaluate`: the operator's evaluation, offline. For each ProductRelease: pick its policy
 * (spec.policyRef, else the default policy), collect evidence through the same collectors the operator runs
 * (backed by files instead of the API server), run `evaluate()` and build the status with the operator's
 * `buildStatus()` — so the verdict, checks and summary are the operator's, byte for byte.
 */
import type { ProductRelease, ProductReleaseStatus } from '../api/types.ts';
import type { Evidence, EvidenceError, Finding } from '../checks/types.ts';
import { buildStatus } from '../engine/status.ts';
import { evaluate, type Evaluation } from '../engine/evaluate.ts';
import { collectEvidence, collectors as defaultCollectors, type Collector, type EvidenceRuntime } from '../evidence/collect.ts';
import type { Inputs, Loaded } from './load.ts';
import { cliSources } from './sources.ts';
import { EXIT } from './io.ts';

export interface ReleaseOutcome {
  readonly release: Loaded<ProductRelease>;
  readonly policyName: string;
  readonly evaluation: Evaluation;
  /** Exactly what the operator writes to `.status`. */
  readonly status: ProductReleaseStatus;
  readonly evidenceErrors: readonly EvidenceError[];
  readonly findings: Readonly<Record<string, readonly Finding[]>>;
  /** The evidence the verdict rests on (for the CRA file). */
  readonly evidence: Evidence;
}

export interface EvaluateOptions {
  readonly now: Date;
  /** Network capability (deny with --offline), feed store, SBOM analysis cache: created once per CLI run. */
  readonly runtime: EvidenceRuntime;
  /** ReleasePolicy for releases without spec.policyRef (the operator's --default-policy). */
  readonly defaultPolicy: string;
  /** Called around each release's evidence collection (progress display). */
  readonly onCollect?: (release: string, phase: 'start' | 'end') => void;
  readonly collectors?: readonly Collector[];
}

export function releaseKey(r: ProductRelease): string {
  return `${r.metadata.namespace ?? 'default'}/${r.metadata.name ?? ''}`;
}

export async function evaluateInputs(inputs: Inputs, opts: EvaluateOptions): Promise<ReleaseOutcome[]> {
  const sources = cliSources({ configMaps: inputs.configMaps, secrets: inputs.secrets });
  const out: ReleaseOutcome[] = [];
  for (const loaded of inputs.releases) {
    const release = loaded.object;
    const policyName = release.spec.policyRef || opts.defaultPolicy;
    const policy = inputs.policies.get(policyName)?.object;
    opts.onCollect?.(releaseKey(release), 'start');
    let evidence;
    try {
      evidence = await collectEvidence({ release, policy, sources, runtime: opts.runtime, now: opts.now }, opts.collectors ?? defaultCollectors);
    } finally {
      opts.onCollect?.(releaseKey(release), 'end');
    }
    const evaluation = evaluate({ release, policy, policyName, now: opts.now, evidence });
    out.push({
      release: loaded,
      policyName,
      evaluation,
      status: storedForm(buildStatus(release, evaluation, opts.now)),
      evidenceErrors: evidence.errors ?? [],
      findings: evaluation.findings,
      evidence,
    });
  }
  return out;
}

/**
 * The status as the API server stores it: null-valued fields of a non-nullable schema are dropped on write
 * (the CRDs declare nothing nullable), e.g. `policy: null` for a Pending release.
 */
export function storedForm<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => storedForm(v)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = storedForm(v);
    return out as T;
  }
  return value;
}

/** Why a release's verdict cannot be trusted as final, or undefined when it can. */
export function unusableReason(o: ReleaseOutcome): string | undefined {
  const ev = o.evaluation;
  if (ev.decision === 'Pending') return `${ev.reason}: ${ev.message}`;
  const errored = ev.checks.filter((c) => c.enforcement === 'Block' && c.result === 'Error');
  if (errored.length > 0) return `blocking check${errored.length > 1 ? 's' : ''} could not run: ${errored.map((c) => `${c.id} (${c.reason})`).join(', ')}`;
  return undefined;
}

/**
 * The exit code for a set of verdicts:
 * - 2 when any release's verdict is not a real verdict: it is Pending (policy missing or invalid, internal
 *   error), or a Block-enforced check ended in Error (evidence unavailable — e.g. not fetched with --offline —,
 *   unknown check, invalid params);
 * - else 1 when any release is Blocked;
 * - else 0 (every release Approved). No release at all is unusable input (2), decided before evaluation.
 */
export function exitCodeFor(outcomes: readonly ReleaseOutcome[]): number {
  if (outcomes.length === 0) return EXIT.unusable;
  if (outcomes.some((o) => unusableReason(o) !== undefined)) return EXIT.unusable;
  if (outcomes.some((o) => o.evaluation.decision !== 'Approved')) return EXIT.blocked;
  return EXIT.approved;
}
