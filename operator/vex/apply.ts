/**
 * Which VEX statement speaks for a (vulnerability, component) match. A statement applies when it names one
 * of the match's vulnerability ids and either names the component (purl, bom-ref, CPE) or names the
 * product as a whole (the SBOM's primary component or the VEX document's subject) without narrowing it to
 * other subcomponents. The last applicable statement wins (OpenVEX statements are sorted by timestamp).
 * Only `not_affected` (validated: it carries a justification or impact statement) and `fixed` suppress.
 */
import { purlMatches } from '../vuln/purl.ts';
import type { VexDocument, VexStatement, VexStatus } from './parse.ts';

export interface VexComponent {
  readonly purl?: string;
  readonly ref?: string;
  readonly cpe?: string;
}

export interface VexVerdict {
  readonly status: VexStatus;
  readonly justification?: string;
  readonly impactStatement?: string;
  /** Where the statement sits: `<document source>#<pointer>`. */
  readonly source: string;
  readonly suppresses: boolean;
}

function idMatches(id: string, c: VexComponent | undefined): boolean {
  if (!c) return false;
  if (c.ref !== undefined && id === c.ref) return true;
  if (c.cpe !== undefined && id === c.cpe) return true;
  if (c.purl !== undefined && id.startsWith('pkg:')) return purlMatches(id, c.purl);
  return false;
}

export interface VexSet {
  readonly documents: readonly { readonly source: string; readonly doc: VexDocument }[];
}

export function vexVerdict(
  set: VexSet,
  vulnerabilityIds: readonly string[],
  component: VexComponent,
  product: VexComponent | undefined,
): VexVerdict | undefined {
  const wanted = new Set(vulnerabilityIds.map((v) => v.toUpperCase()));
  let found: { s: VexStatement; source: string } | undefined;
  for (const { source, doc } of set.documents) {
    for (const s of doc.statements) {
      if (!s.vulnerabilities.some((v) => wanted.has(v))) continue;
      const namesComponent = s.products.some((p) => idMatches(p, component));
      const namesProduct = s.products.some((p) => idMatches(p, product) || doc.subject.includes(p));
      let applies: boolean;
      if (s.subcomponents.length > 0) applies = (namesProduct || namesComponent) && s.subcomponents.some((p) => idMatches(p, component));
      else applies = namesComponent || namesProduct;
      if (applies) found = { s, source };
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
