/**
 * VEX documents — OpenVEX (v0.2.0), the CSAF 2.0 VEX profile and CycloneDX VEX — normalised to statements:
 * (vulnerability ids, products, status, justification / impact statement / action statement).
 *
 * Validation (`problems`): a status outside the format's vocabulary; `not_affected` without a
 * justification or impact statement; `affected` without an action statement (OpenVEX, CSAF remediation).
 * Statements with problems are kept out of `statements`, so an unjustified `not_affected` never suppresses
 * a match. A document that is not a VEX document at all throws FeedFormatError.
 */
import { FeedFormatError } from '../vuln/errors.ts';

export type VexStatus = 'not_affected' | 'affected' | 'fixed' | 'under_investigation';
export type VexFormat = 'openvex' | 'csaf' | 'cyclonedx';

export interface VexStatement {
  /** Vulnerability ids (the statement's id plus aliases), upper-cased. */
  readonly vulnerabilities: readonly string[];
  /** Product identifiers: purls, CPEs, bom-refs, OpenVEX @ids. Empty: the document's product. */
  readonly products: readonly string[];
  /** When non-empty, the statement only covers these components of the products. */
  readonly subcomponents: readonly string[];
  readonly status: VexStatus;
  readonly justification?: string;
  readonly impactStatement?: string;
  readonly actionStatement?: string;
  readonly timestamp?: string;
  /** RFC 6901 pointer into the VEX document. */
  readonly pointer: string;
}

export interface VexProblem {
  readonly pointer: string;
  readonly message: string;
}

export interface VexDocument {
  readonly format: VexFormat;
  /** Identifiers of the product the document is about (CycloneDX metadata.component), if stated. */
  readonly subject: readonly string[];
  readonly statements: readonly VexStatement[];
  readonly problems: readonly VexProblem[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
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
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FeedFormatError(`${name}: not valid JSON (${(err as Error).message.slice(0, 120)})`);
  }
  if (!isObj(raw)) throw new FeedFormatError(`${name}: a VEX document must be a JSON object`);
  const context = raw['@context'];
  if (typeof context === 'string' && context.includes('openvex')) return parseOpenVex(raw);
  if (isObj(raw.document) && typeof raw.document.category === 'string') {
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

function openVexProductIds(p: unknown): string[] {
  if (typeof p === 'string') return [p];
  if (!isObj(p)) return [];
  const out: string[] = [];
  const id = str(p['@id']);
  if (id) out.push(id);
  if (isObj(p.identifiers)) for (const v of Object.values(p.identifiers)) if (typeof v === 'string') out.push(v);
  return out;
}

function parseOpenVex(raw: Record<string, unknown>): VexDocument {
  const statements: VexStatement[] = [];
  const problems: VexProblem[] = [];
  if (!Array.isArray(raw.statements)) problems.push({ pointer: '/statements', message: 'OpenVEX document has no statements array' });
  arr(raw.statements).forEach((s, i) => {
    const pointer = `/statements/${i}`;
    if (!isObj(s)) return problems.push({ pointer, message: 'statement must be an object' });
    const v = s.vulnerability;
    const vulnerabilities = isObj(v) ? ids(v.name, v['@id'], ...arr(v.aliases)) : ids(v);
    if (vulnerabilities.length === 0) return problems.push({ pointer: `${pointer}/vulnerability`, message: 'statement names no vulnerability' });
    const status = str(s.status);
    if (status !== 'not_affected' && status !== 'affected' && status !== 'fixed' && status !== 'under_investigation') {
      return problems.push({ pointer: `${pointer}/status`, message: `unknown status "${String(s.status).slice(0, 40)}"` });
    }
    const products: string[] = [];
    const subcomponents: string[] = [];
    for (const p of arr(s.products)) {
      products.push(...openVexProductIds(p));
      if (isObj(p)) for (const sc of arr(p.subcomponents)) subcomponents.push(...openVexProductIds(sc));
    }
    if (products.length === 0) return problems.push({ pointer: `${pointer}/products`, message: 'statement names no product' });
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
      products,
      subcomponents,
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
  return { format: 'openvex', subject: [], statements, problems };
}

// ---- CSAF 2.0 VEX profile --------------------------------------------------------------------------------

function csafProducts(raw: Record<string, unknown>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const add = (p: unknown) => {
    if (!isObj(p) || typeof p.product_id !== 'string') return;
    const idsOut = [p.product_id];
    const h = p.product_identification_helper;
    if (isObj(h)) {
      if (typeof h.purl === 'string') idsOut.push(h.purl);
      if (typeof h.cpe === 'string') idsOut.push(h.cpe);
    }
    map.set(p.product_id, idsOut);
  };
  const tree = isObj(raw.product_tree) ? raw.product_tree : {};
  // Iterative walk of branches (bounded by the document size).
  const stack: unknown[] = [...arr(tree.branches)];
  let guard = 0;
  while (stack.length > 0 && guard++ < 100_000) {
    const b = stack.pop();
    if (!isObj(b)) continue;
    add(b.product);
    stack.push(...arr(b.branches));
  }
  for (const p of arr(tree.full_product_names)) add(p);
  for (const r of arr(tree.relationships)) if (isObj(r)) add(r.full_product_name);
  return map;
}

function parseCsaf(raw: Record<string, unknown>): VexDocument {
  const statements: VexStatement[] = [];
  const problems: VexProblem[] = [];
  const products = csafProducts(raw);
  const expand = (pid: string) => products.get(pid) ?? [pid];
  arr(raw.vulnerabilities).forEach((v, i) => {
    const pointer = `/vulnerabilities/${i}`;
    if (!isObj(v)) return problems.push({ pointer, message: 'vulnerability must be an object' });
    const vulnerabilities = ids(v.cve, ...arr(v.ids).map((x) => (isObj(x) ? x.text : undefined)));
    if (vulnerabilities.length === 0) return problems.push({ pointer, message: 'vulnerability has neither cve nor ids' });
    const ps = isObj(v.product_status) ? v.product_status : {};
    const flagFor = new Map<string, string>();
    for (const f of arr(v.flags)) if (isObj(f) && typeof f.label === 'string') for (const pid of arr(f.product_ids)) if (typeof pid === 'string') flagFor.set(pid, f.label);
    const impactFor = new Map<string, string>();
    for (const t of arr(v.threats)) if (isObj(t) && t.category === 'impact' && typeof t.details === 'string') for (const pid of arr(t.product_ids)) if (typeof pid === 'string') impactFor.set(pid, t.details);
    const actionFor = new Map<string, string>();
    for (const r of arr(v.remediations)) if (isObj(r) && typeof r.details === 'string') for (const pid of arr(r.product_ids)) if (typeof pid === 'string') actionFor.set(pid, r.details);
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
          products: expand(pid),
          subcomponents: [],
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
  return { format: 'csaf', subject: [], statements, problems };
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

function parseCycloneDx(raw: Record<string, unknown>): VexDocument {
  const statements: VexStatement[] = [];
  const problems: VexProblem[] = [];
  const subject: string[] = [];
  const meta = isObj(raw.metadata) && isObj(raw.metadata.component) ? raw.metadata.component : undefined;
  if (meta) for (const k of ['bom-ref', 'purl', 'cpe']) if (typeof meta[k] === 'string') subject.push(meta[k]);
  if (!Array.isArray(raw.vulnerabilities)) problems.push({ pointer: '/vulnerabilities', message: 'CycloneDX document has no vulnerabilities (not a VEX)' });
  arr(raw.vulnerabilities).forEach((v, i) => {
    const pointer = `/vulnerabilities/${i}`;
    if (!isObj(v)) return problems.push({ pointer, message: 'vulnerability must be an object' });
    const vulnerabilities = ids(v.id, ...arr(v.references).map((r) => (isObj(r) ? r.id : undefined)));
    if (vulnerabilities.length === 0) return problems.push({ pointer: `${pointer}/id`, message: 'vulnerability has no id' });
    const a = isObj(v.analysis) ? v.analysis : undefined;
    if (!a || typeof a.state !== 'string') return problems.push({ pointer: `${pointer}/analysis/state`, message: 'no analysis state (VEX status)' });
    const status = CDX_STATES[a.state];
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
    const products = arr(v.affects)
      .map((x) => (isObj(x) && typeof x.ref === 'string' ? x.ref : undefined))
      .filter((x): x is string => x !== undefined)
      .map((ref) => (ref.startsWith('urn:cdx:') && ref.includes('#') ? decodeURIComponent(ref.slice(ref.indexOf('#') + 1)) : ref));
    if (products.length === 0) return problems.push({ pointer: `${pointer}/affects`, message: 'vulnerability affects nothing (no affects[].ref)' });
    statements.push({
      vulnerabilities,
      products,
      subcomponents: [],
      status,
      ...(justification ? { justification } : {}),
      ...(detail && status === 'not_affected' ? { impactStatement: detail } : {}),
      ...(status === 'affected' && (detail || responses.length) ? { actionStatement: detail ?? responses.join(', ') } : {}),
      pointer,
    });
  });
  return { format: 'cyclonedx', subject, statements, problems };
}
