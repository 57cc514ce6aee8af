/**
 * Effective enforcement of one policy entry for one release at one instant.
 *
 * Only Block can be softened; Warn and Off are taken as written. A Block check only warns when
 *  - its CRA obligation is not in force for the release (check.inForceFrom vs spec.placedOnMarket — or vs
 *    `now` for checks whose basis is `date`); a missing or invalid placedOnMarket counts as in force
 *    (strictest), and so does one the evidence contradicts (`placedOnMarketDoubt`, from
 *    ./placed-on-market.ts: a self-declared date never switches enforcement off), or
 *  - the entry's `effectiveFrom` is still in the future.
 */
import { formatDay, parseDay } from '../util/dates.ts';
import type { PolicyCheckEntry, ProductRelease } from '../checks/api.ts';
import type { CheckDefinition } from '../checks/types.ts';

export type Enforcement = 'Block' | 'Warn' | 'Off';

export interface EffectiveEnforcement {
  readonly enforcement: Enforcement;
  readonly declared: Enforcement;
  /** Why a Block entry only warns (short; appended to the check message). */
  readonly note?: string;
  readonly downgradedBy?: 'NotInForce' | 'EffectiveFrom';
  /** When the enforcement changes by the passage of time alone (it becomes Block). */
  readonly nextChangeAt?: Date;
}

export function declaredEnforcement(entry: Pick<PolicyCheckEntry, 'enforcement'>): Enforcement {
  const e = entry.enforcement;
  return e === 'Warn' || e === 'Off' ? e : 'Block';
}

export function effectiveEnforcement(
  entry: PolicyCheckEntry,
  release: ProductRelease,
  check: Pick<CheckDefinition, 'inForceFrom' | 'inForceBasis'> | undefined,
  now: Date,
  /** Why spec.placedOnMarket is not trusted (contradicted by evidence); then it softens nothing. */
  placedOnMarketDoubt?: string,
): EffectiveEnforcement {
  const declared = declaredEnforcement(entry);
  if (declared !== 'Block') return { enforcement: declared, declared };

  let waitUntil: Date | undefined;
  let waitNote: string | undefined;
  let waitBy: 'NotInForce' | 'EffectiveFrom' | undefined;

  const inForce = check ? parseDay(check.inForceFrom) : undefined;
  if (check && inForce) {
    if ((check.inForceBasis ?? 'placedOnMarket') === 'placedOnMarket') {
      const placed = parseDay(release.spec?.placedOnMarket);
      if (placed && placed < inForce && placedOnMarketDoubt === undefined) {
        // Permanent for this release: it was placed on the market before the obligation applied.
        return {
          enforcement: 'Warn',
          declared,
          downgradedBy: 'NotInForce',
          note: `not blocking: placed on market ${formatDay(placed)}, before the CRA obligation applies (${check.inForceFrom})`,
        };
      }
    } else if (now < inForce) {
      waitUntil = inForce;
      waitBy = 'NotInForce';
      waitNote = `not blocking until the CRA obligation applies on ${check.inForceFrom}`;
    }
  }

  const from = parseDay(entry.effectiveFrom);
  if (from && now < from && (!waitUntil || from > waitUntil)) {
    waitUntil = from;
    waitBy = 'EffectiveFrom';
    waitNote = `warn only: blocks from ${formatDay(from)}`;
  }

  if (waitUntil && waitNote && waitBy) {
    return { enforcement: 'Warn', declared, downgradedBy: waitBy, note: waitNote, nextChangeAt: waitUntil };
  }
  return { enforcement: 'Block', declared };
}
