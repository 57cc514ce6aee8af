/**
 * SBOM benchmark, measured from outside as a CI step sees it: whole processes, interleaved on one machine.
 * For each size (generated CycloneDX 1.6 SBOMs carrying every BSI TR-03183-2 v2.1.0 field, bench/lib/sbom-gen.ts),
 * each round runs, one after the other:
 *  1. `cra-gate sbom check --profile bsi-2.1 FILE` from the compiled package (bin/cra-gate.mjs → dist/, staged like
 *     `npm install cra-gate`: the package.json "files" plus node_modules);
 *  2. the floor: `node -e` reading the same file and JSON.parse-ing it (same node binary, same start conditions);
 *  3. `sbomqs compliance --bsi-v21 FILE` when sbomqs is on PATH (never built or vendored here);
 *  4. at the small sizes, `cra-gate` from the sources (the development path, type stripping).
 * Reports medians with their spread (min–max) of wall time and peak RSS, and cra-gate's ratios to the floor; the
 * first (cold) run of each cra-gate variant uses an empty Node compile cache and is reported separately.
 * Writes its section of docs/benchmarks.md.
 *
 * With SBOM_BENCH_BASELINE=<git ref>, the compiled package of that commit (built from `git archive` into .cache/bench)
 * runs as one more tool in every round, right after cra-gate: a before/after comparison interleaved in one invocation,
 * so both see the same machine load.
 *
 *   node bench/sbom.ts     SBOM_BENCH_SIZES=3,1000,10000,50000  SBOM_BENCH_RUNS=5  SBOM_BENCH_NO_BUILD=1 (reuse dist/)
 *                          SBOM_BENCH_BASELINE=main (compare with that commit)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './lib/sbom-gen.ts';
import { measure, RSS_METHOD, summarise, type ProcessSample, type Summary } from './lib/process.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;

/** Targets of issue #16 (SBOM analysis). */
const TARGET_SMALL_S = 0.4;
const TARGET_TIME_RATIO = 3;
const TARGET_MEM_RATIO = 2;

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** The compiled package as `npm install` lays it out: package.json "files" + the repository's node_modules. */
function stagePackage(): string {
  if (process.env.SBOM_BENCH_NO_BUILD !== '1') {
    const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed');
  }
  return stageFrom(root, join(root, '.cache', 'bench', 'package'));
}

/** Stages the built package of checkout `src` (its dist/) into `dir`. */
function stageFrom(src: string, dir: string): string {
  if (!existsSync(join(src, 'dist', 'operator', 'cli', 'main.js'))) throw new Error(`${src}/dist is missing: run npm run build`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'operator', 'sbom'), { recursive: true });
  for (const f of ['package.json', 'bin', 'dist', 'crds', 'policies']) cpSync(join(src, f), join(dir, f), { recursive: true, filter: (s) => !(s.endsWith('.ts') && !s.endsWith('.d.ts')) && !s.endsWith('.test.js') });
  cpSync(join(src, 'operator', 'sbom', 'schemas'), join(dir, 'operator', 'sbom', 'schemas'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** The compiled package of git commit `ref`: its tree (git archive), built with this checkout's node_modules. */
function stageBaseline(ref: string): { dir: string; commit: string } {
  const commit = execFileSync('git', ['rev-parse', '--short', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const src = join(root, '.cache', 'bench', 'baseline-src');
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  const tar = spawnSync('sh', ['-c', `git archive ${commit} | tar -x -C "${src}"`], { cwd: root, stdio: 'inherit' });
  if (tar.status !== 0) throw new Error(`git archive ${ref} failed`);
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'));
  for (const args of [[join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], ['scripts/gen-sbom-validators.ts']]) {
    const r = spawnSync(NODE, args, { cwd: src, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`building ${ref} failed: ${args.join(' ')}`);
  }
  return { dir: stageFrom(src, join(root, '.cache', 'bench', 'baseline')), commit };
}

interface Tool {
  readonly name: string;
  readonly cmd: string;
  readonly args: (file: string) => string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Whether a run's result is acceptable (a tool that failed is not a measurement). */
  readonly ok: (s: ProcessSample) => boolean;
  readonly sizes?: (n: number) => boolean;
}

function fmtTime(s: Summary): string {
  const f = (ms: number) => (ms >= 10_000 ? (ms / 1000).toFixed(1) : (ms / 1000).toFixed(2));
  return `${f(s.median)} s (${f(s.min)}–${f(s.max)})`;
}
const fmtRss = (s: Summary): string => `${s.median.toFixed(0)} MiB (${s.min.toFixed(0)}–${s.max.toFixed(0)})`;

async function main(): Promise<void> {
  const sizes = (process.env.SBOM_BENCH_SIZES ?? '3,1000,10000,50000').split(',').map(Number);
  const runs = Math.max(1, Number(process.env.SBOM_BENCH_RUNS ?? 5));
  const pkg = stagePackage();
  const baselineRef = process.env.SBOM_BENCH_BASELINE;
  const baseline = baselineRef ? stageBaseline(baselineRef) : undefined;
  const cache = mkdtempSync(join(tmpdir(), 'cra-bench-ncc-'));
  const cacheEnv = { ...process.env, NODE_COMPILE_CACHE: cache };
  const sbomqs = onPath('sbomqs');
  const compliant = (s: ProcessSample) => s.code === 0 && /\ncompliant\n$/.test(s.stdout);
  const tools: Tool[] = [
    { name: 'cra-gate', cmd: NODE, args: (f) => [join(pkg, 'bin', 'cra-gate.mjs'), 'sbom', 'check', '--profile', 'bsi-2.1', f], env: cacheEnv, ok: compliant },
    ...(baseline
      ? [{ name: 'baseline', cmd: NODE, args: (f: string) => [join(baseline.dir, 'bin', 'cra-gate.mjs'), 'sbom', 'check', '--profile', 'bsi-2.1', f], env: cacheEnv, ok: compliant }]
      : []),
    { name: 'JSON.parse', cmd: NODE, args: (f) => ['-e', 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))', f], ok: (s) => s.code === 0 },
    ...(sbomqs ? [{ name: 'sbomqs', cmd: sbomqs, args: (f: string) => ['compliance', '--bsi-v21', f], ok: (s: ProcessSample) => s.code !== null }] : []),
    { name: 'dev', cmd: NODE, args: (f) => [join(root, 'bin', 'cra-gate.mjs'), 'sbom', 'check', '--profile', 'bsi-2.1', f], env: cacheEnv, ok: compliant, sizes: (n) => n <= 1000 },
  ];
  const dir = join(root, '.cache', 'bench');
  mkdirSync(dir, { recursive: true });
  const load0 = loadavg()[0]!;
  const rows: string[] = [];
  const cpuRows: string[] = [];
  const baselineRows: string[] = [];
  const notes: string[] = [];
  let cold: Record<string, ProcessSample> | undefined;
  for (const n of sizes) {
    const file = join(dir, `sbom-${n}.cdx.json`);
    writeFileSync(file, generate(n));
    const size = readFileSync(file).byteLength;
    const active = tools.filter((t) => !t.sizes || t.sizes(n));
    if (!cold) {
      // First runs with an empty compile cache: what the first CI step on a fresh runner pays.
      cold = {};
      for (const t of active.filter((x) => x.env && x.name !== 'baseline')) cold[t.name] = await measure(t.cmd, t.args(file), t.env);
    }
    const samples = new Map<string, ProcessSample[]>(active.map((t) => [t.name, []]));
    for (let r = 0; r < runs; r++) {
      for (const t of active) {
        const s = await measure(t.cmd, t.args(file), t.env);
        if (!t.ok(s)) throw new Error(`${t.name} on ${n} components: exit ${s.code}\n${s.stdout.slice(-500)}`);
        samples.get(t.name)!.push(s);
      }
    }
    const sum = (name: string) => {
      const l = samples.get(name);
      return l && l.length
        ? { t: summarise(l.map((s) => s.wallMs)), m: summarise(l.map((s) => s.peakRssMiB)), cpu: l.every((s) => s.cpuMs !== undefined) ? summarise(l.map((s) => s.cpuMs!)).median : undefined }
        : undefined;
    };
    const c = sum('cra-gate')!;
    const p = sum('JSON.parse')!;
    const q = sum('sbomqs');
    const d = sum('dev');
    const tr = c.t.median / p.t.median;
    const mr = c.m.median / p.m.median;
    const cpu = (v: { cpu?: number | undefined } | undefined) => (v?.cpu !== undefined ? `${(v.cpu / 1000).toFixed(2)} s` : 'n/a');
    const cr = c.cpu !== undefined && p.cpu !== undefined && p.cpu > 0 ? `${(c.cpu / p.cpu).toFixed(1)}×` : 'n/a';
    cpuRows.push(`| ${n.toLocaleString('en')} | ${cpu(c)} | ${cpu(p)} | ${cr} | ${q ? cpu(q) : '—'} | ${d ? cpu(d) : '—'} |`);
    rows.push(
      `| ${n.toLocaleString('en')} | ${size < 1048576 ? `${(size / 1024).toFixed(0)} KiB` : `${(size / 1048576).toFixed(1)} MiB`} | ${fmtTime(c.t)} · ${fmtRss(c.m)} | ${fmtTime(p.t)} · ${fmtRss(p.m)} | ${tr.toFixed(1)}× · ${mr.toFixed(1)}× | ${q ? `${fmtTime(q.t)} · ${fmtRss(q.m)}` : 'not on PATH'} | ${d ? `${fmtTime(d.t)} · ${fmtRss(d.m)}` : '—'} |`,
    );
    process.stdout.write(`${rows.at(-1)}\n`);
    const b = sum('baseline');
    if (b) {
      const ratio = (v: typeof c) => `${(v.t.median / p.t.median).toFixed(1)}× · ${(v.m.median / p.m.median).toFixed(1)}×`;
      baselineRows.push(`| ${n.toLocaleString('en')} | ${fmtTime(c.t)} · ${fmtRss(c.m)} · CPU ${cpu(c)} | ${fmtTime(b.t)} · ${fmtRss(b.m)} · CPU ${cpu(b)} | ${ratio(c)} | ${ratio(b)} |`);
      process.stdout.write(`${baselineRows.at(-1)}\n`);
    }
    if (n <= 100) {
      for (const [name, v] of [['package', c], ['sources', d]] as const) {
        if (v) notes.push(`${n} components, ${name}: median ${(v.t.median / 1000).toFixed(2)} s — target ≤ ${TARGET_SMALL_S} s ${v.t.median / 1000 <= TARGET_SMALL_S ? 'met' : 'MISSED'}`);
      }
    }
    if (n >= 10_000) {
      notes.push(`${n.toLocaleString('en')} components: ${tr.toFixed(1)}× JSON.parse time (target ≤ ${TARGET_TIME_RATIO}×: ${tr <= TARGET_TIME_RATIO ? 'met' : 'MISSED'}), ${mr.toFixed(1)}× its memory (target ≤ ${TARGET_MEM_RATIO}×: ${mr <= TARGET_MEM_RATIO ? 'met' : 'MISSED'})`);
    }
    if (n >= 1000 && q) notes.push(`${n.toLocaleString('en')} components: cra-gate ${c.t.median < q.t.median ? 'faster' : 'SLOWER'} than sbomqs (${(q.t.median / c.t.median).toFixed(1)}× its speed)`);
  }
  const load1 = loadavg()[0]!;
  rmSync(cache, { recursive: true, force: true });
  const coldText = cold
    ? Object.entries(cold).map(([k, s]) => `${k === 'dev' ? 'sources' : 'package'} ${(s.wallMs / 1000).toFixed(2)} s / ${s.peakRssMiB.toFixed(0)} MiB`).join(', ')
    : 'not measured';
  const cpu = cpus()[0]?.model ?? 'unknown';
  let qsVersion = '';
  if (sbomqs) {
    try {
      qsVersion = execFileSync(sbomqs, ['version'], { encoding: 'utf8', timeout: 30_000 }).match(/v?\d+\.\d+\.\d+/)?.[0] ?? '';
    } catch {
      // version unknown
    }
  }
  const section = [
    '<!-- sbom-bench:start -->',
    '## SBOM analysis (`node bench/sbom.ts`)',
    '',
    `Machine: ${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Linux ${release()}, Node ${process.version}; load average ${load0.toFixed(2)} at the start, ${load1.toFixed(2)} at the end; ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Measured from outside, whole process, as a CI step sees it: generated CycloneDX 1.6 SBOMs carrying every BSI TR-03183-2 v2.1.0 field',
    `(bench/lib/sbom-gen.ts), ${runs} interleaved rounds per size (cra-gate, then the JSON.parse floor, then sbomqs, then the sources), median`,
    `(min–max) of wall time (spawn to exit) · peak RSS (${RSS_METHOD}).`,
    '- **cra-gate**: `cra-gate sbom check --profile bsi-2.1 FILE` from the compiled package (bin/cra-gate.mjs → dist/, precompiled',
    '  schema validators), staged as `npm install` lays it out. Node\'s compile cache warm; the first, cold run: ' + coldText + '.',
    '- **JSON.parse**: `node -e` reading the same file and `JSON.parse`-ing it: the same node binary, a fresh process each run — the floor.',
    `- **sbomqs**: \`sbomqs compliance --bsi-v21 FILE\`${qsVersion ? ` (${qsVersion})` : ''} when \`sbomqs\` is on PATH (never built or vendored by this repository).`,
    '- **sources**: the development path (`node bin/cra-gate.mjs` in the checkout, type stripping), at the small sizes.',
    '',
    '| components | size | cra-gate | JSON.parse (same node) | cra-gate ÷ JSON.parse (time · memory) | sbomqs compliance --bsi-v21 | sources |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'CPU time (user + system, median) of the same runs: unlike wall time, not inflated by other load on the machine.',
    '',
    '| components | cra-gate | JSON.parse | cra-gate ÷ JSON.parse | sbomqs | sources |',
    '|---:|---:|---:|---:|---:|---:|',
    ...cpuRows,
    '',
    ...(baseline
      ? [
          `Before/after, interleaved in the same rounds (SBOM_BENCH_BASELINE=${baselineRef}: the compiled package of commit ${baseline.commit}, run right after`,
          'cra-gate in every round): median (min–max) wall time · peak RSS · median CPU time, and each one\'s ratios to the JSON.parse floor above.',
          '',
          `| components | cra-gate (this build) | cra-gate at ${baseline.commit} | this ÷ JSON.parse (time · memory) | ${baseline.commit} ÷ JSON.parse |`,
          '|---:|---:|---:|---:|---:|',
          ...baselineRows,
          '',
        ]
      : []),
    'Targets (issue #16):',
    ...notes.map((x) => `- ${x}`),
    '',
    'In the operator, documents above 512 KiB are analysed in a worker thread (see operator/evidence/sbom.ts), so the event loop and',
    'other releases are not held up; analyses are cached by SHA-256.',
    '<!-- sbom-bench:end -->',
  ].join('\n');
  const doc = join(root, 'docs', 'benchmarks.md');
  let text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
  const re = /<!-- sbom-bench:start -->[\s\S]*?<!-- sbom-bench:end -->/;
  text = re.test(text) ? text.replace(re, () => section) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(doc, text);
}

await main();
