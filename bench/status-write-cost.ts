/**
 * API-server CPU per status write, by the shape of the write (issue 16): on a real etcd + kube-apiserver
 * (test/harness), N ProductReleases get their status written with 4 writes in flight over the operator's pooled
 * transport (operator/kube/pool.ts), as
 *   floor — the no-op floor's merge patch (decision + observedGeneration, ~60 bytes),
 *   merge — the operator's status (baseline policy, 5 checks, 3 conditions) as one merge patch with the
 *           resourceVersion precondition (operator/kube/status.ts),
 *   apply — the same status as a server-side apply (what the operator does),
 *   slim  — a server-side apply of that status without `checks` (what the 5 checks' entries cost).
 * Rounds interleave the shapes (order rotated per round); each shape writes fresh releases. kube-apiserver and etcd CPU come from
 * /proc/<pid>/stat around each batch, so other load on the machine is not counted — only its contention.
 *
 *   node bench/status-write-cost.ts [--n 200] [--rounds 4]
 *
 * Writes its section of docs/benchmarks.md (after the load section).
 */
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CustomObjectsApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { startCluster, compliantRelease, baselinePolicy } from '../test/harness/fixture.ts';
import { apiClient } from '../operator/kube/pool.ts';
import { requestOptions } from '../operator/kube/request.ts';
import { evaluate } from '../operator/engine/evaluate.ts';
import { buildStatus } from '../operator/engine/status.ts';
import type { ProductRelease, ReleasePolicy } from '../operator/api/types.ts';

const { values } = parseArgs({ options: { n: { type: 'string' }, rounds: { type: 'string' } } });
const N = Number(values.n ?? 200);
const ROUNDS = Number(values.rounds ?? 4);
const G = 'cra-gate.dev';
const V = 'v1alpha1';
const P = 'productreleases';
const TICK_MS = 10; // USER_HZ = 100 on Linux

function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

type Shape = 'floor' | 'merge' | 'apply' | 'slim';

const cluster = await startCluster();
try {
  const kc: KubeConfig = cluster.cp.kubeConfig();
  const api = apiClient(kc, CustomObjectsApi);
  const policy = baselinePolicy() as ReleasePolicy;
  const ns = await cluster.namespace('cost');
  const sample = compliantRelease(ns, 'sample');
  const status = buildStatus(sample, evaluate({ release: sample, policy, policyName: 'cra-baseline', now: new Date() }), new Date());
  console.error(`[cost] operator status: ${JSON.stringify(status).length} bytes, ${status.checks?.length ?? 0} checks`);
  const results: Record<Shape, { api: number[]; etcd: number[]; wallMs: number[] }> = {
    floor: { api: [], etcd: [], wallMs: [] },
    merge: { api: [], etcd: [], wallMs: [] },
    apply: { api: [], etcd: [], wallMs: [] },
    slim: { api: [], etcd: [], wallMs: [] },
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order: Shape[] = ['floor', 'merge', 'apply', 'slim'];
    // Rotate the order per round, so no shape always runs first (warm-up) or last.
    for (const shape of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
      const releases: ProductRelease[] = [];
      for (let i = 0; i < N; i++) {
        const r = compliantRelease(ns, `${shape}-${round}-${i}`);
        releases.push((await api.createNamespacedCustomObject({ group: G, version: V, namespace: ns, plural: P, body: r })) as ProductRelease);
      }
      const pids = cluster.cp.pids();
      const a0 = cpuMs(pids.apiserver);
      const e0 = cpuMs(pids.etcd);
      const t0 = performance.now();
      await pool(releases, 4, async (r) => {
        const name = r.metadata.name!;
        const { checks: _c, ...withoutChecks } = status;
        const st = { ...(shape === 'slim' ? withoutChecks : status), observedGeneration: r.metadata.generation };
        if (shape === 'floor') {
          await api.patchNamespacedCustomObjectStatus({ group: G, version: V, namespace: ns, plural: P, name, body: { status: { decision: 'Approved', observedGeneration: r.metadata.generation } }, fieldManager: 'noop' }, requestOptions({ contentType: PatchStrategy.MergePatch }));
        } else if (shape === 'merge') {
          await api.patchNamespacedCustomObjectStatus({ group: G, version: V, namespace: ns, plural: P, name, body: { metadata: { resourceVersion: r.metadata.resourceVersion }, status: st }, fieldManager: 'cra-gate' }, requestOptions({ contentType: PatchStrategy.MergePatch }));
        } else {
          await api.patchNamespacedCustomObjectStatus({ group: G, version: V, namespace: ns, plural: P, name, body: { apiVersion: `${G}/${V}`, kind: 'ProductRelease', metadata: { name, namespace: ns, resourceVersion: r.metadata.resourceVersion }, status: st }, fieldManager: 'cra-gate', force: true }, requestOptions({ contentType: PatchStrategy.ServerSideApply }));
        }
      });
      const wall = performance.now() - t0;
      results[shape].api.push((cpuMs(pids.apiserver) - a0) / N);
      results[shape].etcd.push((cpuMs(pids.etcd) - e0) / N);
      results[shape].wallMs.push(wall / N);
    }
  }
  const order: Shape[] = ['floor', 'merge', 'apply', 'slim'];
  const f = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' / ');
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const what: Record<Shape, string> = {
    floor: "the no-op floor's merge patch (decision + observedGeneration)",
    merge: "the operator's status as one merge patch (resourceVersion precondition)",
    apply: "the operator's status as server-side apply (what it does)",
    slim: 'server-side apply of that status without `checks`',
  };
  const rows = order.map((s) => `| ${what[s]} | ${f(results[s].api)} (median ${median(results[s].api).toFixed(2)}) | ${f(results[s].etcd)} | ${f(results[s].wallMs)} |`);
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`;
  const section = `<!-- bench:status-write-cost -->
## What a status write costs the API server

\`node bench/status-write-cost.ts\` — on a real etcd + kube-apiserver, ${N} fresh ProductReleases per shape and round get their
status written with 4 writes in flight over the operator's pooled transport; ${ROUNDS} rounds, shapes interleaved with the order
rotated per round. CPU of the kube-apiserver and etcd processes from /proc around each batch, per write. The operator's status:
${JSON.stringify(status).length} bytes (${status.checks?.length ?? 0} checks, baseline policy).

| write | kube-apiserver CPU per write (ms, per round) | etcd CPU per write (ms) | wall per write, 4 in flight (ms) |
|---|---|---|---|
${rows.join('\n')}

Machine: ${machine}; everything on this machine. Measured ${new Date().toISOString().slice(0, 10)}.
<!-- /bench:status-write-cost -->`;
  console.log(section);
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = /<!-- bench:status-write-cost -->[\s\S]*?<!-- \/bench:status-write-cost -->/;
  const afterLoad = '<!-- /bench:load -->';
  writeFileSync(
    file,
    re.test(current)
      ? current.replace(re, section)
      : current.includes(afterLoad)
        ? current.replace(afterLoad, `${afterLoad}\n\n${section}`)
        : `${current.trimEnd()}\n\n${section}\n`,
  );
} finally {
  await cluster.stop();
}
