/**
 * The check contract. A check is a PURE function of its context: no IO, no clock (time comes from
 * `ctx.now`), no randomness. Evidence that needs IO (registries, HTTPS, ConfigMaps) is collected before the
 * checks run and handed in through `ctx.evidence`.
 */
import type { Reason } from '../errors.ts';
import type { ProductRelease } from './api.ts';

export type { ProductRelease };

/** A failure to collect one piece of evidence. Checks needing it return result Error, EvidenceUnavailable. */
export interface EvidenceError {
  /** What was being collected, e.g. `sbom:firmware`, `securityTxt`. */
  readonly source: string;
  readonly reason: Reason;
  readonly message: string;
}

/**
 * Evidence gathered for one evaluation. Deliberately open: evidence collectors (SBOMs, signatures, fetched
 * security.txt, vulnerability feeds) ADD optional, readonly fields here as they are built. Every field is
 * optional so the product-declaration checks, which read only the release spec, run with `{}`.
 */
export interface Evidence {
  /** Errors hit while collecting evidence. */
  readonly errors?: readonly EvidenceError[];
}

export interface CheckContext {
  readonly release: ProductRelease;
  /** The policy entry's `params` (never undefined; `{}` when absent). */
  readonly params: Readonly<Record<string, unknown>>;
  readonly now: Date;
  readonly evidence: Evidence;
}

export interface Finding {
  /** RFC 6901 JSON pointer into the evidence the check read (for spec checks: into the ProductRelease). */
  readonly pointer: string;
  readonly message: string;
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
}

export interface CheckDefinition {
  /** Stable API id, e.g. `update.channel`. */
  readonly id: string;
  readonly title: string;
  /** CRA references, e.g. `Annex II(1)`. */
  readonly cra: readonly string[];
  /** Other standards (BSI TR-03183-2 sections, RFCs). */
  readonly standards: readonly string[];
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

/** RFC 6901 escaping of one pointer segment. */
export function pointerSegment(segment: string | number): string {
  return String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function isBlank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}
