/**
 * Evidence collector for userinfo.annex-ii: every https URL in `spec.userInformation` is fetched through the
 * SSRF-guarded fetcher (bounded size and time, like the disclosure documents); the support-period document's
 * text is kept so the check can find the stated end date. Only runs when the policy has the check.
 */
import { ANNEX_II_ITEMS, type InfoKey, type UserInformationSpec } from '../conformity/user-information.ts';
import type { FetchedDocument } from '../disclosure/evidence.ts';
import type { Collector, CollectContext } from './collect.ts';
import { fetchDocument, type DisclosureCollectorOptions } from './disclosure.ts';

export function makeUserInformationCollector(opts: DisclosureCollectorOptions = {}): Collector {
  return async function userInformationCollector(ctx: CollectContext) {
    const enabled = (ctx.policy?.spec.checks ?? []).some((c) => c.id === 'userinfo.annex-ii' && c.enforcement !== 'Off');
    const info = (ctx.release.spec as { userInformation?: UserInformationSpec }).userInformation;
    if (!enabled || !info) return {};
    const out: Partial<Record<InfoKey, FetchedDocument>> = {};
    await Promise.all(
      ANNEX_II_ITEMS.map(async ({ key }) => {
        const url = info[key]?.url;
        if (typeof url === 'string' && url !== '') out[key] = await fetchDocument(url, opts, key === 'supportPeriod', ctx);
      }),
    );
    return { userInformation: out };
  };
}

export const collectUserInformation: Collector = makeUserInformationCollector();
