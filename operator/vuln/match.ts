/**
 * The OSV index (records by package key) and matching of SBOM components against it, per the OSV
 * evaluation rules: explicit `versions`, then `ranges` (SEMVER; ECOSYSTEM for npm, crates.io, Go, Hex, Pub,
 * NuGet, SwiftURL, PyPI, Maven, Debian, Ubuntu). Distribution records apply only to the release named by the
 * component's `distro` qualifier. GIT ranges are skipped with a note; a range that cannot be ordered (unknown ecosystem, a
 * version that does not parse) makes the match "uncertain" — reported and failing, never silently dropped.
 */
import type { OsvAffected, OsvRange, OsvRecord } from './osv.ts';
import { DISTRO_ECOSYSTEMS, ecosystemOfPurl, keyForOsvPackage, packageIdFromPurl, parseEcosystem } from './purl.ts';
import { comparatorFor, VersionError } from './version.ts';
import type { Comparator } from './version.ts';

interface IndexEntry {
  readonly record: OsvRecord;
  readonly affected: OsvAffected;
  /** Normalised distribution release of the entry's ecosystem (`Debian:12` -> `12`), if any. */
  readonly release?: string;
}

export interface AdvisoryHit {
  readonly record: OsvRecord;
  /** Why it could not be decided (the component may or may not be affected). */
  readonly uncertain?: string;
  readonly notes: readonly string[];
}

export interface OsvAssessment {
  /** Why the OSV feeds cannot assess this component (it is then not covered by them). */
  readonly unassessed?: string;
  readonly hits: AdvisoryHit[];
  /** Ids and aliases (upper-cased) of every advisory evaluated for the component, affected or not. */
  readonly considered: ReadonlySet<string>;
}

/** `Debian:12`, `npm` … as the coverage key of an ecosystem (release-specific for distributions). */
function ecosystemKey(e: { base: string; release?: string }): string {
  return e.release ? `${e.base}:${e.release}` : e.base;
}

export class OsvIndex {
  private readonly byKey = new Map<string, IndexEntry[]>();
  /** Ecosystems (and distribution releases) the loaded records cover. */
  private readonly ecosystems = new Set<string>();
  private count = 0;
  private unmappedCount = 0;
  /** A merged index shares its sources' entry lists: it is read-only. */
  private merged = false;

  /** An index over `records`; more can be added one at a time with add() (as a feed is read). */
  constructor(records: Iterable<OsvRecord> = []) {
    for (const record of records) this.add(record);
  }

  /** Records indexed (withdrawn ones included: they are counted, never matched). */
  get recordCount(): number {
    return this.count;
  }

  /** Affected entries with no purl mapping (ecosystem unknown to cra-gate). */
  get unmapped(): number {
    return this.unmappedCount;
  }

  /** Index one record by the package key of each affected entry; a withdrawn record is counted and not kept. */
  add(record: OsvRecord): void {
    if (this.merged) throw new Error('a merged OsvIndex is read-only');
    this.count++;
    if (record.withdrawn) return;
    for (const affected of record.affected) {
      const key = keyForOsvPackage(affected.ecosystem, affected.name, affected.purl);
      if (!key) {
        this.unmappedCount++;
        continue;
      }
      const eco = parseEcosystem(affected.ecosystem);
      this.ecosystems.add(ecosystemKey(eco));
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, (list = []));
      list.push(eco.release ? { record, affected, release: eco.release } : { record, affected });
    }
  }

  /**
   * One index over several (e.g. the feeds of one policy), sharing their entries: what each feed's index holds is
   * not copied. A single index is returned as it is.
   */
  static merge(indexes: readonly OsvIndex[]): OsvIndex {
    if (indexes.length === 1) return indexes[0]!;
    const out = new OsvIndex();
    out.merged = true;
    for (const idx of indexes) {
      out.count += idx.count;
      out.unmappedCount += idx.unmappedCount;
      for (const e of idx.ecosystems) out.ecosystems.add(e);
      for (const [key, list] of idx.byKey) {
        const cur = out.byKey.get(key);
        out.byKey.set(key, cur ? [...cur, ...list] : list);
      }
    }
    return out;
  }

  get packageCount(): number {
    return this.byKey.size;
  }

  /** Whether the loaded records cover an ecosystem (`npm`, `Debian:12` …). */
  covers(ecosystem: { base: string; release?: string }): boolean {
    return this.ecosystems.has(ecosystemKey(ecosystem)) || (!ecosystem.release && this.ecosystems.has(ecosystem.base));
  }

  /** Advisories affecting the package `purl` at its version (from the purl, or `version`). */
  match(purl: string, version?: string): AdvisoryHit[] {
    return this.assess(purl, version).hits;
  }

  /**
   * Assess one component: which advisories affect it, and whether the OSV feeds can assess it at all. A
   * component is unassessed when its purl does not parse, names no OSV ecosystem (`pkg:generic`), is a
   * distribution package without a `distro` qualifier naming its release, has no version, is in an
   * ecosystem whose versions cra-gate cannot order, or in one the loaded feeds hold no records for.
   * Entries for another distribution release never decide this one.
   */
  assess(purl: string, version?: string): OsvAssessment {
    const considered = new Set<string>();
    const id = packageIdFromPurl(purl);
    if (!id) return { unassessed: 'the purl does not parse', hits: [], considered };
    const eco = ecosystemOfPurl(id);
    if (!eco) {
      const ns = id.type === 'deb' || id.type === 'apk' ? ` with namespace "${id.key.slice(id.type.length + 1).split('/')[0]}"` : '';
      return { unassessed: `purl type "${id.type}"${ns} has no OSV ecosystem`, hits: [], considered };
    }
    if (DISTRO_ECOSYSTEMS.has(eco.base) && !eco.release) {
      return { unassessed: `${eco.base} package without a "distro" qualifier naming its release (e.g. ${eco.base === 'Alpine' ? 'distro=alpine-3.20' : eco.base === 'Ubuntu' ? 'distro=ubuntu-22.04' : 'distro=debian-12'})`, hits: [], considered };
    }
    const v = version ?? id.version;
    if (v === undefined || v.trim() === '') return { unassessed: 'no version', hits: [], considered };
    const orderable = comparatorFor('ECOSYSTEM', eco.base) !== undefined;
    let unassessed: string | undefined;
    if (!orderable) unassessed = `cra-gate cannot order ${eco.base} versions`;
    else if (!this.covers(eco)) unassessed = `the OSV feeds hold no records for ecosystem ${ecosystemKey(eco)}`;
    // Distribution records name SOURCE packages (openssl); an SBOM lists binary ones (libssl3) with the source in
    // the `upstream` qualifier (`upstream=openssl` or `upstream=glibc@2.36-9`): both are looked up.
    const lookups: { key: string; version: string }[] = [{ key: id.key, version: v }];
    if (id.upstream && id.type === 'deb') {
      const ns = id.key.slice(4).split('/')[0]!;
      const key = `deb:${ns}/${id.upstream.name.toLowerCase()}`;
      if (key !== id.key || id.upstream.version) lookups.push({ key, version: id.upstream.version ?? v });
    }
    const hits = new Map<string, AdvisoryHit>();
    for (const { key, version: lv } of lookups) for (const e of (this.byKey.get(key) ?? []).filter((x) => !eco.release || !x.release || x.release === eco.release)) {
      for (const x of [e.record.id, ...e.record.aliases, ...e.record.upstream]) considered.add(x.toUpperCase());
      // Without an ordering for the ecosystem only explicit version lists can decide.
      const r = orderable ? isAffected(lv, e.affected) : { affected: e.affected.versions.includes(lv), notes: [] as string[] };
      if (!r.affected) continue;
      const prev = hits.get(e.record.id);
      // A certain hit wins over an uncertain one for the same advisory.
      if (!prev || (prev.uncertain && !r.uncertain)) {
        hits.set(e.record.id, { record: e.record, ...(r.uncertain ? { uncertain: r.uncertain } : {}), notes: r.notes });
      }
    }
    return { ...(unassessed ? { unassessed } : {}), hits: [...hits.values()], considered };
  }
}

interface RangeVerdict {
  readonly affected: boolean;
  readonly uncertain?: string;
  readonly notes: string[];
}

function stripV(eco: string, v: string): string {
  return eco === 'Go' ? v.replace(/^v/, '') : v;
}

/** Whether version `v` is in the affected entry (OSV spec evaluation). */
export function isAffected(v: string, a: OsvAffected): RangeVerdict {
  const notes: string[] = [];
  if (a.versions.includes(v) || (a.ecosystem === 'Go' && a.versions.includes(stripV('Go', v)))) return { affected: true, notes };
  let uncertain: string | undefined;
  for (const range of a.ranges) {
    if (range.type === 'GIT') {
      notes.push('GIT range skipped (commit ranges need the repository)');
      continue;
    }
    const cmp = comparatorFor(range.type, a.ecosystem);
    if (!cmp) {
      uncertain ??= `${range.type} ranges of ecosystem ${a.ecosystem} cannot be ordered by cra-gate`;
      continue;
    }
    try {
      if (inRange(stripV(a.ecosystem, v), range, cmp)) return { affected: true, notes };
    } catch (err) {
      if (!(err instanceof VersionError)) throw err;
      uncertain ??= err.message;
    }
  }
  return uncertain ? { affected: true, uncertain, notes } : { affected: false, notes };
}

function eventVersion(e: { introduced?: string; fixed?: string; last_affected?: string; limit?: string }): string {
  return (e.introduced ?? e.fixed ?? e.last_affected ?? e.limit)!;
}

const sortedEvents = new WeakMap<OsvRange, OsvRange['events']>();

export function inRange(v: string, range: OsvRange, cmp: Comparator): boolean {
  const norm = (x: string) => (range.type === 'SEMVER' ? x.replace(/^v/, '') : x);
  const events = sortedEvents.get(range) ?? sortEvents(range, cmp, norm);
  return evaluateEvents(v, events, cmp, norm);
}

function sortEvents(range: OsvRange, cmp: Comparator, norm: (x: string) => string): OsvRange['events'] {
  const events = [...range.events].sort((x, y) => {
    const a = norm(eventVersion(x));
    const b = norm(eventVersion(y));
    if (a === '0' || b === '0') return a === b ? 0 : a === '0' ? -1 : 1;
    return cmp(a, b);
  });
  sortedEvents.set(range, events);
  return events;
}

function evaluateEvents(v: string, events: OsvRange['events'], cmp: Comparator, norm: (x: string) => string): boolean {
  let affected = false;
  for (const e of events) {
    if (e.introduced !== undefined) {
      if (e.introduced === '0' || cmp(v, norm(e.introduced)) >= 0) affected = true;
    } else if (e.fixed !== undefined) {
      if (cmp(v, norm(e.fixed)) >= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      if (cmp(v, norm(e.last_affected)) > 0) affected = false;
    } else if (e.limit !== undefined && e.limit !== '*') {
      if (cmp(v, norm(e.limit)) >= 0) return false;
    }
  }
  return affected;
}
