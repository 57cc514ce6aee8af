/**
 * The OSV index keeps a compact form of each record (issue #16): matching must give what it gave over the full
 * records, and the index's retained heap per record stays bounded. The golden file was written by the index as it
 * was before the compact form (commit before "OsvIndex: compact entries"), over the generated feed below;
 * `UPDATE_GOLDEN=1` rewrites it (only do that when matching semantics are meant to change).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OsvIndex } from './match.ts';
import type { OsvAssessment } from './match.ts';
import { parseOsvFeed } from './osv.ts';
import { mulberry32 } from '../../test/harness/prng.ts';

const GOLDEN = new URL('../../test/fixtures/vuln/osv-index-golden.json', import.meta.url);


/** Packages by ecosystem: name in OSV, purl prefix, version maker (some versions unorderable on purpose). */
const ECOS = [
  { eco: 'npm', purl: (n: string) => `pkg:npm/${n}`, name: (i: number) => `pkg-${i}` },
  { eco: 'PyPI', purl: (n: string) => `pkg:pypi/${n}`, name: (i: number) => `py-${i}` },
  { eco: 'Maven', purl: (n: string) => `pkg:maven/org.ex/${n.split(':')[1]}`, name: (i: number) => `org.ex:lib-${i}` },
  { eco: 'Go', purl: (n: string) => `pkg:golang/${n}`, name: (i: number) => `example.com/m${i}` },
  { eco: 'Debian:12', purl: (n: string) => `pkg:deb/debian/${n}`, name: (i: number) => `src${i}`, distro: 'debian-12' },
  { eco: 'Debian:11', purl: (n: string) => `pkg:deb/debian/${n}`, name: (i: number) => `src${i}`, distro: 'debian-11' },
  { eco: 'Packagist', purl: (n: string) => `pkg:composer/${n}`, name: (i: number) => `v${i}/p${i}` },
] as const;

/** A feed exercising every form matching reads: ranges of each kind, explicit versions, GIT, unorderable versions, withdrawn, aliases/upstream/summary. */
export function generateOsvFeed(records: number, packages: number, seed = 7): { feed: unknown[]; queries: string[] } {
  const rnd = mulberry32(seed);
  const ver = () => `${rnd(4)}.${rnd(6)}.${rnd(8)}`;
  const verOf = (eco: string) => (eco === 'Go' ? `v${ver()}` : eco.startsWith('Debian') ? `${ver()}-${1 + rnd(3)}` : rnd(40) === 0 ? `bad..${rnd(9)}` : ver());
  const feed: unknown[] = [];
  for (let r = 0; r < records; r++) {
    const affected = [];
    for (let a = 0, na = 1 + (rnd(6) === 0 ? 1 : 0); a < na; a++) {
      const p = rnd(packages);
      const e = ECOS[p % ECOS.length]!;
      const ranges = [];
      for (let k = 0, nr = rnd(5) === 0 ? 2 : rnd(12) === 0 ? 0 : 1; k < nr; k++) {
        const type = rnd(15) === 0 ? 'GIT' : e.eco === 'npm' && rnd(3) === 0 ? 'SEMVER' : 'ECOSYSTEM';
        const ev: Record<string, string>[] = [{ introduced: rnd(3) === 0 ? '0' : verOf(e.eco) }];
        const kind = rnd(6);
        if (kind === 0) ev.push({ last_affected: verOf(e.eco) });
        else if (kind === 1) ev.push({ limit: rnd(2) === 0 ? '*' : verOf(e.eco) });
        else if (kind !== 2) ev.push({ fixed: verOf(e.eco) });
        if (rnd(4) === 0) ev.push({ introduced: verOf(e.eco) }, { fixed: verOf(e.eco) });
        if (rnd(3) === 0) ev.reverse(); // events in no particular order
        ranges.push(type === 'GIT' ? { type, repo: 'https://example.invalid/r.git', events: ev } : { type, events: ev });
      }
      affected.push({
        package: { ecosystem: e.eco, name: e.name(p) },
        ...(ranges.length > 0 || rnd(2) === 0 ? { ranges } : {}),
        ...(rnd(5) === 0 ? { versions: [verOf(e.eco), verOf(e.eco)] } : {}),
      });
    }
    if (rnd(30) === 0) affected.push({ package: { ecosystem: 'UnknownEco', name: 'x' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] });
    feed.push({
      id: `SYN-${r}`,
      modified: '2026-01-01T00:00:00Z',
      ...(rnd(4) !== 0 ? { aliases: [`CVE-2026-${10000 + r}`, ...(rnd(5) === 0 ? [`GHSA-${r}`] : [])] } : {}),
      ...(rnd(8) === 0 ? { upstream: [`CVE-2025-${r}`] } : {}),
      ...(rnd(3) !== 0 ? { summary: `advisory ${r}` } : {}),
      ...(rnd(40) === 0 ? { withdrawn: '2026-02-01T00:00:00Z' } : {}),
      affected,
    });
  }
  const queries: string[] = [];
  for (let q = 0; q < packages * 2; q++) {
    const p = rnd(packages);
    const e = ECOS[p % ECOS.length]!;
    const base = `${e.purl(e.name(p))}@${encodeURIComponent(verOf(e.eco))}`;
    queries.push('distro' in e ? (rnd(5) === 0 ? base : `${base}?distro=${rnd(4) === 0 ? 'debian-10' : e.distro}`) : base);
  }
  return { feed, queries };
}

/** An assessment as plain data, order-independent where the index does not promise an order. */
function plain(a: OsvAssessment): unknown {
  return {
    ...(a.unassessed ? { unassessed: a.unassessed } : {}),
    hits: a.hits
      .map((h) => ({ id: h.record.id, aliases: [...h.record.aliases], upstream: [...h.record.upstream], summary: h.record.summary ?? null, uncertain: h.uncertain ?? null, notes: [...h.notes] }))
      .sort((x, y) => (x.id < y.id ? -1 : 1)),
    considered: [...a.considered].sort(),
  };
}

describe('compact OSV index', () => {
  it('matches a generated feed exactly as the full-record index did (hits, uncertain, notes, considered, unassessed)', () => {
    const { feed, queries } = generateOsvFeed(4000, 1000);
    const index = new OsvIndex(parseOsvFeed(JSON.stringify(feed)));
    const got = { records: index.recordCount, packages: index.packageCount, unmapped: index.unmapped, results: queries.map((q) => [q, plain(index.assess(q))]) };
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, `${JSON.stringify(got)}\n`);
    const want = JSON.parse(readFileSync(GOLDEN, 'utf8')) as typeof got;
    assert.equal(got.results.length, want.results.length);
    // Not vacuous: the feed yields certain hits, uncertain ones, notes and unassessed components.
    const flat = JSON.stringify(want.results);
    for (const s of ['"uncertain":"', '"uncertain":null', 'GIT range skipped', '"unassessed"']) assert.ok(flat.includes(s), s);
    for (let i = 0; i < want.results.length; i++) assert.deepEqual(got.results[i], want.results[i], `query ${i}: ${String(want.results[i]![0])}`);
    assert.deepEqual([got.records, got.packages, got.unmapped], [want.records, want.packages, want.unmapped]);
  });
});

describe('compact OSV index: fail closed', () => {
  it('a range whose events cannot be ordered when indexed keeps its full form and is reported uncertain, never dropped', () => {
    const index = new OsvIndex(parseOsvFeed(JSON.stringify({
      id: 'BAD-1', modified: 'x', aliases: ['CVE-2026-1', 'GHSA-x'],
      affected: [{ package: { ecosystem: 'npm', name: 'a' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: 'not..a..version' }, { fixed: '2.0.0' }] }] }],
    }))).done();
    const r = index.assess('pkg:npm/a@1.0.0');
    assert.equal(r.hits.length, 1);
    assert.equal(r.hits[0]!.record.id, 'BAD-1');
    assert.match(r.hits[0]!.uncertain ?? '', /not\.\.a\.\.version/);
    assert.deepEqual([...r.hits[0]!.record.aliases], ['CVE-2026-1', 'GHSA-x']);
    assert.deepEqual([...r.considered].sort(), ['BAD-1', 'CVE-2026-1', 'GHSA-X']);
  });
});

describe('OSV index heap', () => {
  it('retains a bounded number of bytes per record (after GC) for a generated feed', () => {
    // A fresh process (bench/lib/osv-index-heap.ts: bench/vuln.ts's feed shape, indexed as the feed store does), so
    // nothing else this process allocated or frees moves the number.
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../bench/lib/osv-index-heap.ts', import.meta.url)), '20000'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { records: number; bytesPerRecord: number };
    assert.equal(out.records, 20_000);
    // Measured at 20,000 records (13,751 packages): 429 B per record before lists of one were unboxed, ~ 380 after
    // (at 100,000: 752 before the compact form, ~ 300 after); the bound is ~ 1.5 × the measurement.
    assert.ok(out.bytesPerRecord > 0 && out.bytesPerRecord < 580, `${out.bytesPerRecord} B per record`);
  });
});
