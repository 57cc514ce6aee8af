/**
 * An OSV feed as published: one record, an array of records, or a ZIP bundle of record files
 * (`<ecosystem>/all.zip`). ZIP bundles are read through the bounded reader in ./zip.ts.
 */
import { FeedFormatError } from './errors.ts';
import { parseOsvFeed } from './osv.ts';
import type { OsvRecord } from './osv.ts';
import { isZip, readZip } from './zip.ts';
import type { ZipLimits } from './zip.ts';

/** Parse an OSV feed document (JSON or ZIP). `name` names the feed in error messages. Rejects with FeedFormatError. */
export async function parseOsvBundle(bytes: Uint8Array | string, name = 'OSV feed', limits: Partial<ZipLimits> = {}): Promise<OsvRecord[]> {
  if (typeof bytes === 'string' || !isZip(bytes)) return parseOsvFeed(bytes, name);
  const out: OsvRecord[] = [];
  await readZip(bytes, (entry, data) => {
    if (!entry.toLowerCase().endsWith('.json')) return;
    for (const r of parseOsvFeed(data, `${name} ${entry}`)) out.push(r);
  }, limits);
  if (out.length === 0) throw new FeedFormatError(`${name}: the ZIP archive holds no OSV records`);
  return out;
}
