/**
 * The CISA Known Exploited Vulnerabilities catalogue (its JSON format: title, catalogVersion,
 * dateReleased, count, vulnerabilities[] with cveID, vendorProject, product, dateAdded, dueDate, …).
 * KEV entries name CVEs, not packages: a component is "known exploited" when one of its OSV matches has
 * the KEV CVE as id or alias.
 */
import { FeedFormatError, parseFeedJson } from './errors.ts';
import { isObject } from '../util/json.ts';

export interface KevEntry {
  readonly cveID: string;
  readonly vendorProject: string;
  readonly product: string;
  readonly vulnerabilityName?: string;
  readonly dateAdded: string;
  readonly dueDate?: string;
  readonly knownRansomwareCampaignUse?: string;
}

export interface KevCatalogue {
  readonly catalogVersion: string;
  readonly dateReleased?: string;
  /** Upper-cased CVE id -> entry. */
  readonly entries: ReadonlyMap<string, KevEntry>;
}

const CVE_RE = /^CVE-\d{4}-\d{4,}$/i;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export function parseKev(bytes: Uint8Array | string, name = 'KEV catalogue'): KevCatalogue {
  const raw = parseFeedJson(bytes, name);
  if (!isObject(raw) || !Array.isArray(raw.vulnerabilities)) {
    throw new FeedFormatError(`${name}: not a KEV catalogue (an object with a "vulnerabilities" array is expected)`);
  }
  const entries = new Map<string, KevEntry>();
  for (const [i, v] of raw.vulnerabilities.entries()) {
    const at = `${name} /vulnerabilities/${i}`;
    if (!isObject(v)) throw new FeedFormatError(`${at}: must be an object`);
    if (typeof v.cveID !== 'string' || !CVE_RE.test(v.cveID)) throw new FeedFormatError(`${at}/cveID: a CVE id is required`);
    if (typeof v.dateAdded !== 'string' || !DAY_RE.test(v.dateAdded)) throw new FeedFormatError(`${at}/dateAdded: a YYYY-MM-DD date is required`);
    const s = (k: string): string | undefined => { const x = v[k]; return typeof x === 'string' ? x : undefined; };
    entries.set(v.cveID.toUpperCase(), {
      cveID: v.cveID.toUpperCase(),
      vendorProject: s('vendorProject') ?? '',
      product: s('product') ?? '',
      dateAdded: v.dateAdded,
      ...(s('vulnerabilityName') ? { vulnerabilityName: s('vulnerabilityName')! } : {}),
      ...(s('dueDate') ? { dueDate: s('dueDate')! } : {}),
      ...(s('knownRansomwareCampaignUse') ? { knownRansomwareCampaignUse: s('knownRansomwareCampaignUse')! } : {}),
    });
  }
  return {
    catalogVersion: typeof raw.catalogVersion === 'string' ? raw.catalogVersion : 'unknown',
    ...(typeof raw.dateReleased === 'string' ? { dateReleased: raw.dateReleased } : {}),
    entries,
  };
}
