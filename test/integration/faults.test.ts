/**
 * Fault injection on a real control plane, with an independent status recorder watching every transition:
 * kube-apiserver restart, etcd restart, etcd compaction forcing 410 Gone, a stalled (SIGSTOPped) apiserver,
 * operator SIGKILL mid-reconcile, the leader SIGKILLed with two replicas. Each fault hits while a burst of
 * releases is being reconciled; afterwards every release must reach the decision its spec should get (none
 * stuck or lost), no status may ever have been Approved with a failing blocking check or for a spec that
 * should be blocked, Events stay bounded per release, and the operator's memory returns near its baseline.
 *
 * Every fault is injected once per test (no open-ended loops); every wait is bounded with a message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster, compliantRelease, baselinePolicy, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StatusRecorder, eventsPerRelease, startEvidenceServer, type Decision, type EvidenceServer } from '../harness/invariants.ts';
import { repoRoot } from '../harness/fixture.ts';
import { waitFor } from '../harness/wait.ts';
import type { ProductRelease } from '../../operator/api/types.ts';

/** The fixtures' rule: a release with `updates.automatic: false` fails update.channel (Block) ⇒ Blocked. */
function expectedDecision(r: ProductRelease): Decision | undefined {
  if (r.metadata.labels?.evidence) return undefined; // evidence-fault releases: checked by their own test
  return r.spec.updates?.automatic === false ? 'Blocked' : 'Approved';
}

/** n releases named `${prefix}-${i}`; every third one (i % 3 === 1) is non-compliant. */
function burst(ns: string, prefix: string, n: number, from = 0): ProductRelease[] {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return compliantRelease(ns, `${prefix}-${i}`, i % 3 === 1 ? { spec: { updates: { automatic: false } } } : {});
  });
}

/** The same releases with compliance flipped (a spec edit: generation + 1, expected decision changes). */
function flipped(rs: ProductRelease[]): ProductRelease[] {
  return rs.map((r) => {
    const automatic = r.spec.updates?.automatic !== false;
    return compliantRelease(r.metadata.namespace!, r.metadata.name!, { spec: { updates: { automatic: !automatic } } });
  });
}

const keyOf = (r: ProductRelease): string => `${r.metadata.namespace}/${r.metadata.name}`;
const MB = 1024 * 1024;

describe('fault injection', () => {
  let cluster: Cluster;
  let rec: StatusRecorder;
  let op: OperatorProcess;
  let baselineRss = 0;
  const started = Date.now();

  const applyAll = async (docs: ProductRelease[]): Promise<void> => {
    await cluster.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  };

  const newOperator = async (identity: string, extra: Partial<Parameters<typeof startOperator>[0]> = {}): Promise<OperatorProcess> => {
    const o = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity,
      args: ['--leader-elect', 'false'],
      env: { LOG_LEVEL: 'info' },
      ...extra,
    });
    await o.port();
    return o;
  };

  /** Invariants after a fault: safety over all transitions, liveness for `keys`, bounded Events. */
  /** What the operator was doing, for a failure message: queue metrics and its last warnings. */
  const diagnose = async (): Promise<string> => {
    const m = async (name: string, labels?: Record<string, string>) => op.metric(name, labels).catch(() => NaN);
    const lines = [
      `queue depth ${await m('workqueue_depth')}, reconciles ok ${await m('cra_gate_reconcile_total', { result: 'success' })}, errors ${await m('cra_gate_reconcile_total', { result: 'error' })}, watch restarts ${await m('cra_gate_watch_restarts_total')}`,
      ...op.logs.filter((l) => Number(l.level) >= 40 || l.resource !== undefined).slice(-25).map((l) => JSON.stringify(l).slice(0, 300)),
    ];
    return lines.join('\n');
  };

  const checkInvariants = async (ns: string, keys: string[], settleMs = 120_000): Promise<void> => {
    try {
      await rec.waitSettled(keys, settleMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- operator ---\n${await diagnose()}`, { cause: err });
    }
    assert.deepEqual(rec.violations(), [], 'no unsafe status was ever observed');
    // Events: one per verdict change (plus a little slack for a message change), never a storm.
    const events = await eventsPerRelease(cluster.cp.kubeConfig(), ns);
    for (const k of keys) {
      const name = k.split('/')[1]!;
      const changes = rec.decisionHistory(k).length;
      const e = events.get(name)?.objects ?? 0;
      assert.ok(e <= changes + 2, `${k}: ${e} Events for ${changes} observed verdicts (storm?)`);
    }
    const total = [...events.values()].reduce((a, b) => a + b.objects, 0);
    assert.ok(total <= keys.length * 3, `${total} Events for ${keys.length} releases`);
  };

  const rss = (o: OperatorProcess): Promise<number> => o.metric('process_resident_memory_bytes');

  /** RSS back near the baseline (GC may keep some): within max(+64 MB, ×1.5). Waits a little for GC. */
  const checkMemory = async (o: OperatorProcess, baseline: number, what: string): Promise<void> => {
    const bound = Math.max(baseline + 64 * MB, baseline * 1.5);
    const last = await waitFor(`${what}: operator RSS back under ${(bound / MB).toFixed(0)} MB (baseline ${(baseline / MB).toFixed(0)} MB)`, async () => {
      const v = await rss(o);
      if (v <= bound) return v;
      throw new Error(`RSS ${(v / MB).toFixed(0)} MB`);
    }, { timeoutMs: 20_000, intervalMs: 1000 });
    console.log(`# ${what}: RSS ${(last / MB).toFixed(1)} MB (baseline ${(baseline / MB).toFixed(1)} MB)`);
  };

  before(async () => {
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    rec = new StatusRecorder(cluster.cp.kubeConfig(), { expected: expectedDecision });
    await rec.start();
    op = await newOperator('op-faults');
    // Warm up so the baseline RSS includes loaded modules and a populated cache.
    const ns = await cluster.namespace('warm');
    const docs = burst(ns, 'warm', 20);
    await applyAll(docs);
    await rec.waitSettled(docs.map(keyOf), 60_000, 'warm-up releases');
    baselineRss = await rss(op);
    assert.ok(baselineRss > 0, 'the operator exposes process_resident_memory_bytes');
  });

  after(async () => {
    await rec?.stop();
    await op?.stop();
    await cluster?.stop();
    console.log(`# fault suite wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it('kube-apiserver restart in the middle of a burst', async () => {
    const ns = await cluster.namespace('f-apiserver');
    const first = burst(ns, 'r', 40);
    await applyAll(first);
    await cluster.cp.restartApiServer();
    const second = burst(ns, 'r', 20, 40);
    await applyAll([...second, ...flipped(first.slice(0, 10))]);
    await checkInvariants(ns, [...first, ...second].map(keyOf));
    await checkMemory(op, baselineRss, 'after apiserver restart');
  });

  it('etcd restart in the middle of a burst', async () => {
    const ns = await cluster.namespace('f-etcd');
    const first = burst(ns, 'r', 40);
    await applyAll(first);
    await cluster.cp.restartEtcd();
    const second = burst(ns, 'r', 20, 40);
    await applyAll([...second, ...flipped(first.slice(0, 10))]);
    await checkInvariants(ns, [...first, ...second].map(keyOf));
    await checkMemory(op, baselineRss, 'after etcd restart');
  });

  it('etcd compaction forcing 410 Gone: edits, creations and deletions made meanwhile are all seen', async () => {
    const ns = await cluster.namespace('f-gone');
    const first = burst(ns, 'r', 30);
    await applyAll(first);
    await rec.waitSettled(first.map(keyOf), 60_000);
    const goneBefore = await op.metric('cra_gate_watch_restarts_total', { reason: 'gone' });
    // Freeze the operator so its watch falls behind; change things; compact; restart the apiserver so its
    // watch cache starts after the operator's resourceVersion (a dependable 410, see controlplane.ts).
    op.kill('SIGSTOP');
    const deleted = first.slice(20, 25);
    const second = burst(ns, 'r', 10, 30);
    try {
      await applyAll([...second, ...flipped(first.slice(0, 10))]);
      await cluster.kubectl(['delete', 'prel', '-n', ns, ...deleted.map((r) => r.metadata.name!), '--wait=false']);
      await cluster.cp.compactEtcd();
      await cluster.cp.restartApiServer();
    } finally {
      op.kill('SIGCONT');
    }
    await waitFor('the operator to get 410 Gone and re-list', async () =>
      (await op.metric('cra_gate_watch_restarts_total', { reason: 'gone' })) > goneBefore, { timeoutMs: 120_000, intervalMs: 500 });
    const live = [...first.filter((r) => !deleted.includes(r)), ...second];
    await checkInvariants(ns, live.map(keyOf));
    // Deletions made while the watch was gone are not lost either: the operator's release gauge matches.
    await waitFor('the operator to count exactly the releases that exist', async () => {
      const counted = (await op.metric('cra_gate_releases'));
      return counted === rec.latest.size ? true : Promise.reject(new Error(`operator counts ${counted}, cluster has ${rec.latest.size}`));
    }, { timeoutMs: 30_000, intervalMs: 500 });
    await checkMemory(op, baselineRss, 'after compaction');
  });

  it('a stalled kube-apiserver (SIGSTOP for 8 s, then SIGCONT)', async () => {
    const ns = await cluster.namespace('f-stall');
    const first = burst(ns, 'r', 40);
    await applyAll(first);
    cluster.cp.pauseApiServer();
    try {
      await sleep(8_000);
    } finally {
      cluster.cp.resumeApiServer();
    }
    const second = burst(ns, 'r', 10, 40);
    await applyAll([...second, ...flipped(first.slice(0, 10))]);
    await checkInvariants(ns, [...first, ...second].map(keyOf));
    assert.equal(op.proc.exitCode, null, 'the operator survived the stall');
    // /healthz reports an event-loop stall once on the next probe (the operator itself was SIGSTOPped in
    // the compaction test); after that it must be healthy again.
    await waitFor('the operator to be live', async () => (await fetch(`http://127.0.0.1:${await op.port()}/healthz`)).status === 200, { timeoutMs: 10_000, intervalMs: 500 });
    await checkMemory(op, baselineRss, 'after apiserver stall');
  });

  it('operator SIGKILLed in the middle of reconciles, spec edits while it is down, then restarted', async () => {
    const ns = await cluster.namespace('f-kill');
    const first = burst(ns, 'r', 80);
    const keys = first.map(keyOf);
    await applyAll(first);
    // Kill once a few releases are decided but (very likely) not all.
    await waitFor('some releases to be decided', () =>
      Promise.resolve(keys.filter((k) => rec.latest.get(k)?.status?.decision).length >= 5), { timeoutMs: 60_000, intervalMs: 20 });
    op.kill('SIGKILL');
    await op.exited();
    const decidedAtKill = keys.filter((k) => rec.latest.get(k)?.status?.decision).length;
    console.log(`# SIGKILL with ${decidedAtKill}/${keys.length} decided`);
    await applyAll(flipped(first.slice(0, 10)));
    op = await newOperator('op-faults-2');
    await checkInvariants(ns, keys);
    baselineRss = await rss(op); // a new process: new baseline for what follows
  });

  it('the leader SIGKILLed with two replicas running', async () => {
    assert.equal(await op.stop(), 0);
    const leaseEnv = {
      LOG_LEVEL: 'info',
      CRA_GATE_LEASE_DURATION_MS: '4000',
      CRA_GATE_RENEW_DEADLINE_MS: '3000',
      CRA_GATE_RETRY_PERIOD_MS: '500',
    };
    const replicas = await Promise.all(['rep-a', 'rep-b'].map((id) => newOperator(id, { args: [], env: leaseEnv })));
    try {
      const holder = async (): Promise<string | undefined> => {
        const r = await cluster.cp.kubectl(['get', 'lease', '-n', 'cra-gate', 'cra-gate-operator', '-o', 'jsonpath={.spec.holderIdentity}']);
        return r.code === 0 && r.stdout ? r.stdout : undefined;
      };
      const leaderId = await waitFor('a leader among the replicas', async () => {
        const h = await holder();
        return h && replicas.some((o) => o.identity === h) ? h : undefined;
      }, { timeoutMs: 30_000 });
      const leader = replicas.find((o) => o.identity === leaderId)!;
      const follower = replicas.find((o) => o.identity !== leaderId)!;
      const ns = await cluster.namespace('f-leader');
      const first = burst(ns, 'r', 60);
      const keys = first.map(keyOf);
      await applyAll(first);
      await waitFor('the leader to decide some releases', () =>
        Promise.resolve(keys.filter((k) => rec.latest.get(k)?.status?.decision).length >= 5), { timeoutMs: 60_000, intervalMs: 20 });
      leader.kill('SIGKILL');
      await leader.exited();
      await applyAll(flipped(first.slice(0, 10)));
      await checkInvariants(ns, keys);
      assert.equal(await holder(), follower.identity);
      assert.equal(await follower.metric('cra_gate_leader'), 1);
    } finally {
      await Promise.all(replicas.map((o) => o.stop()));
    }
  });
  it('evidence servers down, answering 500 and slow: never approved meanwhile, approved once they recover, others not delayed', async () => {
    const dir = path.join(cluster.cp.dir, 'evidence');
    const bom = readFileSync(path.join(repoRoot, 'test/fixtures/sbom/handmade/compliant.cdx.json'));
    const servers: EvidenceServer[] = [await startEvidenceServer(dir), await startEvidenceServer(dir)];
    const [main, flaky] = servers as [EvidenceServer, EvidenceServer];
    try {
      main.route('/bom-500.json', { status: 500, body: '{"error":"internal"}' });
      main.route('/bom-slow.json', { body: bom, delayMs: 6_000 });
      flaky.route('/bom.json', { body: bom });
      await flaky.down();
      const pol = baselinePolicy('sbom-policy') as { spec: { checks: { id: string; enforcement: string }[] } };
      pol.spec.checks.push({ id: 'sbom.present', enforcement: 'Block' }, { id: 'sbom.format-valid', enforcement: 'Block' });
      await cluster.apply(pol);
      await op.stop();
      op = await newOperator('op-evidence', {
        env: { LOG_LEVEL: 'info', CRA_GATE_HTTP_ALLOW_HOSTS: `${main.hostPort},${flaky.hostPort}`, CRA_GATE_HTTP_CA_FILE: main.caFile },
      });
      const ns = await cluster.namespace('f-evidence');
      const withSbom = (name: string, url: string): ProductRelease =>
        compliantRelease(ns, name, {
          metadata: { labels: { product: 'acme-router', evidence: 'yes' } },
          spec: {
            policyRef: 'sbom-policy',
            artifacts: [{ name: 'acme-router', url: 'https://downloads.acme.example/fw.bin', digest: `sha512:${'a'.repeat(128)}` }],
            sboms: [{ artifact: 'acme-router', url }],
          },
        });
      // More slow releases than the operator has workers (4), to see whether slow evidence starves others.
      const failing = [
        ...[0, 1].map((i) => withSbom(`ev-500-${i}`, main.url('/bom-500.json'))),
        ...[0, 1].map((i) => withSbom(`ev-down-${i}`, flaky.url('/bom.json'))),
      ];
      const slow = [0, 1, 2, 3, 4, 5].map((i) => withSbom(`ev-slow-${i}`, main.url('/bom-slow.json')));
      const plain = burst(ns, 'plain', 6);
      await applyAll([...failing, ...slow]);
      const plainAt = Date.now();
      await applyAll(plain);
      await rec.waitSettled(plain.map(keyOf), 60_000, 'plain releases while evidence is slow or failing');
      const plainMs = Date.now() - plainAt;
      console.log(`# plain releases decided ${plainMs} ms after creation while 6 slow (6 s) and 4 failing evidence fetches were in progress`);

      // Failing evidence: Blocked with an actionable reason, never Approved.
      const failingKeys = failing.map(keyOf);
      await waitFor('releases with failing evidence to be Blocked with a reason', () => {
        const bad = failingKeys.filter((k) => {
          const s = rec.latest.get(k)?.status;
          const c = s?.checks?.find((x) => x.id === 'sbom.present');
          return !(s?.decision === 'Blocked' && c?.result === 'Error' && /FetchFailed|EvidenceUnavailable/.test(c.reason ?? ""));
        });
        if (bad.length) throw new Error(`not yet: ${bad.join(', ')}`);
        return Promise.resolve(true);
      }, { timeoutMs: 60_000, intervalMs: 250 });
      const sample = rec.latest.get(failingKeys[2]!)?.status?.checks?.find((x) => x.id === 'sbom.present');
      console.log(`# evidence server down: ${sample?.reason}: ${sample?.message}`);
      const recoveredAt = Date.now();
      main.route('/bom-500.json', { body: bom });
      await flaky.up();
      // Transient evidence errors are retried (30 s): all recover without any change to the releases.
      await waitFor('releases to be Approved once their evidence servers recover', () => {
        const bad = [...failingKeys, ...slow.map(keyOf)].filter((k) => rec.latest.get(k)?.status?.decision !== 'Approved');
        if (bad.length) throw new Error(`not yet: ${bad.join(', ')}`);
        return Promise.resolve(true);
      }, { timeoutMs: 90_000, intervalMs: 500 });
      console.log(`# recovered ${Date.now() - recoveredAt} ms after the servers came back`);
      const early = rec.transitions.filter((t) => failingKeys.includes(t.key) && t.decision === 'Approved' && t.at < recoveredAt);
      assert.deepEqual(early, [], 'never Approved while its evidence could not be read');
      assert.deepEqual(rec.violations(), []);
      const events = await eventsPerRelease(cluster.cp.kubeConfig(), ns);
      for (const k of failingKeys) {
        const e = events.get(k.split('/')[1]!)?.objects ?? 0;
        assert.ok(e <= rec.decisionHistory(k).length + 2, `${k}: ${e} Events (storm while retrying?)`);
      }
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
