/**
 * The decision rules. Pure functions, no IO.
 *
 *  - a policy entry with enforcement Off is not run and not listed;
 *  - Warn failures never block; Block failures AND errors block (fail closed: an Error is never a pass);
 *  - a Block entry only warns while its `effectiveFrom` is in the future, or when its CRA obligation is not in
 *    force for the release (see ../policy/enforcement.ts) by a placedOnMarket the evidence does not contradict
 *    (../policy/placed-on-market.ts); the check message says why;
 *  - an unknown check id yields result Error, reason UnknownCheck, enforcement Block;
 *  - a check that throws (or returns garbage) yields result Error, reason CheckCrashed;
 *  - Approved iff no Block-enforced Fail/Error.
 */
import { errorMessage, isReason, reasons } from '../errors.ts';
import type { Reason } from '../errors.ts';
import { effectiveEnforcement } from '../policy/enforcement.ts';
import { checkPlacedOnMarket, toleranceDays } from '../policy/placed-on-market.ts';
import type { PolicyCheckEntry, ProductRelease, StatusCheck, StatusSummary } from '../checks/api.ts';
import { findingBasis, outcomeBasisKind } from '../checks/types.ts';
import type { CheckDefinition, CheckOutcome, Evidence, Finding } from '../checks/types.ts';
import type { Waiver } from '../api/types.ts';
import { appliedWaiver, decideWaiver, waivedMessage } from '../policy/waivers.ts';
import { redactUrls } from '../util/redact.ts';

/** Upper bound on one check message in the status (the status object must stay small). */
export const MAX_MESSAGE_CHARS = 300;
const RESULTS = new Set(['Pass', 'Fail', 'Error', 'Skipped']);

export interface Assessment {
  readonly status: StatusCheck;
  readonly findings?: readonly Finding[];
  /** When this entry's outcome or enforcement changes with time alone. */
  readonly changesAt?: Date;
}

export interface AssessInput {
  readonly entry: PolicyCheckEntry;
  readonly registry: ReadonlyMap<string, CheckDefinition>;
  readonly release: ProductRelease;
  readonly now: Date;
  readonly evidence: Evidence;
  /** The policy's waivers (a covered Fail becomes Waived; see ../policy/waivers.ts). */
  readonly waivers?: readonly Waiver[];
  /** `cra.applicability` params.placedOnMarketToleranceDays (default 0; invalid values count as 0). */
  readonly placedOnMarketToleranceDays?: number;
}

/** Run a check, turning a throw or a malformed outcome into result Error, reason CheckCrashed. */
export function runCheckSafely(check: CheckDefinition, ctx: Parameters<CheckDefinition['run']>[0]): CheckOutcome {
  let out: unknown;
  try {
    out = check.run(ctx);
  } catch (err) {
    return { result: 'Error', reason: 'CheckCrashed', message: `check ${check.id} crashed: ${errorMessage(err, 160)}` };
  }
  if (typeof out !== 'object' || out === null) {
    return { result: 'Error', reason: 'CheckCrashed', message: `check ${check.id} returned no outcome` };
  }
  const o = out as Partial<CheckOutcome>;
  if (typeof o.result !== 'string' || !RESULTS.has(o.result) || !isReason(o.reason) || typeof o.message !== 'string') {
    return { result: 'Error', reason: 'CheckCrashed', message: `check ${check.id} returned a malformed outcome` };
  }
  return o as CheckOutcome;
}

function paramsProblem(check: CheckDefinition, params: Readonly<Record<string, unknown>>): string | undefined {
  const known = new Set(check.params ?? []);
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  if (unknown.length === 0) return undefined;
  const accepted = known.size > 0 ? `accepted: ${[...known].join(', ')}` : 'it takes no params';
  return `unknown params for ${check.id}: ${unknown.slice(0, 5).join(', ')} (${accepted})`;
}

function bounded(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

/** Assess one policy entry; undefined when the entry is Off (not run, not listed). */
export function assessEntry(input: AssessInput): Assessment | undefined {
  const { entry, registry, release, now, evidence } = input;
  const check = registry.get(entry.id);
  const dates = checkPlacedOnMarket(release, evidence, toleranceDays(input.placedOnMarketToleranceDays) ?? 0);
  const doubt = dates.contradictions[0]?.message;
  const eff = effectiveEnforcement(entry, release, check, now, doubt);
  if (eff.enforcement === 'Off') return undefined;

  if (!check) {
    return {
      status: {
        id: entry.id,
        result: 'Error',
        enforcement: 'Block', // fail closed whatever the entry says: the policy asks for something we cannot check
        reason: 'UnknownCheck',
        message: bounded(`unknown check id "${entry.id}"; known ids: see \`cra-gate checks\``),
        cra: [],
      },
    };
  }

  const params = entry.params ?? {};
  const problem = paramsProblem(check, params);
  const outcome: CheckOutcome = problem
    ? { result: 'Error', reason: 'InvalidCheckParams', message: problem }
    : runCheckSafely(check, { release, params, now, evidence });

  const waiver = decideWaiver(outcome, check.id, release.metadata?.labels ?? {}, input.waivers, now);
  const notes = outcome.result === 'Fail' || outcome.result === 'Error' ? eff.note : undefined;
  const message = notes ? `${outcome.message} (${notes})` : outcome.message;
  const status: StatusCheck = {
    id: check.id,
    result: waiver.waived ? 'Waived' : outcome.result,
    enforcement: eff.enforcement,
    reason: outcome.reason,
    message: bounded(redactUrls(waiver.waived ? waivedMessage(message, waiver.used) : message)),
    cra: [...check.cra],
    basis: outcomeBasisKind(check, outcome.findings) === 'cra' ? 'CRA' : 'Guidance',
  };
  if (check.standards.length > 0) status.guidance = [...check.standards];
  if (waiver.waived) status.waivers = waiver.used.map(appliedWaiver);
  // Check messages and evidence may quote spec URLs: credentials in them never reach the status (../util/redact.ts).
  if (outcome.evidence !== undefined) status.evidence = typeof outcome.evidence === 'string' ? redactUrls(outcome.evidence) : outcome.evidence;

  const times = [eff.nextChangeAt, outcome.changesAt, waiver.changesAt].filter((d): d is Date => d instanceof Date && d > now);
  const changesAt = times.length > 0 ? new Date(Math.min(...times.map((d) => d.getTime()))) : undefined;
  return {
    status,
    // Every finding says what it rests on (the check's default when the check did not say).
    ...(outcome.findings && outcome.findings.length > 0 ? { findings: outcome.findings.map((f) => withBasis(check, f)) } : {}),
    ...(changesAt ? { changesAt } : {}),
  };
}

function withBasis(check: CheckDefinition, f: Finding): Finding {
  if (f.basis) return f;
  const basis = findingBasis(check, f);
  return basis ? { ...f, basis } : f;
}

export function isBlocking(c: Pick<StatusCheck, 'result' | 'enforcement'>): boolean {
  return c.enforcement === 'Block' && (c.result === 'Fail' || c.result === 'Error');
}

export function summarize(checks: readonly Pick<StatusCheck, 'result' | 'enforcement'>[]): StatusSummary {
  const s: StatusSummary = { passed: 0, failed: 0, warned: 0, waived: 0, errored: 0, skipped: 0 };
  for (const c of checks) {
    switch (c.result) {
      case 'Pass':
        s.passed++;
        break;
      case 'Waived':
        s.waived++;
        break;
      case 'Skipped':
        s.skipped++;
        break;
      case 'Fail':
      case 'Error':
        if (c.result === 'Error') s.errored++;
        if (c.enforcement === 'Block') s.failed++;
        else s.warned++;
        break;
    }
  }
  return s;
}

export interface Decision {
  readonly decision: 'Approved' | 'Blocked';
  readonly reason: Reason;
  readonly message: string;
  readonly summary: StatusSummary;
  /** Some blocking check errored for a transient reason: retry with backoff. */
  readonly retryable: boolean;
}

function listIds(ids: readonly string[], max = 5): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} +${ids.length - max} more`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The decision over assessed checks (status.checks[] shape). */
export function decide(checks: readonly StatusCheck[]): Decision {
  const summary = summarize(checks);
  const blocking = checks.filter(isBlocking);
  const warned = checks.filter((c) => !isBlocking(c) && (c.result === 'Fail' || c.result === 'Error'));
  const retryable = blocking.some((c) => c.result === 'Error' && isReason(c.reason) && reasons[c.reason].retryable);
  if (blocking.length === 0) {
    const parts = [`${plural(summary.passed, 'check')} passed`];
    if (warned.length > 0) parts.push(`${warned.length} warned: ${listIds(warned.map((c) => c.id))}`);
    if (summary.waived > 0) parts.push(`${summary.waived} waived`);
    if (summary.skipped > 0) parts.push(`${summary.skipped} skipped`);
    return { decision: 'Approved', reason: 'AllChecksPassed', message: bounded(parts.join('; ')), summary, retryable };
  }
  const failedIds = blocking.filter((c) => c.result === 'Fail').map((c) => c.id);
  const erroredIds = blocking.filter((c) => c.result === 'Error').map((c) => c.id);
  const parts: string[] = [];
  if (failedIds.length > 0) parts.push(`${plural(failedIds.length, 'blocking check')} failed: ${listIds(failedIds)}`);
  if (erroredIds.length > 0) parts.push(`${plural(erroredIds.length, 'blocking check')} errored: ${listIds(erroredIds)}`);
  const reason: Reason = failedIds.length > 0 ? 'PolicyViolation' : 'ChecksErrored';
  return { decision: 'Blocked', reason, message: bounded(parts.join('; ')), summary, retryable };
}
