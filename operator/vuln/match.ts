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

/** What a hit names: the advisory's ids and summary (what findings, KEV, VEX and Art. 14 reporting read of it). */
export interface OsvAdvisory {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly upstream: readonly string[];
  readonly summary?: string | undefined;
}

/**
 * A range as one flat array, `[type, kind, version, kind, version, …]` (kind: introduced, fixed, last_affected,
 * limit), its events already in evaluation order when the range's type and ecosystem can be ordered.
 */
type FlatRange = readonly string[];

const NONE: readonly never[] = Object.freeze([]);

/**
 * One affected package of a record, as the index keeps it (issue #16: ~100,000 of these stay resident per feed):
 * the advisory's fields and what matching reads, in one object of one shape — no package name (the key holds
 * it), no per-event objects, a single alias without its array, version strings shared within the index. A range
 * whose events cannot be ordered when indexed keeps its full form and is evaluated (and reported uncertain) at
 * match time exactly as before: never dropped.
 */
class IndexEntry implements OsvAdvisory {
  readonly id: string;
  /** The aliases: one (the common case) as the string itself, several as their array. */
  private readonly alias: string | readonly string[];
  readonly upstream: readonly string[];
  readonly summary: string | undefined;
  readonly ecosystem: string;
  /** Normalised distribution release of the entry's ecosystem (`Debian:12` -> `12`), if any. */
  readonly release: string | undefined;
  readonly versions: readonly string[];
  /** One flat range, or the list of the entry's ranges (flat, or full when their events could not be ordered). */
  readonly ranges: FlatRange | readonly (FlatRange | OsvRange)[];

  constructor(record: OsvRecord, ecosystem: string, release: string | undefined, versions: readonly string[], ranges: IndexEntry['ranges']) {
    this.id = record.id;
    this.alias = record.aliases.length === 1 ? record.aliases[0]! : record.aliases.length === 0 ? NONE : record.aliases;
    this.upstream = record.upstream.length === 0 ? NONE : record.upstream;
    this.summary = record.summary;
    this.ecosystem = ecosystem;
    this.release = release;
    this.versions = versions;
    this.ranges = ranges;
  }

  get aliases(): readonly string[] {
    return typeof this.alias === 'string' ? [this.alias] : this.alias;
  }
}

/** Bounds of an index's version-string pool (it lives only while the index is built). */
const POOL_MAX = 1 << 17;
const POOL_MAX_LENGTH = 64;

export interface AdvisoryHit {
  readonly record: OsvAdvisory;
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
  /** Entries by package key: most packages have one advisory, held without a list. */
  private readonly byKey = new Map<string, IndexEntry | IndexEntry[]>();
  /** Ecosystems (and distribution releases) the loaded records cover. */
  private readonly ecosystems = new Set<string>();
  private count = 0;
  private unmappedCount = 0;
  /** A merged index shares its sources' entry lists: it is read-only. */
  private merged = false;
  /** Version strings already held (events, explicit versions, releases) while records are added; dropped by done(). */
  private pool: Map<string, string> | undefined = new Map();

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
      const entry = this.entry(record, affected, eco.release);
      const cur = this.byKey.get(key);
      if (cur === undefined) this.byKey.set(key, entry);
      else if (Array.isArray(cur)) cur.push(entry);
      else this.byKey.set(key, [cur, entry]);
    }
  }

  /** Records are all added: the index stops sharing version strings between new records (and frees the pool). */
  done(): this {
    this.pool = undefined;
    // Lists grown by push carry spare capacity (17 slots for one entry): keep exact-length copies.
    if (!this.merged) for (const [key, list] of this.byKey) if (Array.isArray(list)) this.byKey.set(key, list.slice());
    return this;
  }

  private str(s: string): string {
    const pool = this.pool;
    if (!pool) return s;
    const hit = pool.get(s);
    if (hit !== undefined) return hit;
    if (pool.size < POOL_MAX && s.length <= POOL_MAX_LENGTH) pool.set(s, s);
    return s;
  }

  private entry(record: OsvRecord, a: OsvAffected, release: string | undefined): IndexEntry {
    const ranges = a.ranges.map((r) => this.flatten(r, a.ecosystem));
    return new IndexEntry(
      record,
      a.ecosystem,
      release === undefined ? undefined : this.str(release),
      a.versions.length === 0 ? NONE : a.versions.map((v) => this.str(v)),
      ranges.length === 0 ? NONE : ranges.length === 1 && Array.isArray(ranges[0]) ? ranges[0] : ranges,
    );
  }

  /** A range as a flat array in evaluation order; its full form if its events cannot be ordered (decided at match time). */
  private flatten(range: OsvRange, ecosystem: string): FlatRange | OsvRange {
    let events = range.events;
    const cmp = range.type === 'GIT' ? undefined : comparatorFor(range.type, ecosystem);
    if (cmp) {
      try {
        events = sortEvents(range, cmp, normFor(range.type));
      } catch {
        return range; // e.g. a version that does not parse: inRange() meets the same error and reports it
      }
    }
    const flat: string[] = [range.type];
    for (const e of events) {
      if (e.introduced !== undefined) flat.push('introduced', this.str(e.introduced));
      else if (e.fixed !== undefined) flat.push('fixed', this.str(e.fixed));
      else if (e.last_affected !== undefined) flat.push('last_affected', this.str(e.last_affected));
      else flat.push('limit', this.str(e.limit!));
    }
    return flat.slice(); // exact length
  }

  /**
   * One index over several (e.g. the feeds of one policy), sharing their entries: what each feed's index holds is
   * not copied. A single index is returned as it is.
   */
  static merge(indexes: readonly OsvIndex[]): OsvIndex {
    if (indexes.length === 1) return indexes[0]!;
    const out = new OsvIndex();
    out.merged = true;
    out.pool = undefined;
    for (const idx of indexes) {
      out.count += idx.count;
      out.unmappedCount += idx.unmappedCount;
      for (const e of idx.ecosystems) out.ecosystems.add(e);
      for (const [key, list] of idx.byKey) {
        const cur = out.byKey.get(key);
        out.byKey.set(key, cur ? [...entriesOf(cur), ...entriesOf(list)] : list);
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
    for (const { key, version: lv } of lookups) for (const e of entriesOf(this.byKey.get(key)).filter((x) => !eco.release || !x.release || x.release === eco.release)) {
      for (const x of [e.id, ...e.aliases, ...e.upstream]) considered.add(x.toUpperCase());
      // Without an ordering for the ecosystem only explicit version lists can decide.
      const r = orderable ? entryAffected(lv, e) : { affected: e.versions.includes(lv), notes: [] as string[] };
      if (!r.affected) continue;
      const prev = hits.get(e.id);
      // A certain hit wins over an uncertain one for the same advisory.
      if (!prev || (prev.uncertain && !r.uncertain)) {
        hits.set(e.id, { record: e, ...(r.uncertain ? { uncertain: r.uncertain } : {}), notes: r.notes });
      }
    }
    return { ...(unassessed ? { unassessed } : {}), hits: [...hits.values()], considered };
  }
}

function entriesOf(x: IndexEntry | readonly IndexEntry[] | undefined): readonly IndexEntry[] {
  return x === undefined ? NONE : Array.isArray(x) ? x : [x as IndexEntry];
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
  return evaluate(v, a.ecosystem, a.versions, a.ranges);
}

function entryAffected(v: string, e: IndexEntry): RangeVerdict {
  const r = e.ranges;
  return evaluate(v, e.ecosystem, e.versions, r.length > 0 && typeof r[0] === 'string' ? [r as FlatRange] : (r as readonly (FlatRange | OsvRange)[]));
}

function evaluate(v: string, ecosystem: string, versions: readonly string[], ranges: readonly (FlatRange | OsvRange)[]): RangeVerdict {
  const notes: string[] = [];
  if (versions.includes(v) || (ecosystem === 'Go' && versions.includes(stripV('Go', v)))) return { affected: true, notes };
  let uncertain: string | undefined;
  for (const range of ranges) {
    const flat = isFlat(range);
    const type = flat ? range[0]! : range.type;
    if (type === 'GIT') {
      notes.push('GIT range skipped (commit ranges need the repository)');
      continue;
    }
    const cmp = comparatorFor(type, ecosystem);
    if (!cmp) {
      uncertain ??= `${type} ranges of ecosystem ${ecosystem} cannot be ordered by cra-gate`;
      continue;
    }
    try {
      if (flat ? evaluateFlat(stripV(ecosystem, v), range, cmp, normFor(type)) : inRange(stripV(ecosystem, v), range, cmp)) return { affected: true, notes };
    } catch (err) {
      if (!(err instanceof VersionError)) throw err;
      uncertain ??= err.message;
    }
  }
  return uncertain ? { affected: true, uncertain, notes } : { affected: false, notes };
}

function isFlat(r: FlatRange | OsvRange): r is FlatRange {
  return Array.isArray(r);
}

const keep = (x: string) => x;
const stripSemverV = (x: string) => x.replace(/^v/, '');
function normFor(type: string): (x: string) => string {
  return type === 'SEMVER' ? stripSemverV : keep;
}

/** evaluateEvents over a flat range (events already in order). */
function evaluateFlat(v: string, r: FlatRange, cmp: Comparator, norm: (x: string) => string): boolean {
  let affected = false;
  for (let i = 1; i + 1 < r.length; i += 2) {
    const at = r[i + 1]!;
    switch (r[i]) {
      case 'introduced':
        if (at === '0' || cmp(v, norm(at)) >= 0) affected = true;
        break;
      case 'fixed':
        if (cmp(v, norm(at)) >= 0) affected = false;
        break;
      case 'last_affected':
        if (cmp(v, norm(at)) > 0) affected = false;
        break;
      default:
        if (at !== '*' && cmp(v, norm(at)) >= 0) return false;
    }
  }
  return affected;
}

function eventVersion(e: { introduced?: string; fixed?: string; last_affected?: string; limit?: string }): string {
  return (e.introduced ?? e.fixed ?? e.last_affected ?? e.limit)!;
}

/** Sorted events of full-form ranges (records matched without an index, e.g. isAffected on a parsed record). */
const sortedEvents = new WeakMap<OsvRange, OsvRange['events']>();

export function inRange(v: string, range: OsvRange, cmp: Comparator): boolean {
  const norm = normFor(range.type);
  let events = sortedEvents.get(range);
  if (!events) sortedEvents.set(range, (events = sortEvents(range, cmp, norm)));
  return evaluateEvents(v, events, cmp, norm);
}

/** The range's events in evaluation order (throws VersionError if two of them cannot be compared). */
function sortEvents(range: OsvRange, cmp: Comparator, norm: (x: string) => string): OsvRange['events'] {
  return [...range.events].sort((x, y) => {
    const a = norm(eventVersion(x));
    const b = norm(eventVersion(y));
    if (a === '0' || b === '0') return a === b ? 0 : a === '0' ? -1 : 1;
    return cmp(a, b);
  });
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
