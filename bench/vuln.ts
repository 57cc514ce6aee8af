/**
 * Vulnerability matching at scale: a 10,000-component SBOM against a 100,000-record OSV index (SYNTHETIC
 * records in the real OSV shape: npm, Maven and PyPI packages, ECOSYSTEM ranges with introduced/fixed/
 * last_affected events, aliases, some KEV-listed). Measures feed parse (JSON array and ZIP bundle), index build
 * time and memory, match time (SBOM × index × KEV × VEX), and the feed refresh cost (changed vs unchanged
 * content). Writes its section of docs/benchmarks.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { deflateRawSync } from 'node:zlib';
import type { EvidenceSources } from '../operator/evidence/collect.ts';
import { FeedStore } from '../operator/evidence/feeds.ts';
import { analyzeSbom } from '../operator/sbom/analyze.ts';
import type { SbomEvidence } from '../operator/sbom/evidence.ts';
import { assessVulnerabilities } from '../operator/vuln/assess.ts';
import { parseKev } from '../operator/vuln/kev.ts';
import { OsvIndex } from '../operator/vuln/match.ts';
import { parseOsvBundle } from '../operator/vuln/bundle.ts';
import { parseOsvFeed } from '../operator/vuln/osv.ts';
import { writeZip } from '../operator/vuln/zip.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RECORDS = 100_000;
const PACKAGES = 25_000;
const COMPONENTS = 10_000;
const RUNS = 5;

// deterministic PRNG (mulberry32)
let seed = 42;
const rnd = (n: number) => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
};
const eco = (i: number) => (i % 10 < 7 ? 'npm' : i % 10 < 9 ? 'Maven' : 'PyPI');
const pkgName = (i: number) => (eco(i) === 'Maven' ? `org.example${i % 97}:lib-${i}` : `pkg-${i}`);
const ver = () => `${rnd(10)}.${rnd(20)}.${rnd(30)}`;

const records: unknown[] = [];
for (let r = 0; r < RECORDS; r++) {
  const p = rnd(PACKAGES);
  const major = rnd(10);
  const minor = rnd(20);
  const events = rnd(4) === 0
    ? [{ introduced: '0' }, { last_affected: `${major}.${minor}.${rnd(30)}` }]
    : [{ introduced: rnd(3) === 0 ? '0' : `${major}.${minor}.0` }, { fixed: `${major}.${minor + 1 + rnd(3)}.0` }];
  records.push({
    schema_version: '1.6.0',
    id: `SYNTH-${r}`,
    modified: '2026-01-01T00:00:00Z',
    aliases: [`CVE-2026-${100000 + r}`],
    summary: `synthetic advisory ${r}`,
    affected: [{ package: { ecosystem: eco(p), name: pkgName(p) }, ranges: [{ type: 'ECOSYSTEM', events }] }],
  });
}
const feedText = JSON.stringify(records);
const zip = writeZip(records.slice(0, RECORDS).map((r, i) => ({ name: `SYNTH-${i}.json`, bytes: Buffer.from(JSON.stringify(r)) })), (b) => deflateRawSync(b));
const kevText = JSON.stringify({
  catalogVersion: 'synthetic',
  vulnerabilities: Array.from({ length: 1500 }, (_, i) => ({ cveID: `CVE-2026-${100000 + i * 61}`, vendorProject: 'x', product: 'y', dateAdded: '2026-01-01' })),
});

const components = Array.from({ length: COMPONENTS }, (_, i) => {
  const p = rnd(PACKAGES);
  const e = eco(p);
  const name = pkgName(p);
  // most components are current (above every synthetic fixed version); 1 in 20 is an old version
  const v = rnd(20) === 0 ? ver() : `${10 + rnd(5)}.${rnd(20)}.${rnd(30)}`;
  const purl = e === 'Maven' ? `pkg:maven/${name.replace(':', '/')}@${v}` : e === 'PyPI' ? `pkg:pypi/${name}@${v}` : `pkg:npm/${name}@${v}`;
  return { type: 'library', 'bom-ref': `c${i}`, name, version: v, purl };
});
const sbomDoc = JSON.stringify({
  bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
  metadata: { timestamp: '2026-01-01T00:00:00Z', component: { type: 'application', 'bom-ref': 'app', name: 'app', version: '1.0.0' } },
  components,
  dependencies: [{ ref: 'app', dependsOn: components.map((c) => c['bom-ref']) }],
});
const sboms: SbomEvidence[] = [{ artifact: 'app', source: 'synthetic', analysis: analyzeSbom(sbomDoc) }];
if (!sboms[0]!.analysis.ok) throw new Error(`SBOM analysis failed: ${sboms[0]!.analysis.message}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const v = f();
  return [v, performance.now() - t];
};

const parseJsonMs = median(Array.from({ length: 3 }, () => time(() => parseOsvFeed(feedText))[1]));
const zipTimes: number[] = [];
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  await parseOsvBundle(zip);
  zipTimes.push(performance.now() - t);
}
const parseZipMs = median(zipTimes);
const parsed = parseOsvFeed(feedText);
const kev = parseKev(kevText);

gc();
const heap0 = process.memoryUsage().heapUsed;
const [index, buildMs] = time(() => new OsvIndex(parsed));
gc();
const indexHeap = process.memoryUsage().heapUsed - heap0;
const buildRuns = [buildMs, ...Array.from({ length: RUNS - 1 }, () => time(() => new OsvIndex(parsed))[1])];

let matches = 0;
const matchRuns = Array.from({ length: RUNS }, () => {
  const [r, ms] = time(() => assessVulnerabilities({ sboms, index, kev: [kev], vex: { documents: [] } }));
  matches = r.matches.length;
  return ms;
});
const kevMatches = assessVulnerabilities({ sboms, index, kev: [kev], vex: { documents: [] } }).matches.filter((m) => m.kev).length;

// Feed refresh through the FeedStore (ConfigMap-style source held in memory).
let content = feedText;
const sources: EvidenceSources = { readConfigMap: () => Promise.resolve({ 'all.json': content }) };
const store = new FeedStore();
const ref = { kind: 'osv' as const, configMapRef: { namespace: 'cra-gate', name: 'osv' } };
let t = performance.now();
await store.refresh(ref, sources);
const refreshChangedMs = performance.now() - t;
t = performance.now();
const unchanged = await store.refresh(ref, sources);
const refreshUnchangedMs = performance.now() - t;
content = feedText.replace('synthetic advisory 0"', 'synthetic advisory 0 (updated)"');
t = performance.now();
const changedAgain = await store.refresh(ref, sources);
const refreshUpdatedMs = performance.now() - t;
if (unchanged.changed || !changedAgain.changed) throw new Error('refresh change detection is wrong');

const rssMiB = process.resourceUsage().maxRSS / 1024;
const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`;
const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

const section = `<!-- bench:vuln -->
## Vulnerability matching: ${COMPONENTS.toLocaleString('en')} components × ${RECORDS.toLocaleString('en')} OSV records

\`node bench/vuln.ts\` — SYNTHETIC OSV records in the real OSV shape (${PACKAGES.toLocaleString('en')} packages: 70 % npm, 20 % Maven, 10 % PyPI; ECOSYSTEM ranges with introduced/fixed or last_affected; one CVE alias each), a generated CycloneDX 1.6 SBOM of ${COMPONENTS.toLocaleString('en')} components with purls, and a 1,500-entry KEV catalogue. Median of ${RUNS} runs (parse: 3).

| step | result |
|---|---|
| feed parse + validation, JSON array (${MiB(Buffer.byteLength(feedText))}) | ${parseJsonMs.toFixed(0)} ms |
| feed parse + validation, ZIP bundle of ${RECORDS.toLocaleString('en')} files (${MiB(zip.length)}) | ${parseZipMs.toFixed(0)} ms |
| index build (by package key) | ${median(buildRuns).toFixed(0)} ms |
| index memory (heap after GC, records excluded) | ${MiB(indexHeap)} |
| match ${COMPONENTS.toLocaleString('en')} components (ranges evaluated, KEV + VEX lookup) | ${median(matchRuns).toFixed(0)} ms — ${matches} matches, ${kevMatches} in KEV |
| feed refresh, first load (read + SHA-256 + parse) | ${refreshChangedMs.toFixed(0)} ms |
| feed refresh, content unchanged (read + SHA-256 only) | ${refreshUnchangedMs.toFixed(0)} ms |
| feed refresh, content changed (re-parse) | ${refreshUpdatedMs.toFixed(0)} ms |

Peak RSS of the whole benchmark process (feed text, ZIP, parsed records, SBOM and index held at once): ${rssMiB.toFixed(0)} MiB.
An unchanged feed costs one read and a hash per refresh interval and re-evaluates nothing; a changed feed re-parses and
enqueues only the releases whose policy names it. The OSV index is shared by all releases of a policy (cached by feed digests).

Machine: ${machine}. Measured ${new Date().toISOString().slice(0, 10)}.
<!-- /bench:vuln -->`;

const file = path.join(root, 'docs', 'benchmarks.md');
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
const re = /<!-- bench:vuln -->[\s\S]*?<!-- \/bench:vuln -->/;
writeFileSync(file, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
