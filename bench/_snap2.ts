import { readFileSync } from 'node:fs';
const snap = JSON.parse(readFileSync('/tmp/scratch/idx.heapsnapshot', 'utf8'));
const m = snap.snapshot.meta; const nf = m.node_fields.length; const types = m.node_types[0]; const strings = snap.strings;
const it = m.node_fields.indexOf('type'), iname = m.node_fields.indexOf('name'), isz = m.node_fields.indexOf('self_size');
const agg = new Map<string, [number, number]>();
for (let i = 0; i < snap.nodes.length; i += nf) { const t = types[snap.nodes[i + it]]; if (t !== 'string') continue; const name = String(strings[snap.nodes[i + iname]]).replace(/\d+/g, 'N').slice(0, 30); const sz = snap.nodes[i + isz]; const k = `${name} sz=${sz}`; const a = agg.get(k) ?? [0, 0]; a[0]++; a[1] += sz; agg.set(k, a); }
for (const [k, [n, s]] of [...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 15)) console.log((s / 2 ** 20).toFixed(2).padStart(8), 'MiB', String(n).padStart(8), k);
