/**
 * An OSV feed as published: one record, an array of records, or a ZIP bundle of record files
 * (`<ecosystem>/all.zip`). ZIP bundles are read through the bounded reader in ./zip.ts, one entry at a time:
 * each entry is inflated, parsed, validated and indexed, then dropped.
 */
import { FeedFormatError } from './errors.ts';
import { OsvIndex } from './match.ts';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { forEachOsvRecord, isJsonArray, osvArrayReader } from './osv.ts';
import type { OsvRecord } from './osv.ts';
import { isZip, readZip } from './zip.ts';
import type { ZipLimits } from './zip.ts';

/** A JSON array is parsed in slices of this size, yielding to the event loop between them. */
const SLICE = 1024 * 1024;

/**
 * Calls `onRecord` with each validated record of an OSV feed document (JSON or ZIP) and resolves with how many
 * there were. Entries of a ZIP bundle not named `*.json` are skipped; an invalid entry rejects the whole document
 * with the entry's name. A large document never holds the event loop for long: a JSON array is parsed slice by
 * slice and a ZIP bundle yields between batches of entries (./zip.ts). Rejects with FeedFormatError.
 */
export async function forEachOsvBundleRecord(bytes: Uint8Array | string, name: string, onRecord: (r: OsvRecord) => void, limits: Partial<ZipLimits> = {}): Promise<number> {
  if (typeof bytes !== 'string' && !isZip(bytes) && isJsonArray(bytes) && bytes.length > SLICE) {
    const reader = osvArrayReader(name, onRecord);
    for (let at = 0; at < bytes.length; at += SLICE) {
      reader.write(bytes.subarray(at, at + SLICE));
      await yieldToLoop();
    }
    return reader.end();
  }
  if (typeof bytes === 'string' || !isZip(bytes)) return forEachOsvRecord(bytes, name, onRecord);
  let n = 0;
  await readZip(bytes, (entry, data) => {
    if (!entry.toLowerCase().endsWith('.json')) return;
    n += forEachOsvRecord(data, `${name} ${entry}`, onRecord);
  }, limits);
  if (n === 0) throw new FeedFormatError(`${name}: the ZIP archive holds no OSV records`);
  return n;
}

/** Parse an OSV feed document (JSON or ZIP) into records. `name` names the feed in error messages. Rejects with FeedFormatError. */
export async function parseOsvBundle(bytes: Uint8Array | string, name = 'OSV feed', limits: Partial<ZipLimits> = {}): Promise<OsvRecord[]> {
  const out: OsvRecord[] = [];
  await forEachOsvBundleRecord(bytes, name, (r) => out.push(r), limits);
  return out;
}

/**
 * The index over one feed's documents (JSON or ZIP), built while they are read: only the index keeps the
 * (reduced) records, nothing else holds them. Rejects with FeedFormatError; no partial index is returned.
 */
export async function indexOsvDocuments(docs: readonly { readonly name: string; readonly bytes: Uint8Array | string }[], limits: Partial<ZipLimits> = {}): Promise<OsvIndex> {
  const index = new OsvIndex();
  const add = (r: OsvRecord) => index.add(r);
  for (const d of docs) await forEachOsvBundleRecord(d.bytes, d.name, add, limits);
  return index.done();
}
