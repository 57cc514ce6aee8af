/**
 * Heap the OSV index retains per record, after GC (issue #16): indexes N synthetic records shaped as bench/vuln.ts
 * generates them (one affected package, one ECOSYSTEM range, one alias, a summary) the way the feed store does
 * (indexOsvDocuments) and prints `{"records":…,"heapMiB":…,"bytesPerRecord":…}`. With a second argument it also writes
 * the records as a ZIP bundle there, for bench/lib/osv-feed-load.ts (peak RSS of a fresh load).
 * Usage: node bench/lib/osv-index-heap.ts [records=100000] [zip file]
 */
import { writeFileSync } from 'node:fs';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deflateRawSync } from 'node:zlib';
import { indexOsvDocuments } from '../../operator/vuln/bundle.ts';
import { writeZip } from '../../operator/vuln/zip.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const RECORDS = Number(process.argv[2] ?? 100_000);
const PACKAGES = 25_000;

// the generator of bench/vuln.ts (deterministic PRNG: mulberry32)
let seed = 42;
const rnd = (n: number) => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
};
const eco = (i: number) => (i % 10 < 7 ? 'npm' : i % 10 < 9 ? 'Maven' : 'PyPI');
const pkgName = (i: number) => (eco(i) === 'Maven' ? `org.example${i % 97}:lib-${i}` : `pkg-${i}`);
let records: unknown[] = [];
for (let r = 0; r < RECORDS; r++) {
  const p = rnd(PACKAGES);
  const major = rnd(10);
  const minor = rnd(20);
  const events = rnd(4) === 0
    ? [{ introduced: '0' }, { last_affected: `${major}.${minor}.${rnd(30)}` }]
    : [{ introduced: rnd(3) === 0 ? '0' : `${major}.${minor}.0` }, { fixed: `${major}.${minor + 1 + rnd(3)}.0` }];
  records.push({
    schema_version: '1.6.0', id: `SYNTH-${r}`, modified: '2026-01-01T00:00:00Z', aliases: [`CVE-2026-${100000 + r}`], summary: `synthetic advisory ${r}`,
    affected: [{ package: { ecosystem: eco(p), name: pkgName(p) }, ranges: [{ type: 'ECOSYSTEM', events }] }],
  });
}
if (process.argv[3]) writeFileSync(process.argv[3], writeZip(records.map((r, i) => ({ name: `SYNTH-${i}.json`, bytes: Buffer.from(JSON.stringify(r)) })), (b) => deflateRawSync(b)));
let text: string | undefined = JSON.stringify(records);
records = [];
const settle = () => {
  for (let i = 0; i < 3; i++) gc();
  return getHeapStatistics().used_heap_size;
};
const before = settle();
const index = await indexOsvDocuments([{ name: 'synthetic', bytes: text }]);
const after = settle(); // the text is still alive, as it was for `before`
text = undefined;
if (index.recordCount !== RECORDS) throw new Error(`${index.recordCount} records indexed, not ${RECORDS}`);
console.log(JSON.stringify({ records: RECORDS, packages: index.packageCount, heapMiB: +((after - before) / 2 ** 20).toFixed(1), bytesPerRecord: Math.round((after - before) / RECORDS) }));
