/**
 * Memory benchmark (issue 16, `npm run bench memory`): the operator under a REAL memory limit equal to the Helm
 * chart's default (`resources.limits.memory` of charts/cra-gate/values.yaml), enforced by the kernel: a child
 * memory cgroup (v1 `memory.limit_in_bytes`, or v2 `memory.max`) that the operator process is started in, so Node
 * and the operator see the limit exactly as in a pod (the image's node flags and ENV, parsed from the Dockerfile; the
 * budget of operator/memory-budget.ts). On a real etcd + kube-apiserver (test/harness), per size:
 *   1. N ProductReleases created in bursts (16 in flight) under a policy whose OSV feed is a ZIP bundle of
 *      100,000 SYNTHETIC records in the real OSV shape (served over HTTPS on loopback), until every one is decided;
 *   2. the largest SBOM the budget admits, analysed twice at once (two releases, two distinct documents), and one
 *      SBOM just above it (must end in Error MemoryBudgetExceeded, not in an OOM);
 *   3. a settle period, then steady RSS and V8 heap used after a full GC (inspector: HeapProfiler.collectGarbage).
 * Pass criteria: no OOM kill (cgroup memory.oom_control / memory.events), no restart (the same process alive
 * throughout), every release decided. Writes its `## Memory` section of docs/benchmarks.md.
 *
 *   node bench/memory.ts [--sizes 5000,20000] [--limit 512Mi] [--osv-records 100000] [--settle-seconds 30]
 *                        [--sbom-mib N (default: the largest the budget admits)] [--no-write]
 *                        [--phase all|steady] [--heap-snapshot FILE] [--smaps FILE] [--dockerfile FILE]
 *
 * `--phase steady` stops after the steady-state measurement (no SBOM phase; the docs section is not written).
 * `--heap-snapshot FILE` writes a V8 heap snapshot after the settle GC (FILE-<size>.heapsnapshot; analyse it with
 * `node bench/lib/heap-summary.ts FILE`); `--smaps FILE` writes /proc/<pid>/smaps at that moment (FILE-<size>.smaps).
 * The node flags and environment are the image's (parsed from the Dockerfile: bench/lib/image-runtime.ts);
 * `--dockerfile FILE` reads them from a candidate Dockerfile instead (to compare settings before changing the image).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import yaml from 'js-yaml';
import { startCluster, compliantRelease, baselinePolicy } from '../test/harness/fixture.ts';
import { startEvidenceServer } from '../test/harness/invariants.ts';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { createBurst, rssBytes, rssSampler } from './lib/measure.ts';
import { writeZip } from '../operator/vuln/zip.ts';
import { parseMemoryQuantity } from '../operator/memory-budget.ts';
import { ANALYSIS_BYTES_PER_BYTE } from '../operator/sbom/parse.ts';
import { mulberry32 } from '../test/harness/prng.ts';
import { readImageRuntime } from './lib/image-runtime.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const MiB = 2 ** 20;
const log = (s: string): void => console.log(`[bench:memory] ${s}`);

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: process.env.BENCH_MEMORY_SIZES ?? '5000,20000' },
    limit: { type: 'string' },
    'osv-records': { type: 'string', default: '100000' },
    'settle-seconds': { type: 'string', default: '30' },
    'sbom-mib': { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    phase: { type: 'string', default: 'all' },
    'heap-snapshot': { type: 'string' },
    smaps: { type: 'string' },
    dockerfile: { type: 'string' },
  },
});
if (flags.phase !== 'all' && flags.phase !== 'steady') throw new Error(`--phase: all or steady (got ${flags.phase})`);
const STEADY_ONLY = flags.phase === 'steady';
const IMAGE = readImageRuntime(flags.dockerfile ?? path.join(root, 'Dockerfile'));
const SIZES = flags.sizes.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const OSV_RECORDS = Number(flags['osv-records']);
const SETTLE_S = Number(flags['settle-seconds']);
const chartValues = yaml.load(readFileSync(path.join(root, 'charts', 'cra-gate', 'values.yaml'), 'utf8')) as { resources?: { limits?: { memory?: string } } };
const LIMIT_TEXT = flags.limit ?? chartValues.resources?.limits?.memory ?? '';
const LIMIT = parseMemoryQuantity(LIMIT_TEXT);
if (!LIMIT) throw new Error(`no memory limit: --limit or the chart's resources.limits.memory (got ${JSON.stringify(LIMIT_TEXT)})`);

// ---- a real memory limit: a child cgroup --------------------------------------------------------------------

interface Cgroup {
  dir: string;
  version: 1 | 2;
  /** Wraps a command so that it runs inside the cgroup from its first instruction. */
  wrap(cmd: string[]): string[];
  oomKills(): number;
  failcnt(): number;
  peakBytes(): number | undefined;
  remove(): void;
}

function makeCgroup(name: string, limitBytes: number): Cgroup {
  const wrap = (dir: string) => (cmd: string[]) => ['sh', '-c', `echo $$ > ${dir}/cgroup.procs && exec "$@"`, 'sh', ...cmd];
  const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  const v1 = '/sys/fs/cgroup/memory';
  if (existsSync(`${v1}/memory.limit_in_bytes`)) {
    const dir = `${v1}/${name}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/memory.limit_in_bytes`, String(limitBytes));
    // No swap: the limit is the memory limit (as in a Kubernetes pod without swap).
    if (existsSync(`${dir}/memory.memsw.limit_in_bytes`)) writeFileSync(`${dir}/memory.memsw.limit_in_bytes`, String(limitBytes));
    return {
      dir,
      version: 1,
      wrap: wrap(dir),
      oomKills: () => Number(/oom_kill (\d+)/.exec(read(`${dir}/memory.oom_control`))?.[1] ?? 0),
      failcnt: () => Number(read(`${dir}/memory.failcnt`).trim() || 0),
      peakBytes: () => Number(read(`${dir}/memory.max_usage_in_bytes`).trim() || 0),
      remove: () => rmdirSync(dir),
    };
  }
  const v2 = '/sys/fs/cgroup';
  if (read(`${v2}/cgroup.controllers`).includes('memory')) {
    const dir = `${v2}/${name}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/memory.max`, String(limitBytes));
    if (existsSync(`${dir}/memory.swap.max`)) writeFileSync(`${dir}/memory.swap.max`, '0');
    return {
      dir,
      version: 2,
      wrap: wrap(dir),
      oomKills: () => Number(/oom_kill (\d+)/.exec(read(`${dir}/memory.events`))?.[1] ?? 0),
      failcnt: () => Number(/max (\d+)/.exec(read(`${dir}/memory.events`))?.[1] ?? 0),
      peakBytes: () => (existsSync(`${dir}/memory.peak`) ? Number(read(`${dir}/memory.peak`).trim()) : undefined),
      remove: () => rmdirSync(dir),
    };
  }
  throw new Error('no writable memory cgroup (v1 /sys/fs/cgroup/memory or v2 with the memory controller): run as root on a host that has one');
}

// ---- inputs: a 100k-record OSV bundle, SBOMs of a given size --------------------------------------------------

const rnd = mulberry32(16);

/** SYNTHETIC OSV records in the real OSV shape (npm packages, ECOSYSTEM ranges), one file each, zipped. */
function osvBundle(records: number): Buffer {
  const entries: { name: string; bytes: Buffer }[] = [];
  for (let i = 0; i < records; i++) {
    const id = `GHSA-bench-${i.toString(36).padStart(4, '0')}`;
    const pkg = `bench-pkg-${rnd(25_000)}`;
    const major = rnd(5);
    const rec = {
      schema_version: '1.6.0',
      id,
      modified: '2026-11-01T00:00:00Z',
      published: '2026-10-01T00:00:00Z',
      aliases: [`CVE-2026-${10000 + i}`],
      summary: `Synthetic vulnerability ${i} in ${pkg}`,
      affected: [{ package: { ecosystem: 'npm', name: pkg, purl: `pkg:npm/${pkg}` }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: `${major}.0.0` }, { fixed: `${major}.${1 + rnd(9)}.${rnd(20)}` }] }] }],
    };
    entries.push({ name: `${id}.json`, bytes: Buffer.from(JSON.stringify(rec)) });
  }
  return writeZip(entries, (b) => deflateRawSync(b));
}

/** A CycloneDX 1.6 document of about `bytes` bytes (components with purls), distinct per `tag`. */
function sbomOfSize(bytes: number, tag: string): Buffer {
  const parts: string[] = [];
  const head = JSON.stringify({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    serialNumber: `urn:uuid:00000000-0000-4000-8000-${tag.padStart(12, '0').slice(-12)}`,
    metadata: { timestamp: '2026-12-01T00:00:00Z', component: { type: 'firmware', name: 'firmware', version: '1.0.0', 'bom-ref': 'root' } },
  }).slice(0, -1);
  let size = head.length + 20;
  for (let i = 0; size < bytes; i++) {
    const c = JSON.stringify({ type: 'library', 'bom-ref': `c${i}`, name: `lib-${tag}-${i}`, version: `1.${i % 50}.0`, purl: `pkg:npm/lib-${tag}-${i}@1.${i % 50}.0`, hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }] });
    parts.push(c);
    size += c.length + 1;
  }
  return Buffer.from(`${head},"components":[${parts.join(',')}]}`);
}

// ---- the operator process, inside the cgroup --------------------------------------------------------------------

interface Budget {
  workerHeapMb: number;
  workers: number;
  mainHeapMb: number;
  summary: string;
}

interface Op {
  proc: ChildProcess;
  budget: Promise<Budget>;
  inspector: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startOperatorIn(cg: Cgroup, kubeconfig: string, ns: string, env: Record<string, string>): Op {
  const cmd = cg.wrap([
    process.execPath,
    // Exactly what the image runs (Dockerfile ENTRYPOINT and ENV), plus an inspector on loopback for the heap after GC.
    ...IMAGE.nodeFlags,
    '--inspect=127.0.0.1:0',
    path.join(root, 'bin', 'cra-gate-operator.mjs'),
    '--metrics-bind', '127.0.0.1:0', '--namespace', 'cra-gate', '--identity', `bench-memory-${ns}`,
    '--leader-elect', 'false', '--watch-namespace', ns,
  ]);
  const proc = spawn(cmd[0]!, cmd.slice(1), { env: { ...process.env, ...IMAGE.env, KUBECONFIG: kubeconfig, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let out = '';
  let resolveBudget!: (b: Budget) => void;
  let resolveInspector!: (u: string) => void;
  const budget = new Promise<Budget>((r) => (resolveBudget = r));
  const inspector = new Promise<string>((r) => (resolveInspector = r));
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.includes('"memory budget"')) {
        try {
          resolveBudget((JSON.parse(line) as { memory: Budget }).memory);
        } catch {
          /* not JSON */
        }
      }
    }
  });
  proc.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(stderr);
    if (m) resolveInspector(m[1]!);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  return { proc, budget, inspector, exit, stderr: () => stderr };
}

interface AfterGc {
  heapUsed: number;
  rss: number;
  /** V8's resident bytes: all spaces, and the young generation (new + new large object space). */
  heapPhysical: number;
  youngPhysical: number;
  external: number;
}

/**
 * Heap used after a full GC, RSS and V8's physical sizes per space, through the inspector
 * (HeapProfiler.collectGarbage twice, then process.memoryUsage() and v8.getHeapSpaceStatistics()); optionally a
 * heap snapshot taken right after (HeapProfiler.takeHeapSnapshot, streamed to `snapshotFile`).
 */
async function heapAfterGc(wsUrl: string, snapshotFile?: string): Promise<AfterGc> {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error('inspector connection failed')), { once: true });
  });
  let id = 0;
  const pending = new Map<number, (r: unknown) => void>();
  const chunks: string[] = [];
  ws.addEventListener('message', (e: MessageEvent) => {
    const msg = JSON.parse(String(e.data)) as { id?: number; result?: unknown; method?: string; params?: { chunk?: string } };
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result);
    else if (msg.method === 'HeapProfiler.addHeapSnapshotChunk' && msg.params?.chunk) chunks.push(msg.params.chunk);
  });
  const call = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve) => {
      const i = ++id;
      pending.set(i, resolve);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  const expression = `JSON.stringify({ mu: process.memoryUsage(), spaces: process.getBuiltinModule('node:v8').getHeapSpaceStatistics() })`;
  const r = (await call('Runtime.evaluate', { expression, returnByValue: true })) as { result: { value?: string }; exceptionDetails?: unknown };
  if (snapshotFile) {
    await call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    writeFileSync(snapshotFile, chunks.join(''));
    log(`heap snapshot: ${snapshotFile}`);
  }
  ws.close();
  if (!r.result.value) throw new Error(`inspector: ${JSON.stringify(r.exceptionDetails ?? r)}`);
  const { mu, spaces } = JSON.parse(r.result.value) as { mu: { heapUsed: number; rss: number; external: number }; spaces: { space_name: string; physical_space_size: number }[] };
  const heapPhysical = spaces.reduce((a, s) => a + s.physical_space_size, 0);
  const youngPhysical = spaces.filter((s) => s.space_name === 'new_space' || s.space_name === 'new_large_object_space').reduce((a, s) => a + s.physical_space_size, 0);
  return { heapUsed: mu.heapUsed, rss: mu.rss, heapPhysical, youngPhysical, external: mu.external };
}

/** Anonymous and file-backed resident memory (MB) of a process, from /proc/<pid>/status. */
function rssParts(pid: number): { anon: number; file: number } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0) / 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
}

/** User + system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Counts the releases of `ns` decided for their current generation (paginated LIST). */
async function countDecided(kc: KubeConfig, ns: string): Promise<number> {
  const api = kc.makeApiClient(CustomObjectsApi);
  let n = 0;
  let cont: string | undefined;
  do {
    const page = (await api.listNamespacedCustomObject({ group: 'cra-gate.dev', version: 'v1alpha1', namespace: ns, plural: 'productreleases', limit: 500, ...(cont ? { _continue: cont } : {}) })) as {
      items: { metadata: { generation?: number }; status?: { decision?: string; observedGeneration?: number } }[];
      metadata?: { continue?: string };
    };
    for (const r of page.items) if (r.status?.decision && r.status.decision !== 'Pending' && r.status.observedGeneration === r.metadata.generation) n++;
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return n;
}

/** Waits until `n` releases of `ns` are decided, polling every 5 s (a LIST, independent of any watch). */
async function waitDecided(kc: KubeConfig, ns: string, n: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const got = await countDecided(kc, ns);
    if (got >= n) return got;
    if (performance.now() > deadline) throw new Error(`only ${got} of ${n} releases decided within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

// ---- the run ------------------------------------------------------------------------------------------------

interface Row {
  n: number;
  decided: number;
  peakRssMb: number;
  steadyRssMb: number;
  steadyAnonMb: number;
  steadyFileMb: number;
  heapAfterGcMb: number;
  peakReleasesMb: number;
  afterSbomRssMb: number;
  afterSbomHeapMb: number;
  cgroupPeakMb: number | undefined;
  oomKills: number;
  failcnt: number;
  restarted: boolean;
  sbomBytes: number;
  sbomResults: string[];
  overBudget: string;
  budget: Budget;
  wallS: number;
}

const evidenceDir = path.join(tmpdir(), `cra-gate-bench-memory-${process.pid}`);
log(`node flags ${IMAGE.nodeFlags.join(' ')}; env ${JSON.stringify(IMAGE.env)}`);
log(`limit ${LIMIT_TEXT} (${(LIMIT / MiB).toFixed(0)} MiB), sizes ${SIZES.join(', ')}, OSV records ${OSV_RECORDS}`);
const t0 = performance.now();
const osv = osvBundle(OSV_RECORDS);
log(`OSV bundle: ${OSV_RECORDS} records, ${(osv.length / MiB).toFixed(1)} MiB zipped (${((performance.now() - t0) / 1000).toFixed(1)} s to generate)`);
const server = await startEvidenceServer(evidenceDir);
server.route('/osv.zip', { body: osv, headers: { 'content-type': 'application/zip' } });
const cluster = await startCluster();
const rows: Row[] = [];
let failures = 0;
try {
  const policy = baselinePolicy('bench-memory') as { spec: { checks: { id: string; enforcement: string }[]; vulnerabilityFeeds?: unknown[] } };
  // The spec-only baseline, plus the SBOM check and the OSV-backed vulnerability check (which loads the feed).
  policy.spec.checks.push({ id: 'sbom.present', enforcement: 'Block' }, { id: 'vuln.no-known-exploitable', enforcement: 'Block' });
  policy.spec.vulnerabilityFeeds = [{ osv: { url: server.url('/osv.zip') } }];
  await cluster.apply(policy);
  const kc = cluster.cp.kubeConfig();
  for (const n of SIZES) {
    const ns = await cluster.namespace(`mem-${n}`);
    const cg = makeCgroup(`cra-gate-bench-${process.pid}-${n}`, LIMIT);
    const op = startOperatorIn(cg, cluster.cp.kubeconfigPath, ns, {
      CRA_GATE_DEFAULT_POLICY: 'bench-memory',
      CRA_GATE_HTTP_ALLOW_HOSTS: server.hostPort,
      CRA_GATE_HTTP_CA_FILE: server.caFile,
    });
    const pid = op.proc.pid!;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void op.exit.then((e) => (exited = e));
    const started = performance.now();
    // Whatever the operator is waited for, its exit (an OOM kill above all) ends the wait at once.
    const orExit = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, op.exit.then((e) => Promise.reject(new Error(`operator exited (${e.code ?? e.signal}; OOM kills ${cg.oomKills()}): ${op.stderr().slice(-1500)}`)))]);
    try {
      const budget = await orExit(op.budget);
      log(`${n}: budget ${budget.summary}; inspector ${await op.inspector}`);
      const sampler = rssSampler(pid);
      const docs = Array.from({ length: n }, (_, i) => compliantRelease(ns, `rel-${i}`, { spec: { policyRef: 'bench-memory' } }));
      await createBurst(kc, ns, docs);
      await orExit(waitDecided(kc, ns, n, Math.max(900_000, n * 200)));
      log(`${n}: every release decided in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      const decidedCpuS = cpuSeconds(pid);
      // Steady state with N releases cached (the feed loaded and indexed): after a settle period, before any SBOM.
      await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
      const gc = await orExit(heapAfterGc(await op.inspector));
      const steady = rssBytes(pid);
      const parts = rssParts(pid);
      const peakReleases = sampler.stop();
      if (flags.smaps) writeFileSync(`${flags.smaps}-${n}.smaps`, readFileSync(`/proc/${pid}/smaps`, 'utf8'));
      log(`${n}: steady RSS ${(steady / MiB).toFixed(0)} MB (anonymous ${parts.anon.toFixed(0)}, file-backed ${parts.file.toFixed(0)}), heap after GC ${(gc.heapUsed / MiB).toFixed(0)} MB, peak so far ${(peakReleases / MiB).toFixed(0)} MB`);
      log(`${n}: breakdown (MB): file ${parts.file.toFixed(0)}, V8 heap resident ${(gc.heapPhysical / MiB).toFixed(0)} (young ${(gc.youngPhysical / MiB).toFixed(0)}), ` +
        `other anonymous (malloc, stacks, external ${(gc.external / MiB).toFixed(0)}) ${(parts.anon - gc.heapPhysical / MiB).toFixed(0)}; operator CPU ${decidedCpuS.toFixed(1)} s until all decided`);
      // After the measurement (and its log): a snapshot costs memory of its own (use a larger --limit with it).
      if (flags['heap-snapshot']) await orExit(heapAfterGc(await op.inspector, `${flags['heap-snapshot']}-${n}.heapsnapshot`));
      if (STEADY_ONLY) continue;
      const sbomSampler = rssSampler(pid);

      // The largest SBOM the budget admits, twice at once; one just above it.
      const sbomBytes = flags['sbom-mib'] ? Math.floor(Number(flags['sbom-mib']) * MiB) : Math.floor((budget.workerHeapMb * MiB) / ANALYSIS_BYTES_PER_BYTE * 0.95);
      const overBytes = Math.ceil((budget.workerHeapMb * MiB) / ANALYSIS_BYTES_PER_BYTE * 1.25);
      server.route('/sbom-a.json', { body: sbomOfSize(sbomBytes, 'a') });
      server.route('/sbom-b.json', { body: sbomOfSize(sbomBytes, 'b') });
      server.route('/sbom-over.json', { body: sbomOfSize(overBytes, 'over') });
      const withSbom = (name: string, url: string) =>
        compliantRelease(ns, name, { spec: { policyRef: 'bench-memory', artifacts: [{ name: 'firmware', url: 'https://downloads.example/firmware.bin', digest: `sha256:${'a'.repeat(64)}` }], sboms: [{ artifact: 'firmware', url }] } });
      await createBurst(kc, ns, [withSbom('sbom-a', server.url('/sbom-a.json')), withSbom('sbom-b', server.url('/sbom-b.json')), withSbom('sbom-over', server.url('/sbom-over.json'))], 3);
      const decided = await orExit(waitDecided(kc, ns, n + 3, 600_000));
      // MemoryBudgetBusy (the main heap had no room for the result at that moment) is transient: the operator
      // retries the release; wait (bounded) for the retry's outcome.
      const sbomCheck = async (name: string): Promise<string> => {
        const deadline = performance.now() + 300_000;
        for (;;) {
          const r = await cluster.getRelease(ns, name);
          const c = (r.status?.checks ?? []).find((x: { id?: string }) => x.id === 'sbom.present') as { result?: string; reason?: string } | undefined;
          if (c?.reason !== 'MemoryBudgetBusy' || performance.now() > deadline) return `${name}: ${r.status?.decision}, sbom.present ${c?.result ?? '?'} (${c?.reason ?? '?'})`;
          await new Promise((res) => setTimeout(res, 2000));
        }
      };
      const sbomResults = [await sbomCheck('sbom-a'), await sbomCheck('sbom-b')];
      const overBudget = await sbomCheck('sbom-over');
      log(`${n}: ${sbomResults.join('; ')}; ${overBudget}`);

      const afterSbom = await orExit(heapAfterGc(await op.inspector));
      const peak = Math.max(peakReleases, sbomSampler.stop());
      const restarted = exited !== undefined;
      const row: Row = {
        n,
        decided,
        peakRssMb: peak / MiB,
        steadyRssMb: steady / MiB,
        steadyAnonMb: parts.anon,
        steadyFileMb: parts.file,
        heapAfterGcMb: gc.heapUsed / MiB,
        peakReleasesMb: peakReleases / MiB,
        afterSbomRssMb: afterSbom.rss / MiB,
        afterSbomHeapMb: afterSbom.heapUsed / MiB,
        cgroupPeakMb: cg.peakBytes() !== undefined ? cg.peakBytes()! / MiB : undefined,
        oomKills: cg.oomKills(),
        failcnt: cg.failcnt(),
        restarted,
        sbomBytes,
        sbomResults,
        overBudget,
        budget,
        wallS: (performance.now() - started) / 1000,
      };
      rows.push(row);
      log(`${n}: peak RSS ${row.peakRssMb.toFixed(0)} MB, steady ${row.steadyRssMb.toFixed(0)} MB, heap after GC ${row.heapAfterGcMb.toFixed(0)} MB, OOM kills ${row.oomKills}, limit hits ${row.failcnt}`);
      if (row.oomKills > 0 || restarted || row.decided < n + 3 || !/MemoryBudgetExceeded/.test(overBudget) || sbomResults.some((s) => /MemoryBudget|\?/.test(s))) failures++;
    } catch (err) {
      failures++;
      log(`${n}: FAILED: ${err instanceof Error ? err.message : String(err)}; exit ${JSON.stringify(exited ?? null)}; OOM kills ${cg.oomKills()}`);
    } finally {
      if (!exited) {
        op.proc.kill('SIGTERM');
        await op.exit;
      }
      cg.remove();
    }
  }
} finally {
  await cluster.stop();
  await server.close();
}

// ---- report ---------------------------------------------------------------------------------------------------
const f = (x: number | undefined, d = 0): string => (x === undefined ? 'n/a' : x.toFixed(d));
const limitMb = LIMIT / MiB;
const lines = rows.map(
  (r) =>
    `| ${r.n.toLocaleString('en')} | ${r.decided === r.n + 3 ? 'all' : `${r.decided}/${r.n + 3}`} | ${f(r.peakReleasesMb)} MB | ${f(r.steadyRssMb)} MB (${f(r.steadyAnonMb)} anonymous + ${f(r.steadyFileMb)} file) | ${f(r.heapAfterGcMb)} MB | ${f(r.sbomBytes / MiB, 1)} MiB ×2 | ${f(r.peakRssMb)} MB | ${f(r.afterSbomRssMb)} MB / ${f(r.afterSbomHeapMb)} MB | ${f(r.cgroupPeakMb)} MB | ${r.oomKills} | ${r.restarted ? 'yes' : 'no'} |`,
);
const steadyTarget = (n: number): number | undefined => (n <= 5000 ? 200 : n <= 20_000 ? 350 : undefined);
const targets = rows.map((r) => {
  const t = steadyTarget(r.n);
  return `| ${r.n.toLocaleString('en')} | ${t ? `≤ ${t} MB` : '—'} | ${f(r.steadyRssMb)} MB ${t ? (r.steadyRssMb <= t ? '✅' : '❌') : ''} | ${r.oomKills === 0 && !r.restarted ? '✅' : '❌'} |`;
});
const b = rows[0]?.budget;
const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; etcd, kube-apiserver, the operator and the load generator on this machine`;
const section = `<!-- bench:memory -->
## Memory under the chart's limit

\`npm run bench memory\` (sizes: \`node bench/memory.ts --sizes 5000,20000\`) — the operator started inside a memory
cgroup (v${makeCgroupVersion()}) limited to the chart's default \`resources.limits.memory\` = ${LIMIT_TEXT} (${f(limitMb)} MiB), with the
image's node flags \`${IMAGE.nodeFlags.join(' ')}\` and environment \`${Object.entries(IMAGE.env).map(([k, v]) => `${k}=${v}`).join(' ')}\` (read from the Dockerfile); budget: ${b ? b.summary : 'n/a'}. Per size, on a real etcd +
kube-apiserver: N releases (baseline policy, OSV feed: a ZIP bundle of ${OSV_RECORDS.toLocaleString('en')} SYNTHETIC
records over HTTPS) until all are decided, ${SETTLE_S} s settle, steady RSS and V8 heap used after a full GC (inspector);
then the largest SBOM the budget admits twice at once, and one SBOM 25 % over it. Peak RSS: sampled from /proc every
250 ms; cgroup peak: the cgroup's own high-water mark (includes page cache).

| releases | decided | peak RSS (releases + feed) | steady RSS | heap after GC | SBOM analysed | peak RSS (SBOMs) | RSS / heap after SBOMs | cgroup peak | OOM kills | restarted |
|---|---|---|---|---|---|---|---|---|---|---|
${lines.join('\n')}

${rows.map((r) => `${r.n.toLocaleString('en')}: ${r.sbomResults.join('; ')}; over the budget → ${r.overBudget}.`).join('\n')}

Targets (steady RSS with 5,000 releases ≤ 200 MB, with 20,000 ≤ 350 MB; no OOM kill, no restart):

| releases | target | steady RSS | no OOM kill, no restart |
|---|---|---|---|
${targets.join('\n')}

Machine: ${machine}. Measured ${new Date().toISOString().slice(0, 10)}.
<!-- /bench:memory -->`;

function makeCgroupVersion(): string {
  return existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes') ? '1' : '2';
}

if (!flags['no-write'] && !STEADY_ONLY && rows.length > 0) {
  const file = path.join(root, 'docs', 'benchmarks.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = /<!-- bench:memory -->[\s\S]*?<!-- \/bench:memory -->/;
  writeFileSync(file, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`);
}
console.log(section);
process.exit(failures ? 1 : 0);
