import { readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { indexOsvDocuments } from '../operator/vuln/bundle.ts';
const bytes = readFileSync(process.argv[2]!);
const index = await indexOsvDocuments([{ name: 'f', bytes }]);
const f = writeHeapSnapshot('/tmp/scratch/idx.heapsnapshot');
const snap = JSON.parse(readFileSync(f, 'utf8'));
const m = snap.snapshot.meta; const nf = m.node_fields.length; const types = m.node_types[0]; const strings = snap.strings;
const it = m.node_fields.indexOf('type'), iname = m.node_fields.indexOf('name'), isz = m.node_fields.indexOf('self_size');
const agg = new Map<string, [number, number]>();
for (let i = 0; i < snap.nodes.length; i += nf) { const t = types[snap.nodes[i + it]]; const name = t === 'string' || t === 'concatenated string' || t === 'sliced string' ? `(${t})` : strings[snap.nodes[i + iname]]; const k = `${t}:${String(name).slice(0, 40)}`; const a = agg.get(k) ?? [0, 0]; a[0]++; a[1] += snap.nodes[i + isz]; agg.set(k, a); }
for (const [k, [n, s]] of [...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 25)) console.log((s / 2 ** 20).toFixed(2).padStart(8), 'MiB', String(n).padStart(8), k);
console.log(index.recordCount);
