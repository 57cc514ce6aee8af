/**
 * The `vulnerabilities` evidence field: SBOM components × OSV feeds × KEV catalogues × VEX, computed by the
 * collector (../evidence/vuln.ts) so both vulnerability checks read one consistent picture.
 */
import type { Reason } from '../errors.ts';
import type { VexFormat, VexProblem } from '../vex/parse.ts';
import type { VexSet, VexVerdict } from '../vex/apply.ts';
import type { Evidence } from '../checks/types.ts';
import type { OsvIndex } from './match.ts';
import type { KevCatalogue } from './kev.ts';
import { assessVulnerabilities } from './assess.ts';
import '../sbom/evidence.ts';

export interface FeedState {
  readonly kind: 'osv' | 'kev';
  /** `ConfigMap ns/name[/key]`, the URL, or `oci://<reference>`. */
  readonly source: string;
  /** `sha256:<hex>` of the feed content in use. */
  readonly digest?: string;
  /** Records (OSV) or entries (KEV) in use. */
  readonly records: number;
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
  /** OSV id of the advisory. */
  readonly advisory: string;
  readonly aliases: readonly string[];
  readonly summary?: string;
  readonly purl: string;
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

export interface VulnerabilityEvidence {
  readonly feeds: readonly FeedState[];
  readonly vex: readonly VexState[];
  /** Components with a purl that were matched. */
  readonly componentsScanned: number;
  /** Components without a purl (cannot be matched). */
  readonly componentsWithoutPurl: number;
  /** SBOMs that could not be used (each makes the checks Error: fail closed). */
  readonly sbomProblems: readonly string[];
  readonly matches: readonly VulnMatch[];
  /** Records in the OSV index in use. */
  readonly advisories: number;
}

/** What the collector provides: the feeds of the policy (indexed) and the release's VEX documents. */
export interface VulnFeedsEvidence {
  readonly feeds: readonly FeedState[];
  readonly index: OsvIndex;
  readonly kev: readonly KevCatalogue[];
  readonly vex: readonly VexState[];
  readonly vexSet: VexSet;
}

declare module '../checks/types.ts' {
  interface Evidence {
    /** Vulnerability feeds and VEX (collected). Absent: not collected. */
    readonly vulnFeeds?: VulnFeedsEvidence;
  }
}

const memo = new WeakMap<object, WeakMap<object, VulnerabilityEvidence>>();

/**
 * The matching result for an evidence set (pure; memoised per (SBOM list, feeds) so both vulnerability
 * checks share one computation). Undefined when the feeds were not collected.
 */
export function vulnerabilityEvidence(evidence: Evidence): VulnerabilityEvidence | undefined {
  const vf = evidence.vulnFeeds;
  if (!vf) return undefined;
  const sboms = evidence.sboms ?? [];
  let inner = memo.get(sboms);
  if (!inner) memo.set(sboms, (inner = new WeakMap()));
  const hit = inner.get(vf);
  if (hit) return hit;
  const r = assessVulnerabilities({ sboms, index: vf.index, kev: vf.kev, vex: vf.vexSet });
  const out: VulnerabilityEvidence = {
    feeds: vf.feeds,
    vex: vf.vex,
    componentsScanned: r.componentsScanned,
    componentsWithoutPurl: r.componentsWithoutPurl,
    sbomProblems: r.sbomProblems,
    matches: r.matches,
    advisories: vf.index.recordCount,
  };
  inner.set(vf, out);
  return out;
}
