/**
 * Annex II of the Cyber Resilience Act: the information and instructions to the user that accompany a product
 * with digital elements. `spec.userInformation` names, per item, the document (an https URL) or the text the
 * manufacturer provides. Items already checked elsewhere are not repeated here: Annex II(1) manufacturer identity
 * (manufacturer.identity) and Annex II(2) the single point of contact for vulnerabilities (disclosure.contact).
 */
import type { FetchedDocument } from '../disclosure/evidence.ts';

export interface InfoItem {
  readonly url?: string;
  readonly text?: string;
}

export interface UserInformationSpec {
  readonly productIdentification?: InfoItem;
  readonly intendedPurpose?: InfoItem;
  readonly foreseeableMisuse?: InfoItem;
  readonly declarationOfConformity?: InfoItem;
  readonly supportPeriod?: InfoItem;
  readonly secureCommissioning?: InfoItem;
  readonly changesAffectingSecurity?: InfoItem;
  readonly installingUpdates?: InfoItem;
  readonly secureDecommissioning?: InfoItem;
  readonly disablingAutomaticUpdates?: InfoItem;
  readonly integrationInformation?: InfoItem;
  readonly sbomAvailableToUsers?: boolean;
  readonly sbomLocation?: InfoItem;
}

export type InfoKey = Exclude<keyof UserInformationSpec, 'sbomAvailableToUsers'>;

export interface AnnexIIItem {
  readonly key: InfoKey;
  readonly ref: string;
  readonly title: string;
  /** always; or only under a condition evaluated against the release. */
  readonly required: 'always' | 'automatic-updates' | 'sbom-available' | 'optional';
}

/** The Annex II items this check covers, in the Annex's order. */
export const ANNEX_II_ITEMS: readonly AnnexIIItem[] = [
  { key: 'productIdentification', ref: 'Annex II(3)', title: 'name and type of the product and information enabling its unique identification', required: 'always' },
  { key: 'intendedPurpose', ref: 'Annex II(4)', title: 'intended purpose, security environment, essential functionalities and security properties', required: 'always' },
  { key: 'foreseeableMisuse', ref: 'Annex II(5)', title: 'known or foreseeable circumstances (intended use or reasonably foreseeable misuse) that may lead to significant cybersecurity risks', required: 'always' },
  { key: 'declarationOfConformity', ref: 'Annex II(6)', title: 'internet address of the EU declaration of conformity (where applicable)', required: 'optional' },
  { key: 'supportPeriod', ref: 'Annex II(7), Art. 13(19)', title: 'type of technical security support and the end date of the support period', required: 'always' },
  { key: 'secureCommissioning', ref: 'Annex II(8)(a)', title: 'measures at initial commissioning and throughout the lifetime to ensure secure use', required: 'always' },
  { key: 'changesAffectingSecurity', ref: 'Annex II(8)(b)', title: 'how changes to the product can affect the security of data', required: 'always' },
  { key: 'installingUpdates', ref: 'Annex II(8)(c)', title: 'how security-relevant updates can be installed', required: 'always' },
  { key: 'secureDecommissioning', ref: 'Annex II(8)(d)', title: 'secure decommissioning, including how user data can be securely removed', required: 'always' },
  { key: 'disablingAutomaticUpdates', ref: 'Annex II(8)(e)', title: 'how the default setting enabling automatic installation of security updates can be turned off', required: 'automatic-updates' },
  { key: 'integrationInformation', ref: 'Annex II(8)(f)', title: 'information for integrators where the product is intended for integration into other products', required: 'optional' },
  { key: 'sbomLocation', ref: 'Annex II(9)', title: 'where the SBOM can be accessed, if the manufacturer makes it available to the user', required: 'sbom-available' },
];

/** Documents fetched (through the SSRF guard) for `spec.userInformation` URLs, by item key. */
export type UserInformationEvidence = Readonly<Partial<Record<InfoKey, FetchedDocument>>>;


const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * The ways a support end date ("YYYY-MM-DD", or "YYYY-MM" = end of that month) is commonly written in user
 * documentation: ISO 8601, day.month.year, day/month/year, "31 December 2032", "December 31, 2032", and for a
 * month "December 2032", "12/2032". Matching is case-insensitive on whole tokens.
 */
export function supportEndRenderings(supportEnd: string): string[] {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(supportEnd);
  if (!m) return [];
  const [, y, mo, d] = m;
  const month = MONTHS[Number(mo) - 1]!;
  const short = month.slice(0, 3);
  const out = new Set<string>([supportEnd]);
  const day = d ?? String(new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate()).padStart(2, '0');
  const dn = String(Number(day));
  for (const s of [`${y}-${mo}-${day}`, `${day}.${mo}.${y}`, `${dn}.${Number(mo)}.${y}`, `${day}/${mo}/${y}`, `${dn} ${month} ${y}`, `${month} ${dn}, ${y}`, `${dn} ${short} ${y}`, `${short} ${dn}, ${y}`]) out.add(s);
  if (!d) for (const s of [`${month} ${y}`, `${short} ${y}`, `${mo}/${y}`, `${y}-${mo}`]) out.add(s);
  return [...out];
}

/** Whether the text states this support end in one of the renderings above. */
export function statesSupportEnd(text: string, supportEnd: string): boolean {
  const hay = text.replace(/\s+/g, ' ').toLowerCase();
  return supportEndRenderings(supportEnd).some((r) => {
    const needle = r.toLowerCase();
    let i = hay.indexOf(needle);
    while (i !== -1) {
      // Whole tokens: not inside a word or number, and not part of a longer date ("2033-01" in "2033-01-15").
      const before = hay.slice(Math.max(0, i - 2), i);
      const after = hay.slice(i + needle.length, i + needle.length + 2);
      if (!/[0-9a-z]$|[0-9][-./]$/.test(before) && !/^[0-9a-z]|^[-./][0-9]/.test(after)) return true;
      i = hay.indexOf(needle, i + 1);
    }
    return false;
  });
}
