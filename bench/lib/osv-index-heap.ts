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
import { mulberry32 } from '../../test/harness/prng.ts';
import { syntheticOsvRecords } from './osv-synthetic.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const RECORDS = Number(process.argv[2] ?? 100_000);
const PACKAGES = 25_000;

let records: unknown[] = syntheticOsvRecords(mulberry32(42), RECORDS, PACKAGES);
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
