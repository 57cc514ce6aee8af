/**
 * The real operator image: testcontainers builds it from the Dockerfile (on a locally made Node 24 base, no
 * registry is reachable) and runs it against a real kube-apiserver through a scenario, as a non-root user
 * with a read-only root filesystem, all capabilities dropped and host networking; SIGTERM stops it cleanly.
 *
 * The same image is the offline CLI (bin/entrypoint.mjs dispatches on the first argument):
 * `docker run --rm -v "$PWD:/data" <image> evaluate /data/release.yaml --output sarif`.
 *
 * Needs a Docker engine: test/harness/docker.ts uses a running one or starts Debian's dockerd (vfs storage).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { baselinePolicy, compliantRelease, startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { buildOperatorImage, ensureDocker, loadTestcontainers, repoRoot, run, type Docker, type TcGenericContainer, type TcStartedContainer } from '../harness/docker.ts';
import { waitFor } from '../harness/wait.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('the operator image', () => {
  let docker: Docker;
  let cluster: Cluster;
  let image: string;
  let container: TcStartedContainer | undefined;
  let containerId = '';
  let tmp: string;
  let port: number;
  const logs: string[] = [];

  before(async () => {
    docker = await ensureDocker();
    const tc = await loadTestcontainers();
    ({ image } = await buildOperatorImage(docker, { prune: true, log: (l) => process.stderr.write(`[image] ${l}\n`) }));
    cluster = await startCluster();
    await cluster.apply(baselinePolicy());
    // The admin kubeconfig, readable by the image's uid 1000 (bind-mounted read-only).
    tmp = await mkdtemp(path.join(os.tmpdir(), 'cra-gate-image-'));
    await chmod(tmp, 0o755);
    const kubeconfig = path.join(tmp, 'kubeconfig');
    await writeFile(kubeconfig, await readFile(cluster.cp.kubeconfigPath));
    await chmod(kubeconfig, 0o644);
    port = await freePort();

    // testcontainers has no builder method for a read-only root filesystem: set it on the host config.
    const Base = tc.GenericContainer as unknown as new (image: string) => TcGenericContainer & { hostConfig: Record<string, unknown> };
    class ReadOnlyContainer extends Base {
      constructor(img: string) {
        super(img);
        this.hostConfig.ReadonlyRootfs = true;
        // A real memory limit (docker run --memory): the budget must follow it (issue 16).
        this.hostConfig.Memory = 768 * 1024 * 1024;
      }
    }
    container = await new ReadOnlyContainer(image)
      .withNetworkMode('host')
      .withBindMounts([{ source: kubeconfig, target: '/etc/cra-gate/kubeconfig', mode: 'ro' }])
      .withEnvironment({ KUBECONFIG: '/etc/cra-gate/kubeconfig', POD_NAMESPACE: 'cra-gate', POD_NAME: 'cra-gate-image-0', LOG_LEVEL: 'debug' })
      .withCommand(['--metrics-bind', `127.0.0.1:${port}`])
      .withDroppedCapabilities('ALL')
      .withSecurityOpt('no-new-privileges')
      .withWaitStrategy(tc.Wait.forLogMessage(/caches synced/))
      .withStartupTimeout(180_000)
      .start();
    containerId = container.getId();
    const stream = await container.logs();
    stream.on('data', (d: Buffer | string) => logs.push(...String(d).split('\n').filter(Boolean)));
  });

  after(async () => {
    if (containerId) await docker?.docker(['rm', '-f', containerId]);
    await cluster?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    await docker?.stop();
  });

  it('is built for a non-root user with an exec-form entrypoint and production dependencies only', async () => {
    const [info] = JSON.parse((await docker.docker(['image', 'inspect', image])).stdout) as { Config: { User: string; Entrypoint: string[]; Env: string[] } }[];
    assert.equal(info!.Config.User, '1000:1000');
    assert.deepEqual(info!.Config.Entrypoint, ['node', '--max-old-space-size-percentage=40', '--max-semi-space-size=16', '/app/bin/entrypoint.mjs'], 'exec form: node is PID 1 and receives SIGTERM');
    // glibc malloc settings of the image (issue 16): bench/memory.ts measures with exactly these.
    for (const e of ['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=65536', 'MALLOC_TRIM_THRESHOLD_=1048576']) assert.ok(info!.Config.Env.includes(e), e);
    const r = await container!.exec([
      'node',
      '-e',
      `const fs = require('node:fs');
       console.log(JSON.stringify({ version: process.version, uid: process.getuid(), gid: process.getgid(), pid: process.pid === 1 ? 'exec' : 'other',
         typescript: fs.existsSync('/app/node_modules/typescript'), eslint: fs.existsSync('/app/node_modules/eslint'),
         prom: fs.existsSync('/app/node_modules/prom-client'), tests: fs.readdirSync('/app/operator').some((f) => f.endsWith('.test.ts')),
         validators: fs.existsSync('/app/.cache/sbom-validators') ? fs.readdirSync('/app/.cache/sbom-validators').filter((f) => f.endsWith('.cjs')).length : 0 }));`,
    ]);
    assert.equal(r.exitCode, 0, r.output);
    const facts = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    assert.match(String(facts.version), /^v24\./);
    assert.equal(facts.uid, 1000);
    assert.equal(facts.gid, 1000);
    assert.equal(facts.typescript, false, 'dev dependencies are not in the image');
    assert.equal(facts.eslint, false);
    assert.equal(facts.prom, true);
    assert.equal(facts.tests, false, 'test files are not in the image');
    assert.ok(Number(facts.validators) >= 9, `the SBOM schema validators are precompiled into the image (found ${String(facts.validators)})`);
    const ps = await container!.exec(['node', '-e', "console.log(require('node:fs').readFileSync('/proc/1/cmdline', 'utf8').split('\\0').join(' '))"]);
    assert.match(ps.stdout, /^node --max-old-space-size-percentage=40 --max-semi-space-size=16 \/app\/bin\/entrypoint\.mjs --metrics-bind/, 'PID 1 is node itself (the entrypoint imports the operator in-process)');
  });

  it('derives its memory budget from the container\'s limit: main heap 40 % of it, SBOM workers in what is left', () => {
    const line = logs.map((l) => l.slice(l.indexOf('{'))).find((l) => l.includes('"memory budget"'));
    assert.ok(line, `no memory budget logged: ${logs.slice(0, 5).join('\n')}`);
    const m = (JSON.parse(line) as { memory: { limitBytes: number; limitSource: string; mainHeapMb: number; workers: number; workerHeapMb: number } }).memory;
    assert.equal(m.limitBytes, 768 * 1024 * 1024);
    assert.match(m.limitSource, /^cgroup-v[12]$/);
    // 40 % of 768 MiB for the old generation, plus V8's young generation.
    assert.ok(m.mainHeapMb >= 300 && m.mainHeapMb <= 400, String(m.mainHeapMb));
    assert.equal(m.workers, 1);
    assert.ok(m.workerHeapMb > 100 && m.mainHeapMb + 80 + 39 + 2 * m.workerHeapMb <= 768, JSON.stringify(m));
  });

  it('runs with a read-only root filesystem and no capabilities', async () => {
    for (const target of ['/app/x', '/tmp/x', '/x']) {
      const r = await container!.exec(['node', '-e', `require('node:fs').writeFileSync(${JSON.stringify(target)}, 'x')`]);
      assert.notEqual(r.exitCode, 0, `writing ${target} must fail`);
      assert.match(r.output, /EROFS|EACCES/);
    }
    const status = await container!.exec(['node', '-e', "console.log(require('node:fs').readFileSync('/proc/1/status', 'utf8'))"]);
    assert.match(status.stdout, /CapEff:\s+0+\n/);
    assert.match(status.stdout, /NoNewPrivs:\s+1/);
  });

  it('approves and blocks releases against the real kube-apiserver and serves metrics', async () => {
    const ns = await cluster.namespace('img');
    await cluster.apply(compliantRelease(ns, 'router-2-4-0'));
    await cluster.apply(
      compliantRelease(ns, 'camera-1-0-0', {
        spec: { updates: { channel: 'https://vendor.example/fw.json', automatic: true, supportEnd: '2029-01' } },
      }),
    );
    const ok = await waitForDecision(cluster, ns, 'router-2-4-0', undefined, 120_000);
    assert.equal(ok.status?.decision, 'Approved');
    const blocked = await waitForDecision(cluster, ns, 'camera-1-0-0', undefined, 120_000);
    assert.equal(blocked.status?.decision, 'Blocked');
    assert.ok(blocked.status?.checks?.some((c) => c.id === 'update.support-period' && c.result === 'Fail'));
    const lease = JSON.parse(await cluster.kubectl(['get', 'lease', '-n', 'cra-gate', 'cra-gate-operator', '-o', 'json'])) as { spec: { holderIdentity?: string } };
    assert.equal(lease.spec.holderIdentity, 'cra-gate-image-0');
    const text = await waitFor('metrics with both decisions', async () => {
      const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /cra_gate_releases\{decision="Blocked"\} 1/.test(t) && /cra_gate_releases\{decision="Approved"\} 1/.test(t) ? t : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(text, /^cra_gate_leader 1$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
  });

  describe('as the CLI: docker run --rm -v "$PWD:/data" <image> evaluate …', () => {
    let data = '';
    const fixtures = ['releases.yaml', 'policies.yaml', 'configmaps.yaml'];
    before(async () => {
      data = path.join(tmp, 'data');
      await mkdir(data);
      await chmod(data, 0o755);
      for (const f of fixtures) {
        await copyFile(path.join(repoRoot, 'test', 'fixtures', 'cli', f), path.join(data, f));
        await chmod(path.join(data, f), 0o644);
      }
    });
    const dockerRun = (args: string[]) =>
      docker.docker(['run', '--rm', '--network', 'none', '--read-only', '--cap-drop', 'ALL', '-v', `${data}:/data:ro`, image, ...args], { timeoutMs: 120_000 });

    it('evaluate --output sarif: exit 1 for a blocked release, SARIF 2.1.0 with a result per failing check', async () => {
      const r = await dockerRun(['evaluate', '/data/releases.yaml', '--policy', '/data/policies.yaml', '--configmap', '/data/configmaps.yaml', '--now', '2026-12-01T00:00:00Z', '--output', 'sarif']);
      assert.equal(r.code, 1, r.stderr);
      const sarif = JSON.parse(r.stdout) as { version: string; runs: { tool: { driver: { name: string } }; results: { ruleId: string; level: string }[] }[] };
      assert.equal(sarif.version, '2.1.0');
      assert.equal(sarif.runs[0]!.tool.driver.name, 'cra-gate');
      assert.ok(sarif.runs[0]!.results.some((x) => x.level === 'error'), 'the blocked release has error-level results');
    });

    it('gives the same statuses as the CLI from the sources, with relative paths against /data', async () => {
      const args = ['evaluate', 'releases.yaml', '--policy', 'policies.yaml', '--configmap', 'configmaps.yaml', '--now', '2026-12-01T00:00:00Z', '--output', 'json'];
      const inImage = await dockerRun(args);
      const local = await run(process.execPath, [path.join(repoRoot, 'bin', 'cra-gate.mjs'), ...args], { cwd: data });
      assert.equal(inImage.code, 1, inImage.stderr);
      assert.equal(local.code, 1, local.stderr);
      assert.equal(inImage.stdout, local.stdout);
    });

    it('version and unusable input', async () => {
      const version = await dockerRun(['version']);
      assert.equal(version.code, 0);
      assert.equal(version.stdout.trim(), (JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
      const missing = await dockerRun(['evaluate', '/data/nope.yaml']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /nope\.yaml/);
    });
  });

  it('stops on SIGTERM: drains, releases the Lease and exits 0', async () => {
    const t0 = Date.now();
    await container!.stop({ timeout: 25_000, remove: false }); // ms; docker sends SIGKILL after it
    const seconds = (Date.now() - t0) / 1000;
    const [state] = JSON.parse((await docker.docker(['inspect', containerId])).stdout) as { State: { ExitCode: number; OOMKilled: boolean } }[];
    assert.equal(state!.State.ExitCode, 0, `exit code 0 after SIGTERM; logs:\n${logs.slice(-20).join('\n')}`);
    assert.ok(seconds < 20, `stopped in ${seconds}s, before docker's SIGKILL`);
    const all = (await docker.docker(['logs', containerId])).stdout;
    assert.match(all, /"signal":"SIGTERM"/);
    assert.match(all, /"msg":"stopped"/);
    const lease = JSON.parse(await cluster.kubectl(['get', 'lease', '-n', 'cra-gate', 'cra-gate-operator', '-o', 'json'])) as { spec: { holderIdentity?: string } };
    assert.ok(!lease.spec.holderIdentity, `the Lease is released (holder ${lease.spec.holderIdentity})`);
  });
});
