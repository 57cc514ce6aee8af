/**
 * Bounded reading of the ZIP bundles OSV publishes (`<ecosystem>/all.zip`: one JSON file per record), on top
 * of yauzl (end-of-central-directory, central directory incl. ZIP64, local headers, file names).
 *
 * Limits are enforced on what is actually produced, not on what the archive declares:
 * - entry count (from the end-of-central-directory record, before anything is read);
 * - overlapping entries: every entry's local header + data must occupy its own byte range, so central-directory
 *   entries that alias one local entry (a "zip bomb" that multiplies one compressed stream) are refused before
 *   any data is inflated;
 * - total inflated bytes: node:zlib inflates each entry with `maxOutputLength` set to what is left of the budget,
 *   so it stops producing at the limit;
 * - compression ratio per entry (inflated bytes / compressed bytes), enforced the same way;
 * - declared size and CRC-32 of every entry.
 * Encrypted entries and methods other than stored/deflate are refused. Throws FeedFormatError.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { crc32 as zlibCrc32, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { FeedFormatError } from './errors.ts';

export interface ZipLimits {
  /** Max total inflated bytes over all entries (default 1 GiB). */
  readonly maxTotalBytes: number;
  readonly maxEntries: number;
  /** Max inflated/compressed ratio of one entry (default 200; entries below `ratioFloorBytes` are exempt). */
  readonly maxRatio: number;
  /** Output size below which an entry's ratio is not checked (tiny files compress oddly; default 1 MiB). */
  readonly ratioFloorBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxTotalBytes: 1024 * 1024 * 1024, maxEntries: 1_000_000, maxRatio: 200, ratioFloorBytes: 1024 * 1024 };

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function fail(msg: string): FeedFormatError {
  return new FeedFormatError(msg.slice(0, 300));
}

function open(buf: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false, decodeStrings: true }, (err, zf) => {
      if (err) reject(fail(`ZIP archive cannot be read: ${err.message}`));
      else resolve(zf);
    });
  });
}

/** What reading one entry needs (yauzl's Entry objects are let go as soon as this is taken from them). */
interface EntryInfo {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  /** Offset of its local header. */
  readonly header: number;
  /** Offset of its data (after the local header, as yauzl located it). */
  readonly start: number;
}

/**
 * Every central-directory entry, in order, with its data offset from its local header. Encrypted entries and
 * methods other than stored/deflate, and data past the end of the archive, are refused here (before anything is
 * inflated).
 */
function entryInfos(zf: ZipFile, size: number): Promise<EntryInfo[]> {
  return new Promise((resolve, reject) => {
    const out: EntryInfo[] = [];
    let failed = false;
    let ended = false;
    let pending = 0;
    const stop = (err: FeedFormatError) => {
      if (failed) return;
      failed = true;
      reject(err);
    };
    const settle = () => {
      if (ended && pending === 0 && !failed) resolve(out);
    };
    zf.on('entry', (e: Entry) => {
      if (failed) return;
      if (e.isEncrypted()) return stop(fail(`ZIP entry ${e.fileName} is encrypted`));
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8) return stop(fail(`ZIP entry ${e.fileName} uses unsupported compression method ${e.compressionMethod}`));
      // The local header is read while the central directory goes on to the next entry (both are reads of the
      // same buffer): the archive is walked in two interleaved sequences, not one read after another.
      const at = out.length;
      out.push(undefined as unknown as EntryInfo);
      pending++;
      zf.readLocalFileHeader(e, { minimal: true }, (err, h) => {
        pending--;
        if (err) return stop(fail(`ZIP local header of ${e.fileName} is corrupt: ${err.message}`));
        if (h.fileDataStart + e.compressedSize > size) return stop(fail(`ZIP entry ${e.fileName} is truncated`));
        out[at] = {
          name: e.fileName,
          method: e.compressionMethod,
          compressedSize: e.compressedSize,
          uncompressedSize: e.uncompressedSize,
          crc32: e.crc32 >>> 0,
          header: e.relativeOffsetOfLocalHeader,
          start: h.fileDataStart,
        };
        settle();
      });
      zf.readEntry();
    });
    zf.on('end', () => {
      ended = true;
      settle();
    });
    zf.on('error', (err: Error) => stop(fail(`ZIP central directory is corrupt: ${err.message}`)));
    zf.readEntry();
  });
}

/** Entries inflated between two yields to the event loop. */
const YIELD_EVERY = 1000;

/** Largest output chunk node:zlib allocates for one entry (small entries get a buffer of their own size). */
const MAX_CHUNK = 1024 * 1024;

/**
 * One entry's bytes: its raw data is the byte range yauzl located (local header validated, range checked against
 * the archive and every other entry); deflate is undone by node:zlib with `maxOutputLength`, so inflation stops
 * as soon as the output passes the remaining total budget, the ratio limit or the declared size. The output must
 * then have exactly the declared size and CRC-32. The output chunk is sized to the declared size (bounded), so
 * the many small files of an OSV bundle do not each allocate zlib's default 16 KiB chunk.
 */
function entryBytes(buf: Buffer, e: EntryInfo, budget: { left: number }, limits: ZipLimits): Buffer {
  const raw = buf.subarray(e.start, e.start + e.compressedSize);
  const ratioCap = Math.max(limits.ratioFloorBytes, limits.maxRatio * Math.max(1, e.compressedSize));
  const cap = Math.min(budget.left, ratioCap);
  let out: Buffer;
  if (e.method === 0) {
    out = raw;
    if (out.length > cap) throw fail(out.length > budget.left ? `ZIP archive inflates to more than ${limits.maxTotalBytes} bytes (stopped in ${e.name})` : `ZIP entry ${e.name} is larger than allowed`);
  } else {
    // One byte over the declared size is enough to tell a lying header; never more than the caps.
    const maxOutputLength = Math.max(1, Math.min(cap, e.uncompressedSize + 1));
    try {
      out = inflateRawSync(raw, { maxOutputLength, chunkSize: Math.min(MAX_CHUNK, Math.max(64, maxOutputLength)) });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        if (e.uncompressedSize + 1 <= cap) throw fail(`ZIP entry ${e.name} inflates to more than its declared ${e.uncompressedSize} bytes`);
        if (cap === budget.left) throw fail(`ZIP archive inflates to more than ${limits.maxTotalBytes} bytes (stopped in ${e.name})`);
        throw fail(`ZIP entry ${e.name} inflates more than ${limits.maxRatio}:1 (${e.compressedSize} compressed bytes)`);
      }
      throw fail(`ZIP entry ${e.name} cannot be inflated: ${(err as Error).message}`);
    }
  }
  if (out.length !== e.uncompressedSize) throw fail(`ZIP entry ${e.name} has ${out.length} bytes, not the declared ${e.uncompressedSize}`);
  if (zlibCrc32(out) !== e.crc32) throw fail(`ZIP entry ${e.name} fails its CRC-32 check`);
  budget.left -= out.length;
  return out;
}

/**
 * Calls `onEntry` for each file entry (name, bytes) in the archive, in central-directory order, and resolves
 * with the number of file entries. Each entry's bytes are produced only when its turn comes and are not kept;
 * the loop yields to the event loop every YIELD_EVERY entries.
 * Rejects with FeedFormatError on anything unreadable or over a limit (also when `onEntry` throws one).
 */
export async function readZip(data: Uint8Array, onEntry: (name: string, bytes: Buffer) => void, limits: Partial<ZipLimits> = {}): Promise<number> {
  const lim: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const zf = await open(buf);
  try {
    if (zf.entryCount > lim.maxEntries) throw fail(`ZIP archive has ${zf.entryCount} entries (limit ${lim.maxEntries})`);
    const all = await entryInfos(zf, buf.length);
    // Every entry must own its byte range [local header, end of data); aliasing entries are refused.
    const order = Array.from(all.keys()).sort((a, b) => all[a]!.header - all[b]!.header);
    for (let i = 1; i < order.length; i++) {
      const prev = all[order[i - 1]!]!;
      const cur = all[order[i]!]!;
      if (cur.header < prev.start + prev.compressedSize) throw fail(`ZIP entries ${prev.name} and ${cur.name} overlap (aliased local entries)`);
    }
    const budget = { left: lim.maxTotalBytes };
    let files = 0;
    for (const e of all) {
      if (e.name.endsWith('/')) continue;
      files++;
      onEntry(e.name, entryBytes(buf, e, budget, lim));
      // A bundle of many entries does not hold the event loop (the webhook shares it) for its whole length.
      if (files % YIELD_EVERY === 0) await yieldToLoop();
    }
    return files;
  } finally {
    zf.close();
  }
}

/** Builds a stored/deflated ZIP (used by tests and the benchmark to make OSV-style bundles). */
export function writeZip(entries: readonly { name: string; bytes: Buffer }[], deflate: (b: Buffer) => Buffer): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const comp = deflate(e.bytes);
    const crc = zlibCrc32(e.bytes);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(comp.length, 18);
    lh.writeUInt32LE(e.bytes.length, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, comp);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(comp.length, 20);
    ch.writeUInt32LE(e.bytes.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, name);
    offset += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const many = entries.length >= 0xffff;
  end.writeUInt16LE(many ? 0xffff : entries.length, 8);
  end.writeUInt16LE(many ? 0xffff : entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  if (!many) return Buffer.concat([...locals, cd, end]);
  const z64 = Buffer.alloc(56);
  z64.writeUInt32LE(0x06064b50, 0);
  z64.writeBigUInt64LE(44n, 4);
  z64.writeUInt16LE(45, 12);
  z64.writeUInt16LE(45, 14);
  z64.writeBigUInt64LE(BigInt(entries.length), 24);
  z64.writeBigUInt64LE(BigInt(entries.length), 32);
  z64.writeBigUInt64LE(BigInt(cd.length), 40);
  z64.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([...locals, cd, z64, locator, end]);
}
