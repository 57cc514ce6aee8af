/**
 * The pooled transport (operator/kube/pool.ts) across an API server restart, on a real etcd + kube-apiserver.
 *
 * The regression this guards: sharing one undici dispatcher between API requests and the watch (HTTP/2, one
 * session for everything) made the watch hang after an API server restart — GOAWAY, then the socket closed,
 * and the streaming watch response was neither ended nor failed — so the informer never resumed its watch and
 * never saw the 410 Gone that tells it to re-list; only its inactivity watchdog rescued it, 75 s later
 * (test/integration/faults.test.ts). Here the watcher (test/fixtures/pool-watcher.ts, an Informer with the
 * operator's transport) has its watchdog set far past every bound of this test, so only a watch that really
 * ends can pass: frozen (SIGSTOP) while ConfigMaps change, etcd is compacted and the API server restarts, it
 * must, once resumed, get 410 Gone, re-list, see every change, and its pooled GETs must work again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot, startCluster, type Cluster } from '../harness/fixture.ts';
import { waitFor } from '../harness/wait.ts';

interface Line {
  synced?: number;
  restart?: string;
  event?: string;
  name?: string;
  get?: string;
  ok?: boolean;
  error?: string;
}

describe('pooled API transport across an API server restart', () => {
  let cluster: Cluster;
  let child: ChildProcessWithoutNullStreams | undefined;
  const lines: Line[] = [];

  before(async () => {
    cluster = await startCluster();
  });

  after(async () => {
    child?.kill('SIGCONT');
    child?.kill('SIGKILL');
    await cluster?.stop();
  });

  const configMap = (ns: string, name: string, value: string): string =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { v: value } });

  it('a watcher frozen through compaction + restart gets 410 Gone, re-lists, and its pooled requests work again', async () => {
    const ns = await cluster.namespace('pool');
    for (const n of ['a', 'b', 'c']) await cluster.apply(configMap(ns, n, '1'));
    child = spawn(process.execPath, [path.join(repoRoot, 'test', 'fixtures', 'pool-watcher.ts'), ns], {
      env: { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    createInterface(child.stdout).on('line', (l) => {
      try {
        lines.push(JSON.parse(l) as Line);
      } catch {
        lines.push({ error: l });
      }
    });
    const seen = (p: (l: Line) => boolean): boolean => {
      if (child?.exitCode !== null) throw new Error(`watcher exited ${child?.exitCode}: ${stderr}`);
      return lines.some(p);
    };
    const saw = (p: (l: Line) => boolean) => (): Promise<boolean> => Promise.resolve().then(() => seen(p));
    const count = (n: number, p: (l: Line) => boolean) => (): Promise<boolean> => Promise.resolve(lines.filter(p).length === n);
    await waitFor('the watcher to sync', saw((l) => l.synced === 3), { timeoutMs: 30_000 });
    // Pooled requests before the restart leave keep-alive sockets in the pool.
    child.stdin.write('a\nb\n');
    await waitFor('two pooled GETs', count(2, (l) => Boolean(l.get && l.ok)), { timeoutMs: 30_000 });

    child.kill('SIGSTOP');
    try {
      await cluster.apply(configMap(ns, 'a', '2'));
      await cluster.apply(configMap(ns, 'd', '1'));
      await cluster.kubectl(['delete', 'configmap', '-n', ns, 'b', '--wait=false']);
      await cluster.cp.compactEtcd();
      await cluster.cp.restartApiServer();
    } finally {
      child.kill('SIGCONT');
    }
    await waitFor('the watcher to get 410 Gone (its watch ended with the old API server)', saw((l) => l.restart === 'gone'), { timeoutMs: 60_000, intervalMs: 250 });
    await waitFor('the re-list to deliver the changes made meanwhile', () =>
      Promise.resolve(seen((l) => l.event === 'add' && l.name === 'd') && seen((l) => l.event === 'delete' && l.name === 'b')), { timeoutMs: 60_000, intervalMs: 250 });
    assert.ok(!lines.some((l) => l.restart === 'stall'), 'no watchdog rescue');

    // The pool's sockets died with the old API server; requests work again (a GET may be retried once).
    const gets = lines.filter((l) => l.get).length;
    child.stdin.write('a\nd\n');
    await waitFor('two pooled GETs after the restart', count(gets + 2, (l) => l.get !== undefined), { timeoutMs: 30_000 });
    const after = lines.filter((l) => l.get).slice(gets);
    assert.deepEqual(after.map((l) => [l.get, l.ok, l.error]), [['a', true, undefined], ['d', true, undefined]]);
    // And the watch is live again: a change made now is seen.
    await cluster.apply(configMap(ns, 'e', '1'));
    await waitFor('the resumed watch to deliver a new ConfigMap', saw((l) => l.event === 'add' && l.name === 'e'), { timeoutMs: 30_000 });
  });
});
