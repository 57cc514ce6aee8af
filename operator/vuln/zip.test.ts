import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { parseOsvBundle } from './bundle.ts';
import { FeedFormatError } from './errors.ts';
import { readZip, writeZip } from './zip.ts';

const record = (id: string): Buffer => Buffer.from(JSON.stringify({ id, modified: '2024-01-01T00:00:00Z', affected: [] }));

/** Where the central directory starts (classic EOCD at the end, no comment). */
function cdOffset(zip: Buffer): number {
  return zip.readUInt32LE(zip.length - 22 + 16);
}

/**
 * A "zip bomb" by aliasing: `copies` central-directory entries that all point at the single local entry of
 * `zip` (offset 0), each with its own name.
 */
function aliased(zip: Buffer, copies: number): Buffer {
  const cd = cdOffset(zip);
  const nameLen = zip.readUInt16LE(cd + 28);
  const header = zip.subarray(cd, cd + 46);
  const local = zip.subarray(0, cd);
  const central: Buffer[] = [];
  for (let i = 0; i < copies; i++) {
    const name = Buffer.from(`r${String(i).padStart(Math.max(0, nameLen - 6), '0')}.json`);
    const h = Buffer.from(header);
    h.writeUInt16LE(name.length, 28);
    h.writeUInt32LE(0, 42);
    central.push(h, name);
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(copies, 8);
  end.writeUInt16LE(copies, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(local.length, 16);
  return Buffer.concat([local, cdBuf, end]);
}

const isFeedError = (re: RegExp) => (e: unknown): boolean => e instanceof FeedFormatError && re.test(e.message);

describe('OSV ZIP bundles: bounded reading (yauzl)', () => {
  it('reads a well-formed bundle entry by entry', async () => {
    const zip = writeZip([{ name: 'A.json', bytes: record('A') }, { name: 'dir/B.json', bytes: record('B') }], (b) => deflateRawSync(b));
    const seen: string[] = [];
    assert.equal(await readZip(zip, (n, b) => seen.push(`${n}:${String((JSON.parse(b.toString()) as { id: string }).id)}`)), 2);
    assert.deepEqual(seen, ['A.json:A', 'dir/B.json:B']);
    assert.deepEqual((await parseOsvBundle(zip, 'all.zip')).map((r) => r.id), ['A', 'B']);
  });

  it('refuses central-directory entries aliasing one local entry before inflating anything', async () => {
    const one = writeZip([{ name: 'r000.json', bytes: Buffer.concat([record('X'), Buffer.alloc(512 * 1024, 0x20)]) }], (b) => deflateRawSync(b));
    const bomb = aliased(one, 200);
    let produced = 0;
    await assert.rejects(readZip(bomb, (_n, b) => { produced += b.length; }), isFeedError(/overlap/));
    assert.equal(produced, 0);
  });

  it('stops at the total limit on bytes actually inflated', async () => {
    const big = Buffer.alloc(600 * 1024, 0x20);
    const zip = writeZip([{ name: 'a.json', bytes: big }, { name: 'b.json', bytes: big }], (b) => deflateRawSync(b));
    await assert.rejects(readZip(zip, () => undefined, { maxTotalBytes: 1024 * 1024, maxRatio: 1e9 }), isFeedError(/inflates to more than 1048576 bytes/));
    assert.equal(await readZip(zip, () => undefined, { maxTotalBytes: 2 * 1024 * 1024, maxRatio: 1e9 }), 2);
  });

  it('refuses an entry above the compression-ratio limit', async () => {
    const zip = writeZip([{ name: 'bomb.json', bytes: Buffer.alloc(8 * 1024 * 1024, 0) }], (b) => deflateRawSync(b));
    await assert.rejects(readZip(zip, () => undefined), isFeedError(/inflates more than 200:1/));
  });

  it('refuses an entry that inflates to more than its declared size', async () => {
    const zip = writeZip([{ name: 'a.json', bytes: Buffer.alloc(4096, 0x20) }], (b) => deflateRawSync(b));
    const cd = cdOffset(zip);
    zip.writeUInt32LE(16, cd + 24); // central directory: uncompressed size 16
    zip.writeUInt32LE(16, 22); // local header too
    await assert.rejects(readZip(zip, () => undefined), isFeedError(/inflates to more than its declared 16 bytes/));
  });

  it('refuses an entry whose CRC-32 does not match', async () => {
    const zip = writeZip([{ name: 'a.json', bytes: record('A') }], (b) => deflateRawSync(b));
    zip.writeUInt32LE((zip.readUInt32LE(cdOffset(zip) + 16) ^ 1) >>> 0, cdOffset(zip) + 16);
    zip.writeUInt32LE((zip.readUInt32LE(14) ^ 1) >>> 0, 14);
    await assert.rejects(readZip(zip, () => undefined), isFeedError(/CRC-32/));
  });

  it('refuses too many entries before reading them', async () => {
    const zip = writeZip(Array.from({ length: 11 }, (_, i) => ({ name: `${i}.json`, bytes: record(String(i)) })), (b) => deflateRawSync(b));
    await assert.rejects(readZip(zip, () => undefined, { maxEntries: 10 }), isFeedError(/11 entries \(limit 10\)/));
  });

  it('refuses encrypted entries and a nested ZIP posing as JSON', async () => {
    const zip = writeZip([{ name: 'a.json', bytes: record('A') }], (b) => deflateRawSync(b));
    const enc = Buffer.from(zip);
    enc.writeUInt16LE(1, cdOffset(enc) + 8);
    enc.writeUInt16LE(1, 6);
    await assert.rejects(readZip(enc, () => undefined), isFeedError(/encrypted/));
    const nested = writeZip([{ name: 'inner.json', bytes: zip }], (b) => deflateRawSync(b));
    await assert.rejects(parseOsvBundle(nested, 'outer.zip'), isFeedError(/ZIP archive/));
  });
});
