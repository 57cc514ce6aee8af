/**
 * NVD CVE records (NVD CVE API 2.0 JSON: `{"vulnerabilities":[{"cve":{…}}]}`, a JSON array of such responses
 * or of `cve` objects, or one `cve` object) and CPE matching of SBOM components against their
 * `configurations[].nodes[].cpeMatch[]` criteria: `criteria` (a CPE 2.3 name), `vulnerable`, and the version
 * range `versionStartIncluding` / `versionStartExcluding` / `versionEndIncluding` / `versionEndExcluding`.
 *
 * Fail closed: an invalid record rejects the whole feed (the previous good feed stays in use); a component
 * whose CPE is less specific than a criterion, or whose version cannot be ordered against a range, is an
 * undecided match (counts as affected). Criteria with `vulnerable: false` (platforms) and negated nodes never
 * make a component affected; a match inside an AND configuration is reported with a note naming the other
 * conditions (cra-gate cannot see the platform, so it counts).
 */
import semver from 'semver';
import { cpeMatches, CpeError, formatValue, literal, parseCpe, tryParseCpe } from './cpe.ts';
import type { Cpe } from './cpe.ts';
import { FeedFormatError, parseFeedJson } from './errors.ts';
import { VersionError } from './version.ts';
import { isObject } from '../util/json.ts';

export interface NvdCpeMatch {
  readonly criteria: string;
  readonly cpe: Cpe;
  readonly versionStartIncluding?: string;
  readonly versionStartExcluding?: string;
  readonly versionEndIncluding?: string;
  readonly versionEndExcluding?: string;
  /** Other conditions of the same AND configuration (platforms), for the finding's note. */
  readonly andWith: number;
}

export interface NvdRecord {
  readonly id: string;
  readonly summary?: string;
  readonly vulnStatus?: string;
  /** The vulnerable criteria (vulnerable: true, not negated). */
  readonly matches: readonly NvdCpeMatch[];
}

const CVE_RE = /^CVE-\d{4}-\d{4,}$/;
const RANGE_KEYS = ['versionStartIncluding', 'versionStartExcluding', 'versionEndIncluding', 'versionEndExcluding'] as const;

function normaliseCve(raw: unknown, where: string): NvdRecord | undefined {
  if (!isObject(raw)) throw new FeedFormatError(`${where}: a CVE record must be a JSON object`);
  if (typeof raw.id !== 'string' || !CVE_RE.test(raw.id)) throw new FeedFormatError(`${where}/id: a CVE id is required`);
  const id = raw.id;
  const status = typeof raw.vulnStatus === 'string' ? raw.vulnStatus : undefined;
  if (status === 'Rejected') return undefined;
  const descs = Array.isArray(raw.descriptions) ? raw.descriptions : [];
  const en = descs.find((d): d is { lang: string; value: string } => isObject(d) && d.lang === 'en' && typeof d.value === 'string');
  const matches: NvdCpeMatch[] = [];
  if (raw.configurations !== undefined && !Array.isArray(raw.configurations)) throw new FeedFormatError(`${where} (${id})/configurations: must be an array`);
  for (const [ci, conf] of ((raw.configurations as unknown[] | undefined) ?? []).entries()) {
    const at = `${where} (${id})/configurations/${ci}`;
    if (!isObject(conf) || !Array.isArray(conf.nodes)) throw new FeedFormatError(`${at}: "nodes" array required`);
    const and = conf.operator === 'AND';
    const nodes = conf.nodes as unknown[];
    for (const [ni, node] of nodes.entries()) {
      if (!isObject(node) || !Array.isArray(node.cpeMatch)) throw new FeedFormatError(`${at}/nodes/${ni}: "cpeMatch" array required`);
      if (node.negate === true) continue;
      for (const [mi, m] of node.cpeMatch.entries()) {
        const mat = `${at}/nodes/${ni}/cpeMatch/${mi}`;
        if (!isObject(m) || typeof m.criteria !== 'string' || typeof m.vulnerable !== 'boolean') {
          throw new FeedFormatError(`${mat}: "criteria" (string) and "vulnerable" (boolean) are required`);
        }
        if (!m.vulnerable) continue;
        let cpe: Cpe;
        try {
          cpe = parseCpe(m.criteria);
        } catch (err) {
          if (err instanceof CpeError) throw new FeedFormatError(`${mat}/criteria: ${err.message}`);
          throw err;
        }
        const range: Partial<Record<(typeof RANGE_KEYS)[number], string>> = {};
        for (const k of RANGE_KEYS) {
          if (m[k] === undefined) continue;
          if (typeof m[k] !== 'string' || (m[k]).trim() === '') throw new FeedFormatError(`${mat}/${k}: must be a non-empty string`);
          range[k] = m[k];
        }
        if (range.versionStartIncluding && range.versionStartExcluding) throw new FeedFormatError(`${mat}: both versionStartIncluding and versionStartExcluding`);
        if (range.versionEndIncluding && range.versionEndExcluding) throw new FeedFormatError(`${mat}: both versionEndIncluding and versionEndExcluding`);
        matches.push({ criteria: m.criteria, cpe, ...range, andWith: and ? nodes.length - 1 : 0 });
      }
    }
  }
  return { id, ...(en ? { summary: en.value.slice(0, 300) } : {}), ...(status ? { vulnStatus: status } : {}), matches };
}

/** Parse an NVD feed (see the module comment). `name` names it in errors. Throws FeedFormatError. */
export function parseNvdFeed(bytes: Uint8Array | string, name = 'NVD feed'): NvdRecord[] {
  const raw = parseFeedJson(bytes, name);
  const out: NvdRecord[] = [];
  const push = (r: NvdRecord | undefined) => {
    if (r) out.push(r);
  };
  const response = (v: Record<string, unknown>, where: string) => {
    if (!Array.isArray(v.vulnerabilities)) throw new FeedFormatError(`${where}: an NVD API response needs a "vulnerabilities" array`);
    const total = v.totalResults;
    const start = typeof v.startIndex === 'number' ? v.startIndex : 0;
    // A page that says it holds fewer results than it carries, or a response cut short, is not used.
    if (typeof total === 'number' && typeof v.resultsPerPage === 'number' && v.vulnerabilities.length < Math.min(v.resultsPerPage, total - start)) {
      throw new FeedFormatError(`${where}: truncated (${v.vulnerabilities.length} of ${Math.min(v.resultsPerPage, total - start)} results of the page)`);
    }
    v.vulnerabilities.forEach((item, i) => {
      if (!isObject(item) || !isObject(item.cve)) throw new FeedFormatError(`${where}/vulnerabilities/${i}: a "cve" object is required`);
      push(normaliseCve(item.cve, `${where}/vulnerabilities/${i}/cve`));
    });
  };
  const one = (v: unknown, where: string) => {
    if (isObject(v) && 'vulnerabilities' in v) response(v, where);
    else if (isObject(v) && isObject(v.cve)) push(normaliseCve(v.cve, `${where}/cve`));
    else push(normaliseCve(v, where));
  };
  if (Array.isArray(raw)) raw.forEach((v, i) => one(v, `${name} /${i}`));
  else one(raw, name);
  return out;
}

// ---- version ranges ------------------------------------------------------------------------------------

/** `1.2.3`, `1.1.1w`, `1.0.2zg` (OpenSSL-style letter releases): numbers, then at most two letters. */
const DOTTED = /^(\d+(?:\.\d+)*)([a-z]{0,2})$/i;

/**
 * Order two versions of an NVD range. NVD versions are the vendor's own; cra-gate orders the two shapes it
 * can order without guessing: SemVer 2.0.0 (both valid, by `semver`), and dotted numbers with an optional
 * letter suffix (1.3 = 1.3.0 < 1.3.1; 1.1.1 < 1.1.1a < 1.1.1w < 1.1.1za). Anything else throws VersionError
 * (the match is then undecided, counted as affected).
 */
export function compareNvdVersions(a: string, b: string): number {
  const x = a.trim().replace(/^v(?=\d)/i, '');
  const y = b.trim().replace(/^v(?=\d)/i, '');
  const sa = semver.valid(x);
  const sb = semver.valid(y);
  if (sa && sb && (semver.prerelease(sa) || semver.prerelease(sb))) return semver.compare(sa, sb);
  const ma = DOTTED.exec(x);
  const mb = DOTTED.exec(y);
  if (!ma || !mb) throw new VersionError(`cannot order "${x.slice(0, 40)}" against "${y.slice(0, 40)}" (neither SemVer nor dotted numbers)`);
  const na = ma[1]!.split('.').map((n) => BigInt(n));
  const nb = mb[1]!.split('.').map((n) => BigInt(n));
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const p = na[i] ?? 0n;
    const q = nb[i] ?? 0n;
    if (p !== q) return p < q ? -1 : 1;
  }
  const la = ma[2]!.toLowerCase();
  const lb = mb[2]!.toLowerCase();
  if (la.length !== lb.length) return la.length - lb.length;
  return la < lb ? -1 : la > lb ? 1 : 0;
}

export interface NvdHit {
  readonly record: NvdRecord;
  readonly criteria: string;
  readonly uncertain?: string;
  readonly notes: readonly string[];
}

export interface NvdAssessment {
  readonly unassessed?: string;
  readonly hits: NvdHit[];
}

function inVersionRange(v: string, m: NvdCpeMatch): boolean {
  if (m.versionStartIncluding !== undefined && compareNvdVersions(v, m.versionStartIncluding) < 0) return false;
  if (m.versionStartExcluding !== undefined && compareNvdVersions(v, m.versionStartExcluding) <= 0) return false;
  if (m.versionEndIncluding !== undefined && compareNvdVersions(v, m.versionEndIncluding) > 0) return false;
  if (m.versionEndExcluding !== undefined && compareNvdVersions(v, m.versionEndExcluding) >= 0) return false;
  return true;
}

const hasRange = (m: NvdCpeMatch) => RANGE_KEYS.some((k) => m[k] !== undefined);

/** NVD records indexed by the criteria's vendor:product (criteria with wildcards there are checked for every name). */
export class NvdIndex {
  private readonly byProduct = new Map<string, { record: NvdRecord; match: NvdCpeMatch }[]>();
  private readonly wildcard: { record: NvdRecord; match: NvdCpeMatch }[] = [];
  readonly recordCount: number;
  /** Records without any vulnerable CPE criterion (e.g. NVD status "Awaiting Analysis"): they match nothing. */
  readonly unconfigured: number;

  constructor(records: Iterable<NvdRecord>) {
    let count = 0;
    let unconfigured = 0;
    for (const record of records) {
      count++;
      if (record.matches.length === 0) unconfigured++;
      for (const match of record.matches) {
        const vendor = literal(match.cpe.vendor);
        const product = literal(match.cpe.product);
        if (vendor === undefined || product === undefined) {
          this.wildcard.push({ record, match });
          continue;
        }
        const key = `${vendor}:${product}`;
        let list = this.byProduct.get(key);
        if (!list) this.byProduct.set(key, (list = []));
        list.push({ record, match });
      }
    }
    this.recordCount = count;
    this.unconfigured = unconfigured;
  }

  /**
   * The CVEs whose vulnerable criteria match the component's CPE name. The version compared is the CPE's own
   * version attribute, or `version` (the component's version field) when the CPE leaves it ANY.
   */
  assess(cpeName: string, version?: string): NvdAssessment {
    const cpe = tryParseCpe(cpeName);
    if (!cpe) return { unassessed: 'the CPE does not parse', hits: [] };
    const vendor = literal(cpe.vendor);
    const product = literal(cpe.product);
    if (vendor === undefined || product === undefined) return { unassessed: 'the CPE does not name a vendor and product', hits: [] };
    const cpeVersion = literal(cpe.version);
    const v = cpeVersion ?? (cpe.version.kind === 'ANY' && version?.trim() ? version.trim() : undefined);
    if (v === undefined) return { unassessed: `no version (CPE version ${formatValue(cpe.version)})`, hits: [] };
    const hits = new Map<string, NvdHit>();
    const candidates = [...(this.byProduct.get(`${vendor}:${product}`) ?? []), ...this.wildcard];
    for (const { record, match } of candidates) {
      const ranged = hasRange(match);
      // The version attribute: a range decides it (the criterion's version is then ANY), else compare names.
      const target = cpeVersion !== undefined ? cpe : { ...cpe, version: { kind: 'value' as const, text: v.toLowerCase() } };
      const r = cpeMatches(match.cpe, target, ranged ? ['version'] : []);
      if (!r.match) continue;
      let uncertain = r.undecided;
      if (ranged) {
        try {
          if (!inVersionRange(v, match)) continue;
        } catch (err) {
          if (!(err instanceof VersionError)) throw err;
          uncertain ??= err.message;
        }
      }
      const notes = match.andWith > 0 ? [`only together with ${match.andWith} other condition(s) of the NVD configuration (e.g. a platform)`] : [];
      const prev = hits.get(record.id);
      if (!prev || (prev.uncertain && !uncertain)) {
        hits.set(record.id, { record, criteria: match.criteria, ...(uncertain ? { uncertain } : {}), notes });
      }
    }
    return { hits: [...hits.values()] };
  }
}
