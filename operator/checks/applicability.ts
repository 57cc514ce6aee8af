/**
 * cra.applicability — which CRA obligations are in force for this release (Art. 69, 71).
 *
 * The check itself only requires a valid `placedOnMarket`; its real effect is in the decision: a Block check
 * whose obligation is not yet in force for the release only warns (see ../policy/enforcement.ts).
 */
import { CRA_FULL_FROM, CRA_REPORTING_FROM, parseDay } from './dates.ts';
import { fail, pass } from './types.ts';
import type { CheckDefinition, CheckOutcome, CheckContext } from './types.ts';

export const craApplicability: CheckDefinition = {
  id: 'cra.applicability',
  title: 'CRA obligations in force for this release',
  cra: ['Art. 69', 'Art. 71'],
  standards: [],
  reads: 'spec.placedOnMarket',
  passRule: 'placedOnMarket is a valid YYYY-MM-DD date; it decides which obligations are in force',
  fix: 'Set spec.placedOnMarket to the date (YYYY-MM-DD) the release is, or will be, made available on the EU market.',
  inForceFrom: CRA_REPORTING_FROM,
  run(ctx: CheckContext): CheckOutcome {
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
    return pass(applicabilityMessage(raw, placed));
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
