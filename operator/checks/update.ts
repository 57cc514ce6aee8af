/**
 * update.channel — Annex I Part I(2)(c), Part II(7),(8): security updates are distributed securely
 * (a declared https channel) and automatically by default, with an opt-out / justification when not.
 *
 * update.support-period — Art. 13(8), Annex II(7): the support period is at least five years, unless the
 * product is expected to be in use for less, in which case it covers the expected use time. Once the
 * evaluation time is past the end of the support period, the manufacturer no longer ensures that
 * vulnerabilities are handled (Art. 13(8) first subparagraph): the check fails (SupportEnded). A passing
 * outcome carries `changesAt` = the end of the support period, so the operator re-evaluates at that moment.
 */
import { addMonths, formatDay, parseDay, parseEndExclusive, wholeMonthsBetween } from '../util/dates.ts';
import { errorOutcome, fail, isBlank, pass } from './types.ts';
import { updateChannelProbe } from './disclosure-web.ts';
import type { CheckContext, CheckDefinition, CheckOutcome, Finding } from './types.ts';
import type { Reason } from '../errors.ts';

const UPD = '/spec/updates';

export const updateChannel: CheckDefinition = {
  id: 'update.channel',
  title: 'Secure security-update channel',
  cra: ['Annex I Part I(2)(c)', 'Annex I Part II(7)', 'Annex I Part II(8)'],
  standards: [],
  reads: 'spec.updates.channel, .automatic, .manualJustification',
  passRule: 'an https: channel without embedded credentials; automatic: true, or false with a manualJustification',
  fix: 'Set spec.updates.channel to an https: URL and spec.updates.automatic: true (or false plus manualJustification).',
  inForceFrom: '2027-12-11',
  params: ['probe'],
  run(ctx: CheckContext): CheckOutcome {
    const probe = ctx.params.probe;
    if (probe !== undefined && typeof probe !== 'boolean') {
      return errorOutcome('InvalidCheckParams', 'params.probe must be true or false');
    }
    const u = ctx.release.spec.updates ?? {};
    const problems: { reason: Reason; finding: Finding }[] = [];
    const channel = typeof u.channel === 'string' ? u.channel.trim() : '';
    if (channel === '') {
      problems.push({ reason: 'NoUpdateChannel', finding: { pointer: `${UPD}/channel`, message: 'no update channel declared' } });
    } else {
      const problem = channelProblem(channel);
      if (problem) problems.push({ reason: 'InsecureUpdateChannel', finding: { pointer: `${UPD}/channel`, message: problem } });
    }
    const justified = !isBlank(u.manualJustification);
    if (u.automatic !== true && !justified) {
      const message =
        u.automatic === false
          ? 'automatic updates are off without a manualJustification'
          : 'automatic is not set: declare automatic: true, or false with a manualJustification';
      problems.push({
        reason: 'ManualUpdatesWithoutJustification',
        finding: { pointer: `${UPD}/${u.automatic === false ? 'manualJustification' : 'automatic'}`, message },
      });
    }
    if (problems.length === 0) {
      const mode = u.automatic === true ? 'automatic' : 'manual (justified)';
      if (probe === true) {
        // The channel was fetched (through the SSRF guard) by the disclosure collector; no evidence fails closed.
        if (!ctx.evidence.disclosure?.updateChannel) {
          return errorOutcome('EvidenceUnavailable', 'params.probe: true, but the update channel was not fetched');
        }
        const failed = updateChannelProbe(ctx);
        if (failed) return failed;
        return pass(`https update channel reachable and lists ${ctx.release.spec.version}; ${mode} updates`);
      }
      return pass(`https update channel declared; ${mode} updates`);
    }
    return fail(problems[0]!.reason, problems.map((p) => p.finding.message).join('; '), {
      findings: problems.map((p) => p.finding),
    });
  },
};

/** Why a channel URL is not acceptable, or undefined when it is. */
export function channelProblem(channel: string): string | undefined {
  let url: URL;
  try {
    url = new URL(channel);
  } catch {
    return `channel "${truncate(channel)}" is not a URL; use an https: URL`;
  }
  if (url.protocol !== 'https:') return `channel uses ${url.protocol.replace(/:$/, '')}, not https`;
  if (url.hostname === '') return 'channel has no host';
  if (url.username !== '' || url.password !== '') return 'channel URL embeds credentials';
  return undefined;
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export const DEFAULT_MIN_SUPPORT_MONTHS = 60;

export const updateSupportPeriod: CheckDefinition = {
  id: 'update.support-period',
  title: 'Support period of at least five years (or the expected use time)',
  cra: ['Art. 13(8)', 'Annex II(7)'],
  standards: [],
  reads: 'spec.placedOnMarket, spec.updates.supportEnd, spec.updates.expectedUsePeriod; the evaluation time',
  passRule:
    'supportEnd (YYYY-MM = end of month, or YYYY-MM-DD, inclusive) is ≥ 60 months after placedOnMarket, ' +
    'or covers a shorter expectedUsePeriod that has a rationale; and the evaluation time is before the end of supportEnd',
  fix:
    'Set spec.updates.supportEnd at least 60 months after placedOnMarket, or declare expectedUsePeriod {months, rationale}. ' +
    'A release whose support has ended is no longer supported: extend supportEnd only if security updates really continue.',
  inForceFrom: '2027-12-11',
  params: ['minimumMonths'],
  run(ctx: CheckContext): CheckOutcome {
    const params = ctx.params;
    let minMonths = DEFAULT_MIN_SUPPORT_MONTHS;
    if (params.minimumMonths !== undefined) {
      if (typeof params.minimumMonths !== 'number' || !Number.isInteger(params.minimumMonths) || params.minimumMonths < 1) {
        return errorOutcome('InvalidCheckParams', 'params.minimumMonths must be a positive integer');
      }
      minMonths = params.minimumMonths;
    }
    const spec = ctx.release.spec;
    const u = spec.updates ?? {};
    if (isBlank(spec.placedOnMarket)) {
      return fail('MissingPlacedOnMarket', 'spec.placedOnMarket is not set; the support period cannot be computed', {
        findings: [{ pointer: '/spec/placedOnMarket', message: 'missing' }],
      });
    }
    const placed = parseDay(spec.placedOnMarket);
    if (!placed) {
      return fail('InvalidDate', `spec.placedOnMarket "${spec.placedOnMarket}" is not a valid YYYY-MM-DD date`, {
        findings: [{ pointer: '/spec/placedOnMarket', message: 'not a calendar date' }],
      });
    }
    if (isBlank(u.supportEnd)) {
      return fail('MissingSupportEnd', 'spec.updates.supportEnd is not set (YYYY-MM or YYYY-MM-DD)', {
        findings: [{ pointer: `${UPD}/supportEnd`, message: 'missing' }],
      });
    }
    const endExclusive = parseEndExclusive(u.supportEnd);
    if (!endExclusive) {
      return fail('InvalidDate', `spec.updates.supportEnd "${u.supportEnd}" is not a valid YYYY-MM or YYYY-MM-DD date`, {
        findings: [{ pointer: `${UPD}/supportEnd`, message: 'not a calendar date' }],
      });
    }
    const months = wholeMonthsBetween(placed, endExclusive);
    const span = `${spec.placedOnMarket} to end of ${u.supportEnd}`;
    if (months < 0) {
      return fail('SupportPeriodTooShort', `supportEnd ${u.supportEnd} is before placedOnMarket ${spec.placedOnMarket}`, {
        findings: [{ pointer: `${UPD}/supportEnd`, message: 'before placedOnMarket' }],
      });
    }

    const eup = u.expectedUsePeriod;
    let required = minMonths;
    let basis = `the ${minMonths}-month minimum`;
    if (eup !== undefined && eup !== null) {
      const eMonths = eup.months;
      if (typeof eMonths !== 'number' || !Number.isInteger(eMonths) || eMonths < 1) {
        return fail('InvalidSpec', 'spec.updates.expectedUsePeriod.months must be a positive integer', {
          findings: [{ pointer: `${UPD}/expectedUsePeriod/months`, message: 'not a positive integer' }],
        });
      }
      if (eMonths < minMonths) {
        if (isBlank(eup.rationale)) {
          return fail(
            'MissingExpectedUseRationale',
            `expectedUsePeriod of ${eMonths} months is below ${minMonths} and has no rationale`,
            { findings: [{ pointer: `${UPD}/expectedUsePeriod/rationale`, message: 'missing' }] },
          );
        }
        basis = `the expected use period of ${eMonths} months`;
      } else if (eMonths > minMonths) {
        // Art. 13(8): the support period reflects the time the product is expected to be in use.
        basis = `the expected use period of ${eMonths} months`;
      }
      required = eMonths < minMonths ? eMonths : Math.max(minMonths, eMonths);
    }

    const ended = ctx.now.getTime() >= endExclusive.getTime();
    const endedFinding: Finding = {
      pointer: `${UPD}/supportEnd`,
      message: `support ended ${endExclusive.toISOString()} (end of ${u.supportEnd}); evaluated ${ctx.now.toISOString()}`,
    };
    if (months >= required) {
      if (ended) {
        return fail('SupportEnded', `support period ended with ${u.supportEnd} (${span}): no more security updates for this release`, {
          findings: [endedFinding],
        });
      }
      return pass(`support ${months} months (${span}) covers ${basis}; ends ${endExclusive.toISOString()}`, { changesAt: endExclusive });
    }
    const needed = formatDay(new Date(addMonths(placed, required).getTime() - 86_400_000));
    return fail('SupportPeriodTooShort', `support ${months} months (${span}) is below ${basis}; need supportEnd ≥ ${needed}${ended ? '; support has also ended' : ''}`, {
      findings: [{ pointer: `${UPD}/supportEnd`, message: `${months} months < ${required}` }, ...(ended ? [endedFinding] : [])],
    });
  },
};
