/**
 * The inputs a decision was made on (status.inputs), and what a restarted operator does with them.
 *
 * After a decision, the reconciler records a digest of everything the decision depended on that can be known
 * WITHOUT fetching: the engine version, the release (uid, generation, spec, labels), its policy (name, uid,
 * generation, spec), the content digests of the policy's vulnerability feeds and the decision signing key id —
 * plus when the periodic re-evaluation is due. Evidence read from ConfigMaps or Secrets cannot be confirmed
 * unchanged without reading it again (their changes while the operator was down were not watched), so such a
 * decision records no digest and is always re-evaluated after a restart. Evidence fetched from registries and
 * HTTPS servers is, also while the operator runs, re-read only at the periodic re-evaluation (nothing watches
 * it), so deferring it to that due time after a restart is what would have happened without the restart.
 *
 * On start ({@link restartPlan}), fail closed: a release is left alone until its periodic re-evaluation only
 * when its recorded digest equals the one computed now from the cache; anything missing, unparsable or
 * different means re-evaluate. Pure: no IO.
 */
import { createHash } from 'node:crypto';
import type { DecisionInputs, ProductRelease, ProductReleaseStatus, ReleasePolicy } from '../api/types.ts';
import type { FeedRef } from '../evidence/feeds.ts';
import { feedKey, feedRefs } from '../evidence/feeds.ts';
import { canonicalJson } from '../util/canonical.ts';
import type { Priority } from './queue.ts';

/** Bumped whenever what the digest covers changes: every recorded digest then differs (re-evaluate). */
const RECORD_VERSION = 1;
/** Restart catch-up of due times is spread over at most this long (earlier, never later than due). */
export const MAX_SPREAD_MS = 5 * 60_000;
/** No requeue the reconciler sets is longer (reconcile.ts caps it at 24 h); a record claiming more is not trusted. */
const MAX_RECORDED_INTERVAL_MS = 24 * 3600_000 + 60_000;

export interface InputContext {
  release: ProductRelease;
  /** The policy name the release is evaluated against (spec.policyRef or the default). */
  policyName: string;
  policy: ReleasePolicy | undefined;
  /** The content digest the feed store holds for a feed now (undefined: not loaded, or failed). */
  feedDigest(ref: FeedRef): string | undefined;
  /** The engine's version (the package version). */
  engine: string;
  /** Id of the decision signing key in use (undefined: decisions are unsigned). */
  signingKeyId: string | undefined;
  /**
   * The decided status (at decision time: the status about to be written; on restart: the cached one). Its
   * outcome is part of the digest, so a status someone else changed no longer matches its record.
   */
  status: ProductReleaseStatus | undefined;
  /**
   * Restart only, with signing on: whether the status's signed decision verifies with the current key, says
   * what the status says, and stays valid for `forMs` more.
   */
  signatureHolds?(forMs: number): boolean;
}

/** The status without what is renewed on every write or is the record itself. */
function outcomeOf(status: ProductReleaseStatus | undefined): string {
  if (!status) return '';
  const { evaluatedAt: _e, evaluationSequence: _q, attestation: _a, inputs: _i, ...rest } = status;
  return canonicalJson(rest);
}

/** The digest of a decision's fetch-free inputs, or undefined when one of them is not known (a feed not loaded). */
export function inputDigest(ctx: InputContext): string | undefined {
  const { release, policy } = ctx;
  const feeds: Array<[string, string]> = [];
  for (const ref of feedRefs(policy)) {
    const d = ctx.feedDigest(ref);
    if (!d) return undefined;
    feeds.push([feedKey(ref), d]);
  }
  const doc = {
    v: RECORD_VERSION,
    engine: ctx.engine,
    release: {
      uid: release.metadata?.uid ?? null,
      generation: release.metadata?.generation ?? null,
      labels: release.metadata?.labels ?? {},
      spec: release.spec ?? null,
    },
    policy: {
      name: ctx.policyName,
      ...(policy ? { uid: policy.metadata?.uid ?? null, generation: policy.metadata?.generation ?? null, spec: policy.spec } : { missing: true }),
    },
    feeds,
    signingKey: ctx.signingKeyId ?? null,
    outcome: createHash('sha256').update(outcomeOf(ctx.status)).digest('hex'),
  };
  return `sha256:${createHash('sha256').update(canonicalJson(doc)).digest('hex')}`;
}

/** What to do with a cached release when this replica starts reconciling. */
export type RestartPlan =
  | { action: 'evaluate'; priority: Priority; why: string; feedsUnknown?: true }
  | { action: 'defer'; afterMs: number };

/**
 * Decides whether a release must be re-evaluated now (and in which lane) or can wait for its periodic
 * re-evaluation. `spreadKey` (the queue key) spreads due times that coincide (releases decided in one burst)
 * over up to {@link MAX_SPREAD_MS} — always earlier than due, never later.
 */
export function restartPlan(ctx: InputContext, now: Date, spreadKey: string): RestartPlan {
  const { release } = ctx;
  const status = release.status;
  if (!status?.decision) return { action: 'evaluate', priority: 'normal', why: 'never decided' };
  if (status.observedGeneration !== release.metadata?.generation) return { action: 'evaluate', priority: 'normal', why: 'spec changed since the decision' };
  const recorded: DecisionInputs | undefined = status.inputs;
  if (!recorded?.digest) return { action: 'evaluate', priority: 'low', why: 'no input record (evidence that cannot be confirmed without reading it)' };
  const digest = inputDigest(ctx);
  if (!digest) return { action: 'evaluate', priority: 'low', why: 'an input is not known yet (feed not loaded)', feedsUnknown: true };
  if (digest !== recorded.digest) return { action: 'evaluate', priority: 'low', why: 'inputs changed since the decision' };
  const due = Date.parse(recorded.reevaluateAt);
  if (!Number.isFinite(due)) return { action: 'evaluate', priority: 'low', why: 'unreadable re-evaluation time' };
  const evaluatedAt = Date.parse(status.evaluatedAt ?? '');
  // A due time before the decision itself, or one claimed from the future beyond any requeue we set: not ours.
  if (!Number.isFinite(evaluatedAt) || due < evaluatedAt || due - evaluatedAt > MAX_RECORDED_INTERVAL_MS) return { action: 'evaluate', priority: 'low', why: 'inconsistent re-evaluation time' };
  const remaining = due - now.getTime();
  if (remaining <= 0) return { action: 'evaluate', priority: 'low', why: 'periodic re-evaluation due' };
  if (ctx.signatureHolds && !ctx.signatureHolds(remaining)) return { action: 'evaluate', priority: 'low', why: 'the signed decision does not verify or expires before the re-evaluation' };
  const spread = Math.min(MAX_SPREAD_MS, remaining / 10) * spreadFraction(spreadKey);
  return { action: 'defer', afterMs: Math.max(1, Math.floor(remaining - spread)) };
}

/**
 * True when the release's recorded inputs are exactly what the cache and the feed store say now (so a feed
 * change notice need not re-evaluate it: its decision already rests on that content). Anything missing → false.
 */
export function inputsCurrent(ctx: InputContext): boolean {
  const st = ctx.release.status;
  if (!st?.inputs?.digest || st.observedGeneration !== ctx.release.metadata?.generation) return false;
  return inputDigest(ctx) === st.inputs.digest;
}

/** A stable fraction in [0, 1) from a key (so a restart spreads the same way each time). */
export function spreadFraction(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}
