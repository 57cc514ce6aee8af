/**
 * Summarises a V8 heap snapshot (the `.heapsnapshot` JSON that DevTools and the inspector's
 * HeapProfiler.takeHeapSnapshot write): self size by node type and constructor, the owners of those bytes (the
 * retaining object's constructor and edge name), and duplicated strings (the same text stored many times — what
 * interning would save). Used to attribute the memory benchmark's heap after GC (issue 16).
 *
 *   node bench/lib/heap-summary.ts FILE.heapsnapshot [--top 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapSummary {
  totalBytes: number;
  nodeCount: number;
  /** `type:name` (objects by constructor, strings as `string`) → bytes and count, largest first. */
  byClass: { key: string; bytes: number; count: number }[];
  /** `owner constructor.edge` → self bytes of the strings and arrays it holds directly, largest first. */
  byOwner: { key: string; bytes: number; count: number }[];
  /** Plain objects by their property names (first 8): which kind of record the `Object` bytes are, largest first. */
  byShape: { key: string; bytes: number; count: number }[];
  /** Strings stored more than once: text (cut) → copies and wasted bytes, largest waste first. */
  duplicates: { text: string; copies: number; wastedBytes: number }[];
}

export function summarise(snap: Snapshot): HeapSummary {
  const nf = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const nodeTypes = snap.snapshot.meta.node_types[0];
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const N = nf.length;
  const E = ef.length;
  const iType = nf.indexOf('type');
  const iName = nf.indexOf('name');
  const iSelf = nf.indexOf('self_size');
  const iEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const { nodes, edges, strings } = snap;
  const count = nodes.length / N;
  const classOf = (n: number): string => {
    const t = nodeTypes[nodes[n * N + iType]!]!;
    if (t === 'object' || t === 'closure' || t === 'native') return `${t}:${strings[nodes[n * N + iName]!]}`;
    if (t === 'hidden' || t === 'code' || t === 'array') return `${t}:${strings[nodes[n * N + iName]!]!.slice(0, 60)}`;
    return t;
  };
  const byClass = new Map<string, { bytes: number; count: number }>();
  let total = 0;
  for (let n = 0; n < count; n++) {
    const self = nodes[n * N + iSelf]!;
    total += self;
    const k = classOf(n);
    const e = byClass.get(k) ?? { bytes: 0, count: 0 };
    e.bytes += self;
    e.count++;
    byClass.set(k, e);
  }
  // Owners: for every leaf-like node (strings, arrays, numbers), the first retaining object's class and edge name.
  const owner = new Map<number, string>();
  let edgeIndex = 0;
  for (let n = 0; n < count; n++) {
    const ec = nodes[n * N + iEdges]!;
    const parent = classOf(n);
    for (let k = 0; k < ec; k++, edgeIndex += E) {
      const to = edges[edgeIndex + eTo]! / N;
      if (owner.has(to)) continue;
      const et = edgeTypes[edges[edgeIndex + eType]!];
      if (et === 'weak') continue;
      const nameOrIndex = edges[edgeIndex + eName]!;
      const name = et === 'element' || et === 'hidden' ? '[]' : strings[nameOrIndex];
      owner.set(to, `${parent}.${name}`);
    }
  }
  // Plain objects by shape: their property names (edges of type `property`, internal ones excluded), plus the
  // self size of the arrays and strings they hold directly.
  const byShape = new Map<string, { bytes: number; count: number }>();
  edgeIndex = 0;
  for (let n = 0; n < count; n++) {
    const ec = nodes[n * N + iEdges]!;
    const isObject = classOf(n) === 'object:Object';
    if (!isObject) {
      edgeIndex += ec * E;
      continue;
    }
    const names: string[] = [];
    let bytes = nodes[n * N + iSelf]!;
    for (let k = 0; k < ec; k++, edgeIndex += E) {
      const et = edgeTypes[edges[edgeIndex + eType]!];
      const to = edges[edgeIndex + eTo]! / N;
      const tt = nodeTypes[nodes[to * N + iType]!];
      if (et === 'property' && names.length < 8) names.push(strings[edges[edgeIndex + eName]!]!);
      if ((et === 'property' || et === 'internal') && (tt === 'array' || tt === 'string' || tt === 'number') && owner.get(to)?.startsWith('object:Object.')) bytes += nodes[to * N + iSelf]!;
    }
    const key = `{${names.join(',')}}`;
    const e = byShape.get(key) ?? { bytes: 0, count: 0 };
    e.bytes += bytes;
    e.count++;
    byShape.set(key, e);
  }
  const byOwner = new Map<string, { bytes: number; count: number }>();
  const texts = new Map<string, { copies: number; bytes: number }>();
  for (let n = 0; n < count; n++) {
    const t = nodeTypes[nodes[n * N + iType]!];
    if (t !== 'string' && t !== 'concatenated string' && t !== 'sliced string' && t !== 'array' && t !== 'number' && t !== 'hidden') continue;
    const self = nodes[n * N + iSelf]!;
    const k = `${t} ← ${owner.get(n) ?? '(root)'}`;
    const e = byOwner.get(k) ?? { bytes: 0, count: 0 };
    e.bytes += self;
    e.count++;
    byOwner.set(k, e);
    if (t === 'string') {
      const text = strings[nodes[n * N + iName]!]!;
      const d = texts.get(text) ?? { copies: 0, bytes: self };
      d.copies++;
      texts.set(text, d);
    }
  }
  const sorted = (m: Map<string, { bytes: number; count: number }>) => [...m].map(([key, v]) => ({ key, ...v })).sort((a, b) => b.bytes - a.bytes);
  const duplicates = [...texts]
    .filter(([, d]) => d.copies > 1)
    .map(([text, d]) => ({ text: text.slice(0, 80), copies: d.copies, wastedBytes: d.bytes * (d.copies - 1) }))
    .sort((a, b) => b.wastedBytes - a.wastedBytes);
  return { totalBytes: total, nodeCount: count, byClass: sorted(byClass), byOwner: sorted(byOwner), byShape: sorted(byShape), duplicates };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  const top = Number(values.top);
  const file = positionals[0];
  if (!file) throw new Error('usage: node bench/lib/heap-summary.ts FILE.heapsnapshot [--top 30]');
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
  const mb = (b: number): string => (b / 2 ** 20).toFixed(2).padStart(8);
  console.log(`${file}: ${s.nodeCount} nodes, ${mb(s.totalBytes)} MiB self size in total\n\nby class (MiB, count):`);
  for (const c of s.byClass.slice(0, top)) console.log(`${mb(c.bytes)} ${String(c.count).padStart(9)}  ${c.key}`);
  console.log('\nleaf bytes by owner (MiB, count):');
  for (const c of s.byOwner.slice(0, top)) console.log(`${mb(c.bytes)} ${String(c.count).padStart(9)}  ${c.key}`);
  console.log('\nplain objects by shape, with the arrays and strings they hold (MiB, count):');
  for (const c of s.byShape.slice(0, top)) console.log(`${mb(c.bytes)} ${String(c.count).padStart(9)}  ${c.key.slice(0, 150)}`);
  const wasted = s.duplicates.reduce((a, d) => a + d.wastedBytes, 0);
  console.log(`\nduplicated strings: ${mb(wasted)} MiB wasted; largest:`);
  for (const d of s.duplicates.slice(0, top)) console.log(`${mb(d.wastedBytes)} ${String(d.copies).padStart(9)}  ${JSON.stringify(d.text)}`);
}
