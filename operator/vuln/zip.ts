/**
 * A minimal, bounded ZIP reader for the bundles OSV publishes (`<ecosystem>/all.zip`: one JSON file per
 * record). Reads the central directory, ZIP64 included (bundles above 65,535 records); supports stored and
 * deflated entries; refuses encrypted and oversized archives. Throws FeedFormatError with a clear message on
 * anything it cannot read.
 */
import { inflateRawSync } from 'node:zlib';
import { FeedFormatError } from './errors.ts';

export interface ZipLimits {
  /** Max total uncompressed bytes (default 1 GiB). */
  readonly maxTotalBytes: number;
  readonly maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxTotalBytes: 1024 * 1024 * 1024, maxEntries: 1_000_000 };

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Calls `onEntry` for each file entry (name, bytes) in the archive, in central-directory order. */
export function readZip(data: Uint8Array, onEntry: (name: string, bytes: Buffer) => void, limits: ZipLimits = DEFAULT_ZIP_LIMITS): number {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // End of central directory: search backwards over at most 64 KiB of comment.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65_535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new FeedFormatError('ZIP archive has no end-of-central-directory record (truncated?)');
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    // ZIP64 (bundles with more than 65,535 records): the locator precedes the classic EOCD.
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new FeedFormatError('ZIP64 end-of-central-directory locator missing');
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    if (rec + 56 > buf.length || buf.readUInt32LE(rec) !== 0x06064b50) throw new FeedFormatError('ZIP64 end-of-central-directory record is corrupt');
    count = Number(buf.readBigUInt64LE(rec + 32));
    cdSize = Number(buf.readBigUInt64LE(rec + 40));
    cdOffset = Number(buf.readBigUInt64LE(rec + 48));
  }
  if (cdOffset + cdSize > buf.length) throw new FeedFormatError('ZIP central directory lies outside the archive (truncated?)');
  if (count > limits.maxEntries) throw new FeedFormatError(`ZIP archive has ${count} entries (limit ${limits.maxEntries})`);
  let p = cdOffset;
  let total = 0;
  let files = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new FeedFormatError(`ZIP central directory entry ${n} is corrupt`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    if (local === 0xffffffff) {
      // ZIP64 extended information: the 64-bit values present are those whose 32-bit fields are all ones.
      let e = p + 46 + nameLen;
      const end = e + extraLen;
      while (e + 4 <= end) {
        const id = buf.readUInt16LE(e);
        const len = buf.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (buf.readUInt32LE(p + 24) === 0xffffffff) q += 8;
          if (buf.readUInt32LE(p + 20) === 0xffffffff) q += 8;
          local = Number(buf.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) throw new FeedFormatError(`ZIP entry ${name} is encrypted`);
    total += usize;
    if (total > limits.maxTotalBytes) throw new FeedFormatError(`ZIP archive expands to more than ${limits.maxTotalBytes} bytes`);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) throw new FeedFormatError(`ZIP local header of ${name} is corrupt`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + csize > buf.length) throw new FeedFormatError(`ZIP entry ${name} is truncated`);
    const raw = buf.subarray(start, start + csize);
    let bytes: Buffer;
    if (method === 0) bytes = raw;
    else if (method === 8) {
      try {
        bytes = inflateRawSync(raw, { maxOutputLength: Math.max(usize, 1) });
      } catch (err) {
        throw new FeedFormatError(`ZIP entry ${name} cannot be inflated: ${(err as Error).message}`);
      }
    } else throw new FeedFormatError(`ZIP entry ${name} uses unsupported compression method ${method}`);
    files++;
    onEntry(name, bytes);
  }
  return files;
}

/** Builds a stored/deflated ZIP (used by tests and the benchmark to make OSV-style bundles). */
export function writeZip(entries: readonly { name: string; bytes: Buffer }[], deflate: (b: Buffer) => Buffer): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const comp = deflate(e.bytes);
    const crc = crc32(e.bytes);
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

let table: Int32Array | undefined;
function crc32(b: Buffer): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < b.length; i++) crc = table[(crc ^ b[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
