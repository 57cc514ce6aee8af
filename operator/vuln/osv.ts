/**
 * OSV records (https://ossf.github.io/osv-schema/): one JSON record, a JSON array of records, or a ZIP
 * bundle of record files (as OSV publishes per ecosystem). Records are validated for the fields matching
 * needs; any invalid record rejects the whole feed with its position, so a bad update never half-applies
 * (the previous good feed stays in use).
 *
 * What is kept of a record is only what its readers use (match.ts: package, ranges, versions, withdrawn;
 * assess.ts and the status: id, aliases, upstream, summary; KEV/VEX/Art. 14 reach a record through those ids):
 * details, references, severity, database_specific … are dropped as each record is validated. A JSON array is
 * read element by element (@streamparser/json), so the raw text of one record at a time is alive, never the
 * whole parsed document next to the index.
 */
import { JSONParser } from '@streamparser/json';
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
  readonly summary?: string;
  readonly withdrawn?: string;
  readonly affected: readonly OsvAffected[];
}

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
const NONE: readonly never[] = Object.freeze([]);

/**
 * Ecosystem names and range types repeat in every record: one string each. Bounded in count and length, so a
 * hostile feed of distinct or long names only stops sharing, never grows the (process-wide) table.
 */
const interned = new Map<string, string>();
function intern(s: string): string {
  const hit = interned.get(s);
  if (hit !== undefined) return hit;
  if (interned.size < 1024 && s.length <= 64) interned.set(s, s);
  return s;
}

/**
 * An exact-length copy (arrays grown by push, in the parser or here, carry spare capacity; the index keeps
 * hundreds of thousands of small arrays), or the shared empty array.
 */
function exact<T>(a: readonly T[]): readonly T[] {
  return a.length === 0 ? NONE : a.slice();
}

function stringArray(v: unknown): readonly string[] | undefined {
  if (!Array.isArray(v) || v.some((a) => typeof a !== 'string')) return undefined;
  return exact(v as string[]);
}

function event(key: (typeof EVENT_KEYS)[number], v: string): OsvEvent {
  // One object shape per event kind (no computed keys).
  switch (key) {
    case 'introduced':
      return { introduced: v };
    case 'fixed':
      return { fixed: v };
    case 'last_affected':
      return { last_affected: v };
    default:
      return { limit: v };
  }
}

/** Validate and normalise one OSV record, keeping only what matching and the status read; throws FeedFormatError naming `where`. */
export function normaliseOsvRecord(raw: unknown, where: string): OsvRecord {
  if (!isObject(raw)) throw new FeedFormatError(`${where}: an OSV record must be a JSON object`);
  if (typeof raw.id !== 'string' || raw.id.trim() === '') throw new FeedFormatError(`${where}: OSV record without "id"`);
  const id = raw.id;
  if (typeof raw.modified !== 'string') throw new FeedFormatError(`${where} (${id}): "modified" is required`);
  const aliases = raw.aliases === undefined ? NONE : stringArray(raw.aliases);
  if (!aliases) throw new FeedFormatError(`${where} (${id}): "aliases" must be an array of strings`);
  const upstream = raw.upstream === undefined ? NONE : stringArray(raw.upstream);
  if (!upstream) throw new FeedFormatError(`${where} (${id}): "upstream" must be an array of strings`);
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
        events.push(event(keys[0]!, e[keys[0]!] as string));
      }
      ranges.push({ type: intern(r.type), events: exact(events) });
    }
    const versions = Array.isArray(a.versions) ? exact(a.versions.filter((v): v is string => typeof v === 'string')) : NONE;
    affected.push({
      ecosystem: intern(pkg.ecosystem),
      name: pkg.name,
      ...(typeof pkg.purl === 'string' ? { purl: pkg.purl } : {}),
      ranges: exact(ranges),
      versions,
    });
  }
  return {
    id,
    aliases,
    upstream,
    ...(typeof raw.summary === 'string' ? { summary: raw.summary } : {}),
    ...(typeof raw.withdrawn === 'string' ? { withdrawn: raw.withdrawn } : {}),
    affected: exact(affected),
  };
}

/** Reads a JSON array of OSV records written to it in chunks, handing on each element as soon as it is complete. */
export interface OsvArrayReader {
  write(chunk: Uint8Array | string): void;
  /** Checks that the array is complete; returns how many records it held. */
  end(): number;
}

/**
 * A streaming reader of a JSON array of OSV records: each element is parsed, validated, handed to `onRecord` and
 * dropped before the next one is built. Throws FeedFormatError (naming `name` and the element index) on invalid
 * JSON or an invalid record; records handed on before the error must then be discarded by the caller.
 */
export function osvArrayReader(name: string, onRecord: (r: OsvRecord) => void): OsvArrayReader {
  let n = 0;
  const parser = new JSONParser({ paths: ['$.*'], keepStack: false });
  parser.onValue = ({ value }) => {
    onRecord(normaliseOsvRecord(value, `${name}[${n}]`));
    n++;
  };
  const guard = (f: () => void) => {
    try {
      f();
    } catch (err) {
      if (err instanceof FeedFormatError) throw err;
      throw new FeedFormatError(`${name}: not valid JSON after ${n} records (${(err instanceof Error ? err.message : String(err)).slice(0, 160)})`);
    }
  };
  return {
    write: (chunk) => guard(() => parser.write(chunk)),
    end: () => {
      guard(() => {
        if (!parser.isEnded) parser.end();
      });
      return n;
    },
  };
}

/** Whether a JSON document starts (after whitespace) with `[`. */
export function isJsonArray(bytes: Uint8Array | string): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = typeof bytes === 'string' ? bytes.charCodeAt(i) : bytes[i]!;
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x5b;
  }
  return false;
}

/**
 * Calls `onRecord` with each validated record of an OSV JSON document (a record, or an array of records read
 * element by element: osvArrayReader) and returns how many there were. Throws FeedFormatError.
 */
export function forEachOsvRecord(bytes: Uint8Array | string, name: string, onRecord: (r: OsvRecord) => void): number {
  if (typeof bytes !== 'string' && isZip(bytes)) {
    // ZIP bundles are read (bounded, asynchronously) by ./bundle.ts, which calls this per entry.
    throw new FeedFormatError(`${name}: a ZIP archive (nested, or not read through parseOsvBundle)`);
  }
  if (!isJsonArray(bytes)) {
    onRecord(normaliseOsvRecord(parseFeedJson(bytes, name), name));
    return 1;
  }
  const reader = osvArrayReader(name, onRecord);
  reader.write(bytes);
  return reader.end();
}

/**
 * Parse an OSV feed into records: a record or an array of records (ZIP bundles: ./bundle.ts). `name` names the
 * feed in error messages. Throws FeedFormatError. (The feed store indexes records as they are read instead:
 * indexOsvDocuments in ./bundle.ts.)
 */
export function parseOsvFeed(bytes: Uint8Array | string, name = 'OSV feed'): OsvRecord[] {
  const out: OsvRecord[] = [];
  forEachOsvRecord(bytes, name, (r) => out.push(r));
  return out;
}
