/**
 * Is the self-declared `spec.placedOnMarket` plausible? (issue 13, item 5)
 *
 * `placedOnMarket` decides which CRA obligations bind a release (Art. 69(2): the Regulation applies to products
 * placed on the market from the dates of Art. 71(2)); a date before 2027-12-11 turns every Block into Warn. It is
 * the manufacturer's own claim, so it is checked against times that evidence already collected proves:
 *  - the SBOM's creation time (CycloneDX `metadata.timestamp`, SPDX `creationInfo.created`),
 *  - the time a verified signature or SBOM attestation was logged (transparency-log `integratedTime`),
 *  - the ProductRelease's `metadata.creationTimestamp` (set by the API server).
 * A product cannot have been placed on the market ("first made available on the Union market") before its
 * SBOM existed, before its release was signed, or before it was submitted to this gate: an evidence time later
 * than the END of the placedOnMarket day plus the tolerance is a contradiction. Contradicted dates are not
 * used to soften enforcement (./enforcement.ts) and `cra.applicability` fails with them.
 */
import type { ProductRelease } from '../checks/api.ts';
import { parseDay } from '../util/dates.ts';
import { pointerSegment } from '../util/json-pointer.ts';
import type { Evidence } from '../checks/types.ts';

const DAY_MS = 86_400_000;
export const DEFAULT_PLACED_ON_MARKET_TOLERANCE_DAYS = 0;
export const MAX_PLACED_ON_MARKET_TOLERANCE_DAYS = 3650;

export interface DateContradiction {
  /** JSON pointer of the later time: into the ProductRelease (`/metadata/creationTimestamp`) or the evidence. */
  readonly pointer: string;
  /** What the time is, e.g. `SBOM timestamp (ConfigMap acme/fw-sbom key bom.json)`. */
  readonly what: string;
  readonly at: Date;
  readonly message: string;
}

export interface PlacedOnMarketCheck {
  /** Midnight UTC of placedOnMarket; undefined when missing or invalid. */
  readonly placed?: Date;
  /**
   * How many evidence times (SBOM timestamps, signature and attestation log times) were compared. The
   * ProductRelease's creationTimestamp is compared too, but not counted: it exists only on the cluster object, and
   * the offline CLI must say the same as the operator for the same evidence (a contradiction still fails in both).
   */
  readonly compared: number;
  readonly contradictions: readonly DateContradiction[];
}

/** The tolerance param (days); undefined when the value is not a valid one. */
export function toleranceDays(value: unknown): number | undefined {
  if (value === undefined) return DEFAULT_PLACED_ON_MARKET_TOLERANCE_DAYS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_PLACED_ON_MARKET_TOLERANCE_DAYS) return undefined;
  return value;
}

function instant(text: unknown): Date | undefined {
  // metadata.creationTimestamp is typed Date by the client library but arrives as an RFC 3339 string from JSON.
  if (text instanceof Date) return Number.isNaN(text.getTime()) ? undefined : text;
  if (typeof text !== 'string' || text.length > 64) return undefined;
  // RFC 3339 date-time (what CycloneDX, SPDX and Kubernetes write); anything else is not compared.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : new Date(t);
}

export function checkPlacedOnMarket(release: ProductRelease, evidence: Evidence, tolerance = DEFAULT_PLACED_ON_MARKET_TOLERANCE_DAYS): PlacedOnMarketCheck {
  const placed = parseDay(release.spec?.placedOnMarket);
  const times: { pointer: string; what: string; at: Date }[] = [];
  const created = instant(release.metadata?.creationTimestamp);
  if (created) times.push({ pointer: '/metadata/creationTimestamp', what: 'the ProductRelease creationTimestamp', at: created });
  for (const s of evidence.sboms ?? []) {
    if (!s.analysis.ok) continue;
    const at = instant(s.analysis.model.timestamp);
    if (at) times.push({ pointer: `/sboms/${pointerSegment(s.artifact)}${s.analysis.model.timestampPointer}`, what: `the SBOM timestamp (${s.source})`, at });
  }
  for (const sig of evidence.signatures ?? []) {
    sig.verified.forEach((v, i) => {
      const at = instant(v.signedAt);
      if (at) times.push({ pointer: `/signatures/${pointerSegment(sig.artifact)}/verified/${i}`, what: `the signature by ${v.signer} logged`, at });
    });
    (sig.attested ?? []).forEach((v, i) => {
      const at = instant(v.signedAt);
      if (at) times.push({ pointer: `/signatures/${pointerSegment(sig.artifact)}/attested/${i}`, what: `the SBOM attestation by ${v.signer} logged`, at });
    });
  }
  const compared = times.filter((t) => t.pointer !== '/metadata/creationTimestamp').length;
  if (!placed) return { compared, contradictions: [] };
  const limit = placed.getTime() + (1 + tolerance) * DAY_MS;
  const day = release.spec.placedOnMarket;
  const contradictions = times
    .filter((t) => t.at.getTime() >= limit)
    .map((t) => ({
      ...t,
      message: `placedOnMarket ${day} is before ${t.what} ${t.at.toISOString()}${tolerance > 0 ? ` (beyond the tolerance of ${tolerance} day(s))` : ''}`,
    }));
  return { placed, compared, contradictions };
}
