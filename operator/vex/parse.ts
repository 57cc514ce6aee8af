/**
 * VEX documents — OpenVEX (v0.2.0), the CSAF 2.0 VEX profile and CycloneDX VEX — normalised to statements:
 * (vulnerability ids, targets, status, justification / impact statement / action statement). A target is
 * what one product entry of the statement names (OpenVEX products[] with subcomponents, a CSAF product_id
 * resolved through the product tree, a CycloneDX affects[].ref resolved within the VEX document); whether it
 * is THIS release is decided against the release's SBOM in ./bind.ts.
 *
 * Validation (`problems`): a status outside the format's vocabulary; `not_affected` without a
 * justification or impact statement; `affected` without an action statement (OpenVEX, CSAF remediation).
 * Statements with problems are kept out of `statements`, so an unjustified `not_affected` never suppresses
 * a match. A document that is not a VEX document at all throws FeedFormatError.
 */
import { nonFinitePointers } from '../util/json.ts';
import { FeedFormatError, parseFeedJson } from '../vuln/errors.ts';
import { isObject } from '../util/json.ts';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
export type VexFormat = 'openvex' | 'csaf' | 'cyclonedx';

export interface VexStatement {
  /** Vulnerability ids (the statement's id plus aliases), upper-cased. */
  readonly vulnerabilities: readonly string[];
  /**
   * What the statement is about: one entry per product it names. It speaks for this release only through a
   * target that identifies the release (see ./bind.ts); every other target is ignored.
   */
  readonly targets: readonly VexTarget[];
  readonly status: VexStatus;
  readonly justification?: string;
  readonly impactStatement?: string;
  readonly actionStatement?: string;
  readonly timestamp?: string;
  /** RFC 6901 pointer into the VEX document. */
  readonly pointer: string;
}

/** One identifier, as the VEX document gives it. */
export type VexRef =
  | { readonly kind: 'purl'; readonly value: string }
  | { readonly kind: 'cpe'; readonly value: string }
  /** CycloneDX BOM-Link `urn:cdx:<serial>/<version>[#<bom-ref>]`. */
  | { readonly kind: 'bomlink'; readonly serial: string; readonly version: number; readonly ref?: string }
  /** Anything else (an OpenVEX @id IRI, a bom-ref): names something, identifies nothing. */
  | { readonly kind: 'other'; readonly value: string };

export interface VexTarget {
  /** Alternative identifiers of the product (any one identifying the release binds the statement). */
  readonly product: readonly VexRef[];
  /** When present, the statement covers only the components these identify (OpenVEX subcomponents, CSAF relationships). */
  readonly components?: readonly VexRef[];
  /**
   * CycloneDX: the VEX document's own subject (metadata.component). When `product` does not identify the
   * release but `within` does, `product` names a component of it.
   */
  readonly within?: readonly VexRef[];
  /** Known at parse time: why this target can identify nothing (e.g. a CSAF product without a helper). */
  readonly unresolved?: string;
  /** RFC 6901 pointer of the product entry in the VEX document. */
  readonly pointer: string;
}

export interface VexProblem {
  readonly pointer: string;
  readonly message: string;
}

export interface VexDocument {
  readonly format: VexFormat;
  readonly statements: readonly VexStatement[];
  readonly problems: readonly VexProblem[];
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

const OPENVEX_JUSTIFICATIONS = new Set([
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
]);
const CDX_JUSTIFICATIONS = new Set([
  'code_not_present',
  'code_not_reachable',
  'requires_configuration',
  'requires_dependency',
  'requires_environment',
  'protected_by_compiler',
  'protected_at_runtime',
  'protected_at_perimeter',
  'protected_by_mitigating_control',
]);

export function parseVex(bytes: Uint8Array | string, name = 'VEX document'): VexDocument {
  const raw = parseFeedJson(bytes, name);
  if (!isObject(raw)) throw new FeedFormatError(`${name}: a VEX document must be a JSON object`);
  // `1e999` parses to Infinity: not a JSON number, so the document is schema-invalid.
  const nonFinite = nonFinitePointers(raw, 1);
  if (nonFinite.length > 0) throw new FeedFormatError(`${name}: schema-invalid: number at ${nonFinite[0] || '/'} is not finite (overflows to Infinity)`);
  const context = raw['@context'];
  if (typeof context === 'string' && context.includes('openvex')) return parseOpenVex(raw);
  if (isObject(raw.document) && typeof raw.document.category === 'string') {
    if (raw.document.category !== 'csaf_vex') {
      throw new FeedFormatError(`${name}: a CSAF document of category "${raw.document.category}", not "csaf_vex"`);
    }
    return parseCsaf(raw);
  }
  if (raw.bomFormat === 'CycloneDX') return parseCycloneDx(raw);
  throw new FeedFormatError(`${name}: not OpenVEX, CSAF VEX or CycloneDX VEX`);
}

function ids(...vs: unknown[]): string[] {
  return vs.map(str).filter((s): s is string => s !== undefined).map((s) => s.toUpperCase());
}

// ---- OpenVEX --------------------------------------------------------------------------------------------

/** Classifies one identifier string: a purl, a CPE (2.2 URI or 2.3 formatted string), a BOM-Link or other. */
export function refOf(id: string): VexRef {
  const v = id.trim();
  if (/^pkg:/i.test(v)) return { kind: 'purl', value: v };
  if (/^cpe:(2\.3:|\/)/i.test(v)) return { kind: 'cpe', value: v };
  const link = /^urn:cdx:([^/#]+)\/([0-9]+)(?:#(.*))?$/.exec(v);
  if (link) {
    let ref: string | undefined;
    try {
      ref = link[3] === undefined || link[3] === '' ? undefined : decodeURIComponent(link[3]);
    } catch {
      return { kind: 'other', value: v };
    }
    return { kind: 'bomlink', serial: link[1]!, version: Number(link[2]), ...(ref !== undefined ? { ref } : {}) };
  }
  return { kind: 'other', value: v };
}

/** OpenVEX product or subcomponent: `@id` plus `identifiers` (purl, cpe22, cpe23). */
function openVexRefs(p: unknown): VexRef[] {
  if (typeof p === 'string') return str(p) ? [refOf(p)] : [];
  if (!isObject(p)) return [];
  const out: VexRef[] = [];
  const id = str(p['@id']);
  if (id) out.push(refOf(id));
  if (isObject(p.identifiers)) {
    for (const [k, v] of Object.entries(p.identifiers)) {
      const text = str(v);
      if (!text) continue;
      if (k === 'purl') out.push({ kind: 'purl', value: text });
      else if (k === 'cpe22' || k === 'cpe23') out.push({ kind: 'cpe', value: text });
      else out.push(refOf(text));
    }
  }
  return out;
}

function parseOpenVex(raw: Record<string, unknown>): VexDocument {
  const statements: VexStatement[] = [];
  const problems: VexProblem[] = [];
  if (!Array.isArray(raw.statements)) problems.push({ pointer: '/statements', message: 'OpenVEX document has no statements array' });
  arr(raw.statements).forEach((s, i) => {
    const pointer = `/statements/${i}`;
    if (!isObject(s)) return problems.push({ pointer, message: 'statement must be an object' });
    const v = s.vulnerability;
    const vulnerabilities = isObject(v) ? ids(v.name, v['@id'], ...arr(v.aliases)) : ids(v);
    if (vulnerabilities.length === 0) return problems.push({ pointer: `${pointer}/vulnerability`, message: 'statement names no vulnerability' });
    const status = str(s.status);
    if (status !== 'not_affected' && status !== 'affected' && status !== 'fixed' && status !== 'under_investigation') {
      return problems.push({ pointer: `${pointer}/status`, message: `unknown status "${String(s.status).slice(0, 40)}"` });
    }
    const targets: VexTarget[] = [];
    arr(s.products).forEach((p, k) => {
      const product = openVexRefs(p);
      const subs = isObject(p) ? arr(p.subcomponents) : [];
      const components = subs.flatMap(openVexRefs);
      const unresolved =
        product.length === 0
          ? 'the product has neither @id nor identifiers'
          : subs.length > 0 && components.length === 0
            ? 'its subcomponents have neither @id nor identifiers'
            : undefined;
      targets.push({
        product,
        ...(subs.length > 0 ? { components } : {}),
        ...(unresolved ? { unresolved } : {}),
        pointer: `${pointer}/products/${k}`,
      });
    });
    if (targets.length === 0) return problems.push({ pointer: `${pointer}/products`, message: 'statement names no product' });
    const justification = str(s.justification);
    const impactStatement = str(s.impact_statement);
    const actionStatement = str(s.action_statement);
    if (status === 'not_affected') {
      if (!justification && !impactStatement) {
        return problems.push({ pointer, message: 'not_affected needs a justification or an impact_statement' });
      }
      if (justification && !OPENVEX_JUSTIFICATIONS.has(justification)) {
        return problems.push({ pointer: `${pointer}/justification`, message: `unknown justification "${justification.slice(0, 60)}"` });
      }
    }
    if (status === 'affected' && !actionStatement) return problems.push({ pointer, message: 'affected needs an action_statement' });
    statements.push({
      vulnerabilities,
      targets,
      status,
      ...(justification ? { justification } : {}),
      ...(impactStatement ? { impactStatement } : {}),
      ...(actionStatement ? { actionStatement } : {}),
      ...(str(s.timestamp) ?? str(raw.timestamp) ? { timestamp: (str(s.timestamp) ?? str(raw.timestamp))! } : {}),
      pointer,
    });
  });
  // Later statements (by timestamp, then document order) supersede earlier ones.
  statements.sort((a, b) => (a.timestamp ?? '').localeCompare(b.timestamp ?? ''));
  return { format: 'openvex', statements, problems };
}

// ---- CSAF 2.0 VEX profile --------------------------------------------------------------------------------

interface CsafProduct {
  readonly refs: VexRef[];
  readonly pointer: string;
  /** A product formed by a relationship: `component` (product_reference) as part of `product` (relates_to_product_reference). */
  readonly relation?: { readonly component: string; readonly product: string; readonly category: string };
}

/** product_id -> identifiers (product_identification_helper purl / cpe) from branches, full_product_names, relationships. */
function csafProducts(raw: Record<string, unknown>): Map<string, CsafProduct> {
  const map = new Map<string, CsafProduct>();
  const helperRefs = (p: Record<string, unknown>): VexRef[] => {
    const h = p.product_identification_helper;
    const out: VexRef[] = [];
    if (isObject(h)) {
      if (str(h.purl)) out.push({ kind: 'purl', value: str(h.purl)! });
      if (str(h.cpe)) out.push({ kind: 'cpe', value: str(h.cpe)! });
    }
    return out;
  };
  const add = (p: unknown, pointer: string, relation?: CsafProduct['relation']) => {
    if (!isObject(p) || typeof p.product_id !== 'string') return;
    map.set(p.product_id, { refs: helperRefs(p), pointer, ...(relation ? { relation } : {}) });
  };
  const tree = isObject(raw.product_tree) ? raw.product_tree : {};
  // Iterative walk of branches (bounded by the document size).
  const stack: { b: unknown; at: string }[] = arr(tree.branches).map((b, i) => ({ b, at: `/product_tree/branches/${i}` }));
  let guard = 0;
  while (stack.length > 0 && guard++ < 100_000) {
    const { b, at } = stack.pop()!;
    if (!isObject(b)) continue;
    add(b.product, `${at}/product`);
    arr(b.branches).forEach((c, i) => stack.push({ b: c, at: `${at}/branches/${i}` }));
  }
  arr(tree.full_product_names).forEach((p, i) => add(p, `/product_tree/full_product_names/${i}`));
  arr(tree.relationships).forEach((r, i) => {
    if (!isObject(r) || typeof r.product_reference !== 'string' || typeof r.relates_to_product_reference !== 'string') return;
    add(r.full_product_name, `/product_tree/relationships/${i}`, {
      component: r.product_reference,
      product: r.relates_to_product_reference,
      category: typeof r.category === 'string' ? r.category : 'relationship',
    });
  });
  return map;
}

/** The target a CSAF product_id stands for. */
function csafTarget(products: Map<string, CsafProduct>, pid: string, statusPointer: string): VexTarget {
  const p = products.get(pid);
  if (!p) return { product: [], unresolved: `product_id "${pid.slice(0, 80)}" is not in the product tree`, pointer: statusPointer };
  if (p.relation) {
    const product = products.get(p.relation.product);
    const component = products.get(p.relation.component);
    const unresolved = !product
      ? `relationship names product_id "${p.relation.product.slice(0, 80)}", which is not in the product tree`
      : product.refs.length === 0
        ? `product "${p.relation.product.slice(0, 80)}" has no purl or cpe in product_identification_helper`
        : !component || component.refs.length === 0
          ? `component "${p.relation.component.slice(0, 80)}" has no purl or cpe in product_identification_helper`
          : undefined;
    return {
      product: product?.refs ?? [],
      components: component?.refs ?? [],
      ...(unresolved ? { unresolved } : {}),
      pointer: p.pointer,
    };
  }
  return {
    product: p.refs,
    ...(p.refs.length === 0 ? { unresolved: `product "${pid.slice(0, 80)}" has no purl or cpe in product_identification_helper` } : {}),
    pointer: p.pointer,
  };
}

function parseCsaf(raw: Record<string, unknown>): VexDocument {
  const statements: VexStatement[] = [];
  const problems: VexProblem[] = [];
  const products = csafProducts(raw);
  arr(raw.vulnerabilities).forEach((v, i) => {
    const pointer = `/vulnerabilities/${i}`;
    if (!isObject(v)) return problems.push({ pointer, message: 'vulnerability must be an object' });
    const vulnerabilities = ids(v.cve, ...arr(v.ids).map((x) => (isObject(x) ? x.text : undefined)));
    if (vulnerabilities.length === 0) return problems.push({ pointer, message: 'vulnerability has neither cve nor ids' });
    const ps = isObject(v.product_status) ? v.product_status : {};
    const flagFor = new Map<string, string>();
    for (const f of arr(v.flags)) if (isObject(f) && typeof f.label === 'string') for (const pid of arr(f.product_ids)) if (typeof pid === 'string') flagFor.set(pid, f.label);
    const impactFor = new Map<string, string>();
    for (const t of arr(v.threats)) if (isObject(t) && t.category === 'impact' && typeof t.details === 'string') for (const pid of arr(t.product_ids)) if (typeof pid === 'string') impactFor.set(pid, t.details);
    const actionFor = new Map<string, string>();
    for (const r of arr(v.remediations)) if (isObject(r) && typeof r.details === 'string') for (const pid of arr(r.product_ids)) if (typeof pid === 'string') actionFor.set(pid, r.details);
    const groups: [string, VexStatus][] = [
      ['known_not_affected', 'not_affected'],
      ['known_affected', 'affected'],
      ['fixed', 'fixed'],
      ['first_fixed', 'fixed'],
      ['under_investigation', 'under_investigation'],
    ];
    for (const [field, status] of groups) {
      arr(ps[field]).forEach((pid, j) => {
        if (typeof pid !== 'string') return;
        const p = `${pointer}/product_status/${field}/${j}`;
        const justification = flagFor.get(pid);
        const impactStatement = impactFor.get(pid);
        const actionStatement = actionFor.get(pid);
        if (status === 'not_affected' && !justification && !impactStatement) {
          return problems.push({ pointer: p, message: `known_not_affected product ${pid} has neither a flag nor an impact threat` });
        }
        if (status === 'affected' && !actionStatement) {
          return problems.push({ pointer: p, message: `known_affected product ${pid} has no remediation` });
        }
        statements.push({
          vulnerabilities,
          targets: [csafTarget(products, pid, p)],
          status,
          ...(justification ? { justification } : {}),
          ...(impactStatement ? { impactStatement } : {}),
          ...(actionStatement ? { actionStatement } : {}),
          pointer: p,
        });
      });
    }
    const known = new Set(['known_not_affected', 'known_affected', 'fixed', 'first_fixed', 'under_investigation', 'first_affected', 'last_affected', 'recommended']);
    for (const k of Object.keys(ps)) if (!known.has(k)) problems.push({ pointer: `${pointer}/product_status/${k}`, message: `unknown product status "${k}"` });
  });
  return { format: 'csaf', statements, problems };
}

// ---- CycloneDX VEX --------------------------------------------------------------------------------------

const CDX_STATES: Record<string, VexStatus> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
};

function cdxRefs(c: Record<string, unknown>): VexRef[] {
  const out: VexRef[] = [];
  if (str(c.purl)) out.push({ kind: 'purl', value: str(c.purl)! });
  if (str(c.cpe)) out.push({ kind: 'cpe', value: str(c.cpe)! });
  return out;
}

/** The target of one `affects[].ref`, resolved within the VEX document; the SBOM side is ./bind.ts. */
function cdxTarget(ref: string, pointer: string, meta: Record<string, unknown> | undefined, byRef: Map<string, Record<string, unknown>>): VexTarget {
  const subject = meta ? cdxRefs(meta) : [];
  const r = refOf(ref);
  if (r.kind !== 'other') return { product: [r], ...(subject.length > 0 && r.kind !== 'bomlink' ? { within: subject } : {}), pointer };
  if (meta && meta['bom-ref'] === ref) {
    return { product: subject, ...(subject.length === 0 ? { unresolved: `metadata.component "${ref.slice(0, 80)}" has neither purl nor cpe` } : {}), pointer };
  }
  const c = byRef.get(ref);
  if (!c) {
    return { product: [], unresolved: `ref "${ref.slice(0, 80)}" is neither a BOM-Link, a purl or CPE, nor a bom-ref of this VEX document`, pointer };
  }
  const refs = cdxRefs(c);
  return {
    product: refs,
    ...(subject.length > 0 ? { within: subject } : {}),
    ...(refs.length === 0 ? { unresolved: `component "${ref.slice(0, 80)}" has neither purl nor cpe` } : {}),
    pointer,
  };
}

function parseCycloneDx(raw: Record<string, unknown>): VexDocument {
  const statements: VexStatement[] = [];
  const problems: VexProblem[] = [];
  const meta = isObject(raw.metadata) && isObject(raw.metadata.component) ? raw.metadata.component : undefined;
  const byRef = new Map<string, Record<string, unknown>>();
  const stack: unknown[] = [...arr(raw.components)];
  let guard = 0;
  while (stack.length > 0 && guard++ < 100_000) {
    const c = stack.pop();
    if (!isObject(c)) continue;
    if (typeof c['bom-ref'] === 'string' && !byRef.has(c['bom-ref'])) byRef.set(c['bom-ref'], c);
    stack.push(...arr(c.components));
  }
  if (!Array.isArray(raw.vulnerabilities)) problems.push({ pointer: '/vulnerabilities', message: 'CycloneDX document has no vulnerabilities (not a VEX)' });
  arr(raw.vulnerabilities).forEach((v, i) => {
    const pointer = `/vulnerabilities/${i}`;
    if (!isObject(v)) return problems.push({ pointer, message: 'vulnerability must be an object' });
    const vulnerabilities = ids(v.id, ...arr(v.references).map((r) => (isObject(r) ? r.id : undefined)));
    if (vulnerabilities.length === 0) return problems.push({ pointer: `${pointer}/id`, message: 'vulnerability has no id' });
    const a = isObject(v.analysis) ? v.analysis : undefined;
    if (!a || typeof a.state !== 'string') return problems.push({ pointer: `${pointer}/analysis/state`, message: 'no analysis state (VEX status)' });
    const status = Object.hasOwn(CDX_STATES, a.state) ? CDX_STATES[a.state] : undefined;
    if (!status) return problems.push({ pointer: `${pointer}/analysis/state`, message: `unknown analysis state "${a.state.slice(0, 40)}"` });
    const justification = a.state === 'false_positive' ? 'false_positive' : str(a.justification);
    const detail = str(a.detail);
    if (status === 'not_affected') {
      if (!justification && !detail) return problems.push({ pointer: `${pointer}/analysis`, message: 'not_affected needs a justification or a detail (impact statement)' });
      if (justification && justification !== 'false_positive' && !CDX_JUSTIFICATIONS.has(justification)) {
        return problems.push({ pointer: `${pointer}/analysis/justification`, message: `unknown justification "${justification.slice(0, 60)}"` });
      }
    }
    const responses = arr(a.response).filter((r): r is string => typeof r === 'string');
    const targets: VexTarget[] = [];
    arr(v.affects).forEach((x, k) => {
      const ref = isObject(x) ? str(x.ref) : undefined;
      if (ref) targets.push(cdxTarget(ref, `${pointer}/affects/${k}`, meta, byRef));
    });
    if (targets.length === 0) return problems.push({ pointer: `${pointer}/affects`, message: 'vulnerability affects nothing (no affects[].ref)' });
    statements.push({
      vulnerabilities,
      targets,
      status,
      ...(justification ? { justification } : {}),
      ...(detail && status === 'not_affected' ? { impactStatement: detail } : {}),
      ...(status === 'affected' && (detail || responses.length) ? { actionStatement: detail ?? responses.join(', ') } : {}),
      pointer,
    });
  });
  return { format: 'cyclonedx', statements, problems };
}
