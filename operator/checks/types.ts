/**
 * The check contract. A check is a PURE function of its context: no IO, no clock (time comes from
 * `ctx.now`), no randomness. Evidence that needs IO (registries, HTTPS, ConfigMaps) is collected before the
 * checks run and handed in through `ctx.evidence`.
 */
import type { Reason } from '../errors.ts';
import type { ProductRelease } from './api.ts';
import type { WaiverSubject } from '../policy/waivers.ts';

export type { ProductRelease };

export type { Evidence, EvidenceError } from '../types/evidence.ts';
import type { Evidence } from '../types/evidence.ts';

export interface CheckContext {
  readonly release: ProductRelease;
  /** The policy entry's `params` (never undefined; `{}` when absent). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly now: Date;
  readonly evidence: Evidence;
}

/**
 * What a rule or finding rests on (issue #13 item 14): the Regulation's own text, or a guideline/standard that
 * makes it concrete. Never present guidance as if the Regulation said it.
 *  - kind `cra`: the CRA text itself requires it; `ref` cites it precisely, e.g. `Annex I Part II(1)`.
 *  - kind `guidance`: a guideline or standard; `ref` names document, version and section, e.g.
 *    `BSI TR-03183-2 v2.1.0 §5.2.2`, `RFC 9116 §2.5.3`, `Pod Security Standards (restricted)`.
 */
export type BasisKind = 'cra' | 'guidance';

export interface Basis {
  readonly kind: BasisKind;
  readonly ref: string;
}

/** A basis in the Regulation's own text, e.g. `craBasis('Annex I Part II(1)')`. */
export function craBasis(ref: string): Basis {
  return { kind: 'cra', ref };
}

/** A basis in a guideline or standard, e.g. `guidanceBasis('BSI TR-03183-2 v2.1.0 §5.2.2')`. */
export function guidanceBasis(ref: string): Basis {
  return { kind: 'guidance', ref };
}

/** `CRA Annex I Part II(1)` / `BSI TR-03183-2 v2.1.0 §5.2.2 (guidance)`: how outputs print a basis. */
export function formatBasis(b: Basis): string {
  return b.kind === 'cra' ? `CRA ${b.ref}` : `${b.ref} (guidance)`;
}

export interface Finding {
  /** RFC 6901 JSON pointer into the evidence the check read (for spec checks: into the ProductRelease). */
  readonly pointer: string;
  readonly message: string;
  /**
   * What this finding rests on. When absent, the check definition's default applies (see `findingBasis`):
   * its first `cra` reference, else its first `standards` entry as guidance.
   */
  readonly basis?: Basis;
  /** How many instances this finding stands for (SBOM checks group instances). */
  readonly count?: number;
  /** First instances' pointers. */
  readonly pointers?: readonly string[];
}

/** The basis of a finding: its own, else the check's default (first CRA text reference, else first standard). */
export function findingBasis(def: Pick<CheckDefinition, 'cra' | 'standards'>, f: Pick<Finding, 'basis'>): Basis | undefined {
  if (f.basis) return f.basis;
  if (def.cra[0] !== undefined) return craBasis(def.cra[0]);
  if (def.standards[0] !== undefined) return guidanceBasis(def.standards[0]);
  return undefined;
}

/**
 * What an outcome rests on as a whole: `cra` when at least one finding rests on the CRA text (or, without
 * findings, when the check's definition cites CRA text); `guidance` when every finding (or the definition)
 * rests on guidance only. This is what a policy pack blocks or warns on.
 */
export function outcomeBasisKind(def: Pick<CheckDefinition, 'cra' | 'standards'>, findings: readonly Pick<Finding, 'basis'>[] | undefined): BasisKind {
  if (findings && findings.length > 0) {
    return findings.some((f) => findingBasis(def, f)?.kind === 'cra') ? 'cra' : 'guidance';
  }
  return def.cra.length > 0 ? 'cra' : 'guidance';
}

export type CheckResult = 'Pass' | 'Fail' | 'Error' | 'Skipped';

export interface CheckOutcome {
  readonly result: CheckResult;
  /** From the catalogue in ../errors.ts; `Compliant` for a Pass. */
  readonly reason: Reason;
  /** Short and actionable (it lands in the status, which must stay small). */
  readonly message: string;
  readonly findings?: readonly Finding[];
  /** Identifies the evidence read, e.g. `sha256:<digest of the SBOM>`. */
  readonly evidence?: string;
  /** When this outcome may change with time alone (e.g. an expiry); drives re-evaluation. */
  readonly changesAt?: Date;
  /** Per-finding subjects a waiver may cover (vulnerability checks); absent: the outcome is waived as a whole. */
  readonly subjects?: readonly WaiverSubject[];
}

export interface CheckDefinition {
  /** Stable API id, e.g. `update.channel`. */
  readonly id: string;
  readonly title: string;
  /**
   * What the Regulation's TEXT itself requires of this check, e.g. `Annex I Part II(1)`; only provisions whose
   * wording the pass rule enforces. Empty for a guidance-only check (then `concretises` says which provision
   * the guidance makes concrete).
   */
  readonly cra: readonly string[];
  /**
   * Guidelines/standards the pass rule applies beyond the CRA text (kind `guidance`), with version and section:
   * `BSI TR-03183-2 v2.1.0 §5.2.2`, `RFC 9116`, `NTIA SBOM minimum elements (2021)`.
   */
  readonly standards: readonly string[];
  /**
   * For guidance: the CRA provisions the guidance makes concrete (context only, NOT the basis of a finding),
   * e.g. the TR's SBOM fields concretise `Annex I Part II(1)`.
   */
  readonly concretises?: readonly string[];
  /** What evidence the check reads. */
  readonly reads: string;
  readonly passRule: string;
  /** How to fix a failure. */
  readonly fix: string;
  /** `YYYY-MM-DD`: the CRA date the obligation applies from (Art. 71). */
  readonly inForceFrom: string;
  /**
   * How `inForceFrom` is compared. `placedOnMarket` (default): the obligation binds releases placed on the
   * market on or after the date (Art. 69(2)). `date`: it binds every release once the date has passed,
   * whenever it was placed (Art. 69(3): Art. 14 reporting also covers products already on the market).
   */
  readonly inForceBasis?: 'placedOnMarket' | 'date';
  /** Names of the params the check accepts; any other key in the policy entry's params is an error. */
  readonly params?: readonly string[];
  run(ctx: CheckContext): CheckOutcome;
}

/** Small helpers for check implementations. */
export function pass(message: string, extra: Partial<CheckOutcome> = {}): CheckOutcome {
  return { result: 'Pass', reason: 'Compliant', message, ...extra };
}

export function fail(reason: Reason, message: string, extra: Partial<CheckOutcome> = {}): CheckOutcome {
  return { ...extra, result: 'Fail', reason, message };
}

export function errorOutcome(reason: Reason, message: string): CheckOutcome {
  return { result: 'Error', reason, message };
}

/** RFC 6901 escaping of one pointer segment (lives in util/json-pointer.ts; re-exported for the checks). */
export { pointerSegment } from '../util/json-pointer.ts';

export function isBlank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}
