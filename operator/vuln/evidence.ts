/**
 * The `vulnerabilities` evidence field: SBOM components × OSV / NVD feeds × KEV catalogues × VEX, computed by the
 * collector (../evidence/vuln.ts) so both vulnerability checks read one consistent picture.
 */
import type { Reason } from '../errors.ts';
import type { VexFormat, VexProblem } from '../vex/parse.ts';
import type { VexSet, VexVerdict } from '../vex/apply.ts';
import type { Evidence } from '../checks/types.ts';
import type { OsvIndex } from './match.ts';
import type { NvdIndex } from './nvd.ts';
import type { KevCatalogue } from './kev.ts';
import { assessVulnerabilities } from './assess.ts';

export interface FeedState {
  readonly kind: 'osv' | 'kev' | 'nvd';
  /** `ConfigMap ns/name[/key]`, the URL, or `oci://<reference>`. */
  readonly source: string;
  /** `sha256:<hex>` of the feed content in use. */
  readonly digest?: string;
  /** Records (OSV) or entries (KEV) in use. */
  readonly records: number;
  /** NVD: records without any vulnerable CPE criterion (e.g. "Awaiting Analysis"); they match nothing. */
  readonly unconfigured?: number;
  /** When the content in use was read. */
  readonly loadedAt?: string;
  /** The last refresh failed; `digest`/`records` describe the previous good content still in use (if any). */
  readonly error?: { readonly reason: Reason; readonly message: string };
}

export interface VexState {
  readonly source: string;
  readonly format?: VexFormat;
  readonly statements: number;
  readonly problems: readonly VexProblem[];
  /** Could not be read or is not a VEX document. */
  readonly error?: { readonly reason: Reason; readonly message: string };
}

export interface VulnMatch {
  /** OSV id of the advisory, or the CVE id of an NVD record. */
  readonly advisory: string;
  readonly aliases: readonly string[];
  readonly summary?: string;
  /** The component's identifier: its purl, else its CPE, else name@version. */
  readonly purl: string;
  /** The component's CPE, when it has one. */
  readonly cpe?: string;
  /** Which feed kind found it. */
  readonly source: 'osv' | 'nvd';
  /** JSON pointer of the component in its SBOM. */
  readonly pointer: string;
  /** The SBOM (artifact) it was found in. */
  readonly artifact: string;
  /** The advisory's range could not be decided for this version (fail closed: counts as affected). */
  readonly uncertain?: string;
  readonly notes: readonly string[];
  /** The CISA KEV entry, when one of the ids is known exploited. */
  readonly kev?: { readonly cveID: string; readonly dateAdded: string; readonly knownRansomwareCampaignUse?: string };
  readonly vex?: VexVerdict;
}

/** A component no feed could assess, and why. */
export interface UnassessedComponent {
  readonly artifact: string;
  /** JSON pointer of the component in its SBOM. */
  readonly pointer: string;
  /** purl, CPE or name@version. */
  readonly component: string;
  readonly reason: string;
}

/** A component whose purl version, CPE version and version field disagree. */
export interface VersionConflict {
  readonly artifact: string;
  readonly pointer: string;
  readonly component: string;
  readonly version?: string;
  readonly purlVersion?: string;
  readonly cpeVersion?: string;
}

export interface VulnerabilityEvidence {
  readonly feeds: readonly FeedState[];
  readonly vex: readonly VexState[];
  /** Non-primary components at least one feed could assess. */
  readonly componentsAssessed: number;
  /** Non-primary components of the usable SBOMs. */
  readonly componentsTotal: number;
  /** Components no feed could assess (never silently skipped). */
  readonly unassessed: readonly UnassessedComponent[];
  readonly versionConflicts: readonly VersionConflict[];
  /** SBOMs that could not be used (each makes the checks Error: fail closed). */
  readonly sbomProblems: readonly string[];
  readonly matches: readonly VulnMatch[];
  /** Records in the OSV and NVD indexes in use. */
  readonly advisories: number;
}

/** What the collector provides: the feeds of the policy (indexed) and the release's VEX documents. */
export interface VulnFeedsEvidence {
  readonly feeds: readonly FeedState[];
  readonly index: OsvIndex;
  /** CPE matching over the policy's NVD feeds; absent when it has none. */
  readonly nvd?: NvdIndex;
  readonly kev: readonly KevCatalogue[];
  readonly vex: readonly VexState[];
  readonly vexSet: VexSet;
}


const memo = new WeakMap<object, WeakMap<object, VulnerabilityEvidence>>();

/**
 * The matching result for an evidence set (pure; memoised per (SBOM list, feeds) so both vulnerability
 * checks share one computation). Undefined when the feeds were not collected.
 */
export function vulnerabilityEvidence(evidence: Evidence): VulnerabilityEvidence | undefined {
  const vf = evidence.vulnFeeds;
  if (!vf) return undefined;
  const declared = evidence.sboms ?? [];
  // Referenced BOMs come from the same collection as the declared ones: the declared list keys the memo.
  let inner = memo.get(declared);
  if (!inner) memo.set(declared, (inner = new WeakMap()));
  const hit = inner.get(vf);
  if (hit) return hit;
  const sboms = evidence.referencedSboms?.length ? [...declared, ...evidence.referencedSboms] : declared;
  const r = assessVulnerabilities({ sboms, index: vf.index, ...(vf.nvd ? { nvd: vf.nvd } : {}), kev: vf.kev, vex: vf.vexSet });
  const out: VulnerabilityEvidence = {
    feeds: vf.feeds,
    vex: vf.vex,
    componentsAssessed: r.componentsAssessed,
    componentsTotal: r.componentsTotal,
    unassessed: r.unassessed,
    versionConflicts: r.versionConflicts,
    sbomProblems: r.sbomProblems,
    matches: r.matches,
    advisories: vf.index.recordCount + (vf.nvd?.recordCount ?? 0),
  };
  inner.set(vf, out);
  return out;
}
