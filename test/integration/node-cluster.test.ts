/**
 * The Pod-running node of test/harness/node-cluster.ts on its own: a Pod runs and its Service name resolves
 * through the cluster DNS; stop() leaves nothing on the host; and when the process that owns a cluster is killed
 * (SIGKILL: no teardown runs, only the control plane's watchdog kills the processes it knows), the next start
 * removes what was left (Pod processes, shims, mounts, iptables chains, bridge, address, cgroups).
 * Needs root and the node's packages and tools: when the host cannot run it, it FAILS with the reasons.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hostProblems, leftovers, NODE, resolveOnNode, startNodeCluster } from '../harness/node-cluster.ts';
import { waitFor } from '../harness/wait.ts';

const harness = fileURLToPath(new URL('../harness/node-cluster.ts', import.meta.url));
const say = (l: string): void => {
  process.stderr.write(`[node-cluster] ${l}\n`);
};

describe('a node that runs Pods (test/harness/node-cluster.ts)', () => {
  it('the host can run it', () => {
    assert.deepEqual(hostProblems(), []);
  });

  it('a killed owner leaves state behind; the next start removes it; stop() leaves nothing', async () => {
    // 1. A cluster in a child process, with a running Pod; then SIGKILL the child.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startNodeCluster } = await import(${JSON.stringify(harness)});
         const c = await startNodeCluster({ log: () => {} });
         const r = await c.kubectl(['run', 'held', '--image=${NODE.pauseImage}', '--image-pull-policy=Never', '--restart=Never']);
         if (r.code !== 0) throw new Error(r.stderr);
         const w = await c.kubectl(['wait', '--for=condition=Ready', 'pod/held', '--timeout=90s']);
         if (w.code !== 0) throw new Error(w.stderr);
         process.stdout.write('HELD ' + c.dir + '\\n');
         setInterval(() => {}, 1 << 30);`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise((r) => child.once('exit', r));
    const dir = await waitFor(
      'the child to hold a cluster with a running Pod',
      () => {
        if (child.exitCode !== null) throw new Error(`the child exited ${child.exitCode}: ${err.slice(-2000)}`);
        return Promise.resolve(/^HELD (\S+)$/m.exec(out)?.[1]);
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    child.kill('SIGKILL');
    await exited;
    const left = await waitFor('state left by the killed owner', () => Promise.resolve(leftovers(dir).length ? leftovers(dir) : undefined), {
      timeoutMs: 10_000,
    });
    say(`left by the killed owner: ${left.length} items (${left.slice(0, 4).join(', ')}, ...)`);
    assert.ok(left.some((l) => l.startsWith('iptables chain')), 'kube-proxy chains were left');
    assert.ok(left.some((l) => l.startsWith('mount ')), 'mounts were left');

    // 2. The next start cleans up; its own cluster works (a Pod runs, a Service name resolves).
    const c = await startNodeCluster({ log: say });
    try {
      // (Chains, address, bridge and cgroups are host-wide names, now the new cluster's: checked after its stop.)
      assert.deepEqual(leftovers(dir).filter((l) => l.includes(dir)), [], 'no process, mount or dir of the killed cluster remains');
      await c.kubectl(['run', 'web', `--image=${NODE.pauseImage}`, '--image-pull-policy=Never', '--restart=Never', '--port=8080', '--expose']);
      const r = await c.kubectl(['wait', '--for=condition=Ready', 'pod/web', '--timeout=90s']);
      assert.equal(r.code, 0, r.stderr);
      const ip = (await c.kubectl(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
      assert.equal(await waitFor('web.default.svc to resolve', async () => (await resolveOnNode('web.default.svc.cluster.local')) === ip || undefined, { timeoutMs: 30_000 }), true);
    } finally {
      const own = c.dir;
      await c.stop();
      // 3. stop() leaves nothing.
      assert.deepEqual(leftovers(own), []);
    }
  });
});
