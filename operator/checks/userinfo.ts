/**
 * userinfo.annex-ii — Annex II, Art. 13(18), 13(19): the information and instructions to the user are provided:
 * each required item of `spec.userInformation` is given (a text, or an https URL that resolves to a document,
 * fetched through the SSRF guard), and the end of support stated there is `spec.updates.supportEnd`.
 *
 * Conditional items: Annex II(8)(e) (turning off automatic updates) when spec.updates.automatic is true; Annex
 * II(9) (where the SBOM can be accessed) when userInformation.sbomAvailableToUsers is true. Annex II(6) and
 * II(8)(f) are "where applicable" and only checked when given. Fail closed: a URL that was not fetched, does not
 * resolve, or a support-period document in which the date cannot be found never passes.
 */
import { craBasis, errorOutcome, fail, isBlank, pass } from './types.ts';
import type { CheckContext, CheckDefinition, CheckOutcome, Finding } from './types.ts';
import type { Reason } from '../errors.ts';
import { ANNEX_II_ITEMS, statesSupportEnd, type AnnexIIItem, type InfoItem, type UserInformationSpec } from '../conformity/user-information.ts';

const U = '/spec/userInformation';

/** The Annex point alone ("Annex II(7)" of "Annex II(7), Art. 13(19)"). */
function itemRef(item: AnnexIIItem): string {
  return item.ref.split(',')[0]!.trim();
}

function isRequired(item: AnnexIIItem, ctx: CheckContext, info: UserInformationSpec): boolean {
  switch (item.required) {
    case 'always':
      return true;
    case 'automatic-updates':
      return ctx.release.spec.updates?.automatic === true;
    case 'sbom-available':
      return info.sbomAvailableToUsers === true;
    case 'optional':
      return false;
  }
}

export const userInformationAnnexII: CheckDefinition = {
  id: 'userinfo.annex-ii',
  title: 'Information and instructions to the user (Annex II)',
  cra: ['Annex II', 'Art. 13(18)', 'Art. 13(19)'],
  standards: [],
  reads: 'spec.userInformation (URLs fetched over HTTPS through the SSRF guard), spec.updates.supportEnd',
  passRule:
    'every required Annex II item is given as text or as an https URL that resolves; the support-period item states spec.updates.supportEnd',
  fix: 'Fill spec.userInformation for each Annex II item (url or text); state the end of support exactly as spec.updates.supportEnd.',
  inForceFrom: '2027-12-11',
  run(ctx: CheckContext): CheckOutcome {
    const info = ((ctx.release.spec as { userInformation?: UserInformationSpec }).userInformation ?? {});
    const fetched = ctx.evidence.userInformation;
    const problems: { reason: Reason; finding: Finding }[] = [];
    let given = 0;
    for (const item of ANNEX_II_ITEMS) {
      const rawItem: unknown = info[item.key];
      const value: InfoItem | undefined = typeof rawItem === 'object' && rawItem !== null ? (rawItem) : undefined;
      const pointer = `${U}/${item.key}`;
      const hasUrl = typeof value?.url === 'string' && value.url !== '';
      const hasText = !isBlank(value?.text);
      if (!hasUrl && !hasText) {
        if (isRequired(item, ctx, info)) problems.push({ reason: 'UserInformationMissing', finding: { pointer, message: `${item.ref} missing: ${item.title}`, basis: craBasis(itemRef(item)) } });
        continue;
      }
      given++;
      if (hasUrl) {
        const doc = fetched?.[item.key];
        if (!doc) return errorOutcome('EvidenceUnavailable', `${item.ref} document ${value.url} was not fetched`);
        if (!doc.ok) {
          // As the disclosure checks: an HTTP 4xx is the manufacturer's (Fail); anything else could not be
          // assessed (network, TLS, SSRF refusal, --offline) and ends in Error, never a Pass.
          const status = doc.error?.httpStatus;
          if (status === undefined || status < 400 || status >= 500) {
            return errorOutcome(doc.error?.reason ?? 'FetchFailed', `${item.ref} ${doc.url}: ${doc.error?.message ?? 'not fetched'}`);
          }
          problems.push({ reason: 'UserInformationUnreachable', finding: { pointer: `${pointer}/url`, message: `${item.ref} ${doc.url} does not resolve: HTTP ${status}`, basis: craBasis(itemRef(item)) } });
          continue;
        }
      }
      if (item.key === 'supportPeriod') {
        const rawEnd: unknown = ctx.release.spec.updates?.supportEnd;
        const end = typeof rawEnd === 'string' ? rawEnd : undefined;
        const text = hasText ? value!.text! : (fetched?.supportPeriod?.text ?? '');
        if (isBlank(end)) {
          problems.push({ reason: 'SupportEndMismatch', finding: { pointer: '/spec/updates/supportEnd', message: 'spec.updates.supportEnd is not set, so the stated end of support cannot be compared' } });
        } else if (!statesSupportEnd(text, end!)) {
          problems.push({
            reason: 'SupportEndMismatch',
            finding: { pointer: `${pointer}/${hasText ? 'text' : 'url'}`, message: `the support-period information does not state the end date ${end} (spec.updates.supportEnd) (Art. 13(19))`, basis: craBasis('Art. 13(19)') },
          });
        }
      }
    }
    if (problems.length === 0) return pass(`Annex II user information: ${given} item(s) given, every required one present; support end ${ctx.release.spec.updates?.supportEnd} stated`);
    return fail(problems[0]!.reason, `${problems.length} Annex II problem(s): ${problems.slice(0, 3).map((p) => p.finding.message).join('; ')}${problems.length > 3 ? '; …' : ''}`, {
      findings: problems.map((p) => p.finding),
    });
  },
};
