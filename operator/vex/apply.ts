/**
 * Which VEX statement speaks for a (vulnerability, component) match. A statement applies when it names one
 * of the match's vulnerability ids and one of its targets binds to THIS release (./bind.ts: the product is
 * the SBOM's primary component with the same version, or a BOM-Link to this SBOM) — for the whole release, or
 * for the components the target is scoped to. A statement about another product or version never applies.
 * The last applicable statement wins (OpenVEX statements are sorted by timestamp). Only `not_affected`
 * (validated: it carries a justification or impact statement) and `fixed` suppress.
 */
import { statementApplies } from './bind.ts';
import type { VexComponentId, VexProduct } from './bind.ts';
import type { VexDocument, VexStatement, VexStatus } from './parse.ts';

export { vexProductOf } from './bind.ts';
export type { VexProduct } from './bind.ts';
/** A component a match was found in. */
export type VexComponent = VexComponentId;

export interface VexVerdict {
  readonly status: VexStatus;
  readonly justification?: string;
  readonly impactStatement?: string;
  /** Where the statement sits: `<document source>#<pointer>`. */
  readonly source: string;
  readonly suppresses: boolean;
}

export interface VexSet {
  readonly documents: readonly { readonly source: string; readonly doc: VexDocument }[];
}

/**
 * The verdict for a match of `vulnerabilityIds` in `component` of the release `product` (from
 * `vexProductOf(sbomModel)`; undefined when the SBOM declares no primary component: then nothing applies).
 */
export function vexVerdict(
  set: VexSet,
  vulnerabilityIds: readonly string[],
  component: VexComponent,
  product: VexProduct | undefined,
): VexVerdict | undefined {
  const wanted = new Set(vulnerabilityIds.map((v) => v.toUpperCase()));
  let found: { s: VexStatement; source: string } | undefined;
  for (const { source, doc } of set.documents) {
    for (const s of doc.statements) {
      if (!s.vulnerabilities.some((v) => wanted.has(v))) continue;
      if (statementApplies(s, component, product)) found = { s, source };
    }
  }
  if (!found) return undefined;
  const { s, source } = found;
  return {
    status: s.status,
    ...(s.justification ? { justification: s.justification } : {}),
    ...(s.impactStatement ? { impactStatement: s.impactStatement } : {}),
    source: `${source}#${s.pointer}`,
    suppresses: s.status === 'fixed' || (s.status === 'not_affected' && Boolean(s.justification || s.impactStatement)),
  };
}
