/**
 * OSV records (https://ossf.github.io/osv-schema/): one JSON record, a JSON array of records, or a ZIP
 * bundle of record files (as OSV publishes per ecosystem). Records are validated for the fields matching
 * needs; any invalid record rejects the whole feed with its position, so a bad update never half-applies
 * (the previous good feed stays in use).
 */
import { FeedFormatError, parseFeedJson } from './errors.ts';
import { isZip } from './zip.ts';
import { isObject } from '../util/json.ts';

export interface OsvEvent {
  readonly introduced?: string;
  readonly fixed?: string;
  readonly last_affected?: string;
  readonly limit?: string;
}

export interface OsvRange {
  readonly type: string;
  readonly events: readonly OsvEvent[];
}

export interface OsvAffected {
  readonly ecosystem: string;
  readonly name: string;
  readonly purl?: string;
  readonly ranges: readonly OsvRange[];
  readonly versions: readonly string[];
}

export interface OsvRecord {
  readonly id: string;
  readonly aliases: readonly string[];
  /** OSV 1.6 `upstream`: the ids this record derives from (Debian/Ubuntu/Alpine CVE records name their CVE here). */
  readonly upstream: readonly string[];
  readonly modified: string;
  readonly summary?: string;
  readonly withdrawn?: string;
  readonly affected: readonly OsvAffected[];
}

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

/** Validate and normalise one OSV record; throws FeedFormatError naming `where`. */
export function normaliseOsvRecord(raw: unknown, where: string): OsvRecord {
  if (!isObject(raw)) throw new FeedFormatError(`${where}: an OSV record must be a JSON object`);
  if (typeof raw.id !== 'string' || raw.id.trim() === '') throw new FeedFormatError(`${where}: OSV record without "id"`);
  const id = raw.id;
  if (typeof raw.modified !== 'string') throw new FeedFormatError(`${where} (${id}): "modified" is required`);
  if (raw.aliases !== undefined && (!Array.isArray(raw.aliases) || raw.aliases.some((a) => typeof a !== 'string'))) {
    throw new FeedFormatError(`${where} (${id}): "aliases" must be an array of strings`);
  }
  if (raw.upstream !== undefined && (!Array.isArray(raw.upstream) || raw.upstream.some((a) => typeof a !== 'string'))) {
    throw new FeedFormatError(`${where} (${id}): "upstream" must be an array of strings`);
  }
  if (raw.affected !== undefined && !Array.isArray(raw.affected)) throw new FeedFormatError(`${where} (${id}): "affected" must be an array`);
  const affected: OsvAffected[] = [];
  for (const [i, a] of ((raw.affected as unknown[] | undefined) ?? []).entries()) {
    const at = `${where} (${id}) /affected/${i}`;
    if (!isObject(a)) throw new FeedFormatError(`${at}: must be an object`);
    const pkg = a.package;
    if (pkg === undefined) continue; // e.g. records affecting only git repositories
    if (!isObject(pkg) || typeof pkg.ecosystem !== 'string' || typeof pkg.name !== 'string') {
      throw new FeedFormatError(`${at}/package: "ecosystem" and "name" are required`);
    }
    const ranges: OsvRange[] = [];
    if (a.ranges !== undefined && !Array.isArray(a.ranges)) throw new FeedFormatError(`${at}/ranges: must be an array`);
    for (const [j, r] of ((a.ranges as unknown[] | undefined) ?? []).entries()) {
      if (!isObject(r) || typeof r.type !== 'string' || !Array.isArray(r.events) || r.events.length === 0) {
        throw new FeedFormatError(`${at}/ranges/${j}: "type" and a non-empty "events" array are required`);
      }
      const events: OsvEvent[] = [];
      for (const [k, e] of r.events.entries()) {
        if (!isObject(e)) throw new FeedFormatError(`${at}/ranges/${j}/events/${k}: must be an object`);
        const keys = EVENT_KEYS.filter((key) => typeof e[key] === 'string');
        if (keys.length !== 1) throw new FeedFormatError(`${at}/ranges/${j}/events/${k}: exactly one of introduced, fixed, last_affected, limit`);
        events.push({ [keys[0]!]: e[keys[0]!] as string });
      }
      ranges.push({ type: r.type, events });
    }
    const versions = Array.isArray(a.versions) ? a.versions.filter((v): v is string => typeof v === 'string') : [];
    affected.push({
      ecosystem: pkg.ecosystem,
      name: pkg.name,
      ...(typeof pkg.purl === 'string' ? { purl: pkg.purl } : {}),
      ranges,
      versions,
    });
  }
  return {
    id,
    aliases: (raw.aliases as string[] | undefined) ?? [],
    upstream: (raw.upstream as string[] | undefined) ?? [],
    modified: raw.modified,
    ...(typeof raw.summary === 'string' ? { summary: raw.summary } : {}),
    ...(typeof raw.withdrawn === 'string' ? { withdrawn: raw.withdrawn } : {}),
    affected,
  };
}

/**
 * Parse an OSV feed: a record or an array of records (ZIP bundles: parseOsvBundle in ./bundle.ts). `name` names the feed in
 * error messages. Throws FeedFormatError.
 */
export function parseOsvFeed(bytes: Uint8Array | string, name = 'OSV feed'): OsvRecord[] {
  const out: OsvRecord[] = [];
  if (typeof bytes !== 'string' && isZip(bytes)) {
    // ZIP bundles are read (bounded, asynchronously) by parseOsvBundle in ./bundle.ts, which calls this per entry.
    throw new FeedFormatError(`${name}: a ZIP archive (nested, or not read through parseOsvBundle)`);
  }
  const v = parseFeedJson(bytes, name);
  if (Array.isArray(v)) v.forEach((r, i) => out.push(normaliseOsvRecord(r, `${name}[${i}]`)));
  else out.push(normaliseOsvRecord(v, name));
  return out;
}
