/**
 * Load benchmark (`npm run bench load`): ProductReleases created in bursts of 100, 1,000, 5,000 and 20,000 on a
 * real control plane (etcd + kube-apiserver from test/harness), decided by
 *   1. the no-op floor (bench/lib/noop-controller.ts: watch + one status patch per release, same client
 *      library, same concurrency), and
 *   2. the real operator (operator/main.ts, baseline policy, its default concurrency, LOG_LEVEL=info),
 * each in its own namespace and process, started fresh for each burst (`--watch-namespace`), same apiserver,
 * same run. Measured per burst: create→decision latency p50/p99 (send of the create request → the release
 * first observed, by a separate watch, with a decision for its generation), decisions per second (N / time
 * from the first create to the last decision), CPU seconds and peak RSS of the controller process (/proc).
 * After the largest burst: the operator's idle CPU with those releases cached (60 s, after a settle period).
 * Restart (issue 16): after the burst of `--restart-size` (default 5,000) settled, the operator is stopped and
 * started again on the same releases: time to ready, and reconciles / status writes within 60 s after ready
 * (target: none — every release's recorded inputs are unchanged).
 * Targets: decisions/s ≥ 90 % of the floor's and p99 ≤ 1.3× the floor's at every size.
 * Writes its `## Load` section of docs/benchmarks.md.
 *
 *   node bench/load.ts [--sizes 100,1000,5000,20000] [--concurrency N] [--restart-size 5000|0]
 * (or BENCH_SIZES=100,1000; BENCH_IDLE_SECONDS, default 60; BENCH_RESTART_SECONDS, default 60).
 */
import { apiClient } from '../operator/kube/pool.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startCluster, compliantRelease, baselinePolicy } from '../test/harness/fixture.ts';
import { startOperator } from '../test/harness/operator-process.ts';
import { loadConfig } from '../operator/config.ts';
import { DecisionWatcher, createBurst, cpuSeconds, percentile, rssBytes, rssSampler } from './lib/measure.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const { values: argv } = parseArgs({ options: { sizes: { type: 'string' }, concurrency: { type: 'string' }, 'restart-size': { type: 'string' } } });
const SIZES = (argv.sizes ?? process.env.BENCH_SIZES ?? '100,1000,5000,20000').split(',').map(Number).filter((n) => n > 0);
const IDLE_S = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const RESTART_S = Number(process.env.BENCH_RESTART_SECONDS ?? 60);
/** The operator's default (operator/config.ts); the floor runs with the same number of writes in flight. */
const CONCURRENCY = Number(argv.concurrency ?? loadConfig([], {}).concurrency);
const RESTART_SIZE = Number(argv['restart-size'] ?? 5000);
const MB = 2 ** 20;

interface Result {
  who: 'no-op floor' | 'operator';
  n: number;
  p50: number;
  p99: number;
  perSec: number;
  cpuS: number;
  peakRssMb: number;
  wallS: number;
}

const log = (s: string): void => console.log(`[bench:load] ${s}`);

const cluster = await startCluster();
const results: Result[] = [];
let idle: { cpuPct: number; rssMb: number; seconds: number } | undefined;
let restart: { n: number; readyMs: number; reconciles: number; writes: number; seconds: number } | undefined;
try {
  await cluster.apply(baselinePolicy());
  const kc = cluster.cp.kubeConfig();

  const runBurst = async (who: Result['who'], n: number): Promise<{ pid: number; ns: string; stop: () => Promise<void> }> => {
    const ns = await cluster.namespace(who === 'operator' ? `op-${n}` : `noop-${n}`);
    let pid: number;
    let stop: () => Promise<void>;
    if (who === 'operator') {
      const op = startOperator({
        kubeconfig: cluster.cp.kubeconfigPath,
        identity: `bench-${n}`,
        args: ['--leader-elect', 'false', '--watch-namespace', ns, '--concurrency', String(CONCURRENCY)],
        env: { LOG_LEVEL: 'info' },
      });
      await op.ready(); // caches synced; leading (no election)
      pid = op.proc.pid!;
      stop = async () => void (await op.stop());
    } else {
      const child = spawn(process.execPath, [path.join(here, 'lib', 'noop-controller.ts'), '--namespace', ns, '--concurrency', String(CONCURRENCY)], {
        env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no-op controller did not become ready in 30 s')), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) {
            clearTimeout(t);
            resolve();
          }
        });
        child.once('exit', (c) => reject(new Error(`no-op controller exited ${c}`)));
      });
      pid = child.pid!;
      stop = async () => {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      };
    }
    const watcher = new DecisionWatcher(kc, ns);
    await watcher.start();
    const docs = Array.from({ length: n }, (_, i) => compliantRelease(ns, `r-${i}`));
    const cpu0 = cpuSeconds(pid);
    const sampler = rssSampler(pid);
    const t0 = performance.now();
    const sent = await createBurst(kc, ns, docs);
    await watcher.waitFor(n, Math.max(120_000, n * 200));
    const sampled = sampler.stop();
    const cpuS = cpuSeconds(pid) - cpu0;
    const last = Math.max(...watcher.decidedAt.values());
    const lat = [...sent].map(([name, at]) => watcher.decidedAt.get(name)! - at);
    watcher.stop();
    const r: Result = {
      who,
      n,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      perSec: n / ((last - t0) / 1000),
      cpuS,
      peakRssMb: sampled / MB,
      wallS: (last - t0) / 1000,
    };
    results.push(r);
    log(`${who} ${n}: p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, ${r.perSec.toFixed(1)}/s, CPU ${r.cpuS.toFixed(1)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB`);
    return { pid, ns, stop };
  };

  /** Versions of every release in `ns` (a changed one was written). */
  const versions = async (ns: string): Promise<Map<string, string>> => {
    const api = apiClient(kc, CustomObjectsApi);
    const out = new Map<string, string>();
    let cont: string | undefined;
    do {
      const page = (await api.listNamespacedCustomObject({ group: 'cra-gate.dev', version: 'v1alpha1', namespace: ns, plural: 'productreleases', limit: 500, ...(cont ? { _continue: cont } : {}) })) as {
        items: { metadata: { name: string; resourceVersion: string } }[];
        metadata: { continue?: string };
      };
      for (const o of page.items) out.set(o.metadata.name, o.metadata.resourceVersion);
      cont = page.metadata.continue || undefined;
    } while (cont);
    return out;
  };

  /** Stops the settled operator of `ns`, starts a new one: time to ready, re-decisions and writes in the window. */
  const runRestart = async (ns: string, n: number, stopOld: () => Promise<void>): Promise<void> => {
    await stopOld();
    const before = await versions(ns);
    const t0 = performance.now();
    const op = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity: `bench-restart-${n}`,
      args: ['--leader-elect', 'false', '--watch-namespace', ns, '--concurrency', String(CONCURRENCY)],
      env: { LOG_LEVEL: 'info' },
    });
    await op.ready(120_000);
    const readyMs = performance.now() - t0;
    log(`restart with ${n} settled releases: ready in ${readyMs.toFixed(0)} ms; watching ${RESTART_S} s`);
    await new Promise((r) => setTimeout(r, RESTART_S * 1000));
    const reconciles = await op.metric('cra_gate_reconcile_total');
    const after = await versions(ns);
    let writes = 0;
    for (const [name, rv] of after) if (before.get(name) !== rv) writes++;
    restart = { n, readyMs, reconciles, writes, seconds: RESTART_S };
    log(`restart: ${reconciles} reconciles, ${writes} status writes within ${RESTART_S} s of ready`);
    await op.stop();
  };

  for (const n of SIZES) {
    const floor = await runBurst('no-op floor', n);
    await floor.stop();
    const op = await runBurst('operator', n);
    if (n === RESTART_SIZE) {
      log(`settling 15 s before the restart scenario`);
      await new Promise((r) => setTimeout(r, 15_000));
      const settled = op;
      await runRestart(op.ns, n, () => settled.stop());
      continue;
    }
    if (n === Math.max(...SIZES)) {
      log(`operator idle with ${n} releases cached: settling 15 s, then measuring ${IDLE_S} s`);
      await new Promise((r) => setTimeout(r, 15_000));
      const c0 = cpuSeconds(op.pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, IDLE_S * 1000));
      const secs = (performance.now() - t0) / 1000;
      idle = { cpuPct: ((cpuSeconds(op.pid) - c0) / secs) * 100, rssMb: rssBytes(op.pid) / MB, seconds: secs };
      log(`idle CPU ${idle.cpuPct.toFixed(2)} %, RSS ${idle.rssMb.toFixed(0)} MB`);
    }
    await op.stop();
  }
} finally {
  await cluster.stop();
}

// ---- report ---------------------------------------------------------------------------------------------
const f = (x: number, d = 0): string => x.toFixed(d);
const rows = results.map((r) => `| ${r.n.toLocaleString('en')} | ${r.who} | ${f(r.p50)} ms | ${f(r.p99)} ms | ${f(r.perSec, 1)} | ${f(r.cpuS, 1)} s | ${f(r.peakRssMb)} MB |`);
const targets: string[] = [];
for (const n of SIZES) {
  const fl = results.find((r) => r.n === n && r.who === 'no-op floor');
  const op = results.find((r) => r.n === n && r.who === 'operator');
  if (!fl || !op) continue;
  const ratio = op.perSec / fl.perSec;
  const p99x = op.p99 / fl.p99;
  targets.push(`| ${n.toLocaleString('en')} | ${f(ratio * 100)} % ${ratio >= 0.9 ? '✅' : '❌'} | ${f(p99x, 2)}× ${p99x <= 1.3 ? '✅' : '❌'} | ${f(op.peakRssMb)} MB |`);
}
const cpu = cpus()[0]?.model ?? 'unknown';
const machine = `${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; etcd, kube-apiserver, the controller under test and the load generator all on this machine`;
const section = `<!-- bench:load -->
## Load

\`npm run bench load\` — bursts of ProductReleases created with 16 requests in flight on a real etcd + kube-apiserver
(test/harness), decided first by the **no-op floor** (bench/lib/noop-controller.ts: watch + one status merge
patch per release, same client library and pooled transport as the operator, concurrency ${CONCURRENCY}) and then by the **operator** (baseline policy,
5 checks, concurrency ${CONCURRENCY} — its default —, LOG_LEVEL=info), each fresh per burst in its own namespace, same
apiserver, same run. Latency: send of the create request → first seen (separate watch) with a decision for its generation.
Decisions/s: N ÷ (first create → last decision). CPU and peak RSS: the controller process, from /proc (no memory limit
here: \`npm run bench memory\` measures under the chart's).

| releases | controller | p50 create→decision | p99 | decisions/s | CPU | peak RSS |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Idle: the operator with ${SIZES.length ? Math.max(...SIZES).toLocaleString('en') : '?'} releases cached used ${idle ? `${f(idle.cpuPct, 2)} % of one CPU over ${f(idle.seconds)} s (RSS ${f(idle.rssMb)} MB)` : 'n/a'}.

Targets (decisions/s ≥ 90 % of the floor; p99 ≤ 1.3× the floor's; idle CPU < 1 %):

| releases | decisions/s vs floor | p99 vs floor | operator peak RSS |
|---|---|---|---|
${targets.join('\n')}

Idle CPU: ${idle ? `${f(idle.cpuPct, 2)} % ${idle.cpuPct < 1 ? '✅' : '❌'}` : 'n/a'}.

Restart (target: ready, and nothing whose inputs are unchanged re-decided, within 60 s): ${restart
  ? `with ${restart.n.toLocaleString('en')} settled releases the restarted operator was ready in ${f(restart.readyMs)} ms and made ${restart.reconciles} reconciles and ${restart.writes} status writes within ${restart.seconds} s ${restart.reconciles === 0 && restart.writes === 0 && restart.readyMs < 60_000 ? '✅' : '❌'}`
  : 'not run'}.

Machine: ${machine}. Measured ${new Date().toISOString().slice(0, 10)}.
<!-- /bench:load -->`;

const file = path.join(root, 'docs', 'benchmarks.md');
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nEach section is written by its script under bench/ (`npm run bench`).\n';
const re = /<!-- bench:load -->[\s\S]*?<!-- \/bench:load -->/;
writeFileSync(file, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
process.exit(0);
