/**
 * cra.applicability — which CRA obligations are in force for this release (Art. 69, 71).
 *
 * The check requires a valid `placedOnMarket` that the collected evidence does not contradict; its real
 * effect is in the decision: a Block check whose obligation is not yet in force for the release only warns
 * (see ../policy/enforcement.ts). A placedOnMarket earlier than the SBOM's timestamp, a verified signature's
 * log time or the ProductRelease's creationTimestamp (beyond `params.placedOnMarketToleranceDays`, default 0)
 * fails with PlacedOnMarketImplausible, and the decision then treats every obligation as in force
 * (../policy/placed-on-market.ts).
 */
import { CRA_FULL_FROM, CRA_REPORTING_FROM, parseDay } from '../util/dates.ts';
import { errorOutcome, fail, pass } from './types.ts';
import type { CheckDefinition, CheckOutcome, CheckContext } from './types.ts';
import { checkPlacedOnMarket, MAX_PLACED_ON_MARKET_TOLERANCE_DAYS, toleranceDays } from '../policy/placed-on-market.ts';

export const craApplicability: CheckDefinition = {
  id: 'cra.applicability',
  title: 'CRA obligations in force for this release',
  cra: ['Art. 69', 'Art. 71'],
  standards: [],
  reads: 'spec.placedOnMarket; metadata.creationTimestamp; SBOM timestamps; verified signature log times',
  passRule:
    'placedOnMarket is a valid YYYY-MM-DD date, not earlier than the SBOM timestamp, a verified signature\'s log time or the ' +
    'ProductRelease creationTimestamp (beyond params.placedOnMarketToleranceDays, default 0); it decides which obligations are in force',
  fix:
    'Set spec.placedOnMarket to the date (YYYY-MM-DD) the release is, or will be, first made available on the EU market; ' +
    'a release cannot have been placed on the market before its SBOM, its signature or its submission to the gate existed.',
  inForceFrom: CRA_REPORTING_FROM,
  params: ['placedOnMarketToleranceDays'],
  run(ctx: CheckContext): CheckOutcome {
    const tolerance = toleranceDays(ctx.params.placedOnMarketToleranceDays);
    if (tolerance === undefined) {
      return errorOutcome('InvalidCheckParams', `params.placedOnMarketToleranceDays must be an integer from 0 to ${MAX_PLACED_ON_MARKET_TOLERANCE_DAYS}`);
    }
    const raw = ctx.release.spec.placedOnMarket;
    const pointer = '/spec/placedOnMarket';
    if (raw === undefined || raw === null || raw === '') {
      return fail('MissingPlacedOnMarket', 'spec.placedOnMarket is not set; all CRA obligations are treated as in force', {
        findings: [{ pointer, message: 'missing' }],
      });
    }
    const placed = parseDay(raw);
    if (!placed) {
      return fail('InvalidDate', `spec.placedOnMarket ${typeof raw === 'string' ? `"${raw.slice(0, 64)}"` : `(a ${typeof raw})`} is not a valid YYYY-MM-DD date`, {
        findings: [{ pointer, message: 'not a calendar date' }],
      });
    }
    const dates = checkPlacedOnMarket(ctx.release, ctx.evidence, tolerance);
    if (dates.contradictions.length > 0) {
      const first = dates.contradictions[0]!;
      return fail(
        'PlacedOnMarketImplausible',
        `${first.message}${dates.contradictions.length > 1 ? ` (+${dates.contradictions.length - 1} more)` : ''}: all CRA obligations are treated as in force`,
        { findings: [{ pointer, message: 'contradicted by the evidence below' }, ...dates.contradictions.map((c) => ({ pointer: c.pointer, message: c.message }))] },
      );
    }
    const compared = dates.compared > 0 ? `consistent with ${dates.compared} evidence time(s)` : 'no evidence time to compare it with';
    return pass(`${applicabilityMessage(raw, placed)}; ${compared}`);
  },
};

export function applicabilityMessage(placedText: string, placed: Date): string {
  const reporting = parseDay(CRA_REPORTING_FROM)!;
  const full = parseDay(CRA_FULL_FROM)!;
  if (placed >= full) return `placed on market ${placedText}: all CRA obligations apply`;
  if (placed >= reporting) {
    return `placed on market ${placedText}: reporting (Art. 14) applies; other obligations bind releases placed from ${CRA_FULL_FROM}`;
  }
  return `placed on market ${placedText}: before CRA dates; reporting (Art. 14) applies from ${CRA_REPORTING_FROM} (Art. 69(3))`;
}
