// A single-node Kubernetes cluster that runs real Pods, for the end-to-end suite (test/integration/
// helm-e2e.test.ts) and `npm run cluster:up -- --nodes`. Everything is a process on this host:
//
//   etcd + kube-apiserver   test/harness/controlplane.ts, serving on the node address (Pods reach it through the
//                           `kubernetes` Service), Node,RBAC, ServiceAccount tokens signed with the control
//                           plane's key
//   kube-controller-manager ServiceAccounts/tokens, ReplicaSets, Deployments, EndpointSlices, garbage collector
//   kube-scheduler
//   containerd              Debian's (from docker.io) with its OWN root, state, socket and config under the
//                           cluster's temp dir (the docker harness's daemon is not touched); CRI on,
//                           restrict_oom_score_adj (root here lacks CAP_SYS_RESOURCE)
//   kubelet                 own root dir, static config, cgroupfs driver on cgroup v1 under its own cgroup root
//   CNI                     Debian's containernetworking-plugins: a bridge with its own name + host-local on a
//                           private Pod CIDR (state in the temp dir)
//   kube-proxy              iptables mode: ClusterIP Services work from Pods and from this host (the apiserver
//                           calls webhooks through their Service)
//   CoreDNS                 cluster DNS on the node address (built by test/tools/build.sh with the kubernetes
//                           plugin): <service>.<namespace>.svc resolves in Pods
//   pause image             test/tools/pause (a static Go program) packed here as a docker-archive tar and
//                           imported with `ctr -n k8s.io images import`; images run with imagePullPolicy: Never
//
// The node's address is a /32 on `lo` from the benchmarking range 198.18.0.0/15 (never routed), so nothing
// listens on a public interface. kube-proxy's chains are host-global (KUBE-*), so only one node cluster runs per
// host at a time: start() takes an exclusive lock, and first removes what a crashed earlier run may have left.
// stop() removes everything: Pods (so CNI tears their networks down), processes, mounts under its dirs, the
// iptables chains (kube-proxy --cleanup, then any KUBE-*/CNI-* left), the bridge, the node address, network
// namespaces, the kubelet's cgroups and the temp dir; leftovers() lists what remains (empty after stop()).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import yaml from 'js-yaml';
import { freePort, run, startControlPlane, startProc, stopProc, tail, toolsBin, type ControlPlane, type Proc, type RunResult } from './controlplane.ts';
import { StopWaiting, waitFor } from './wait.ts';

/** Fixed names: only one node cluster per host (the lock below), so they need no randomness. */
export const NODE = {
  name: 'cra-gate-node',
  /** The node's address: on `lo`, reachable from this host and (through the bridge) from every Pod. */
  address: '198.18.0.1',
  podCidr: '198.19.0.0/24',
  bridge: 'cragate0',
  cniNetwork: 'cra-gate-pods',
  /** The kubelet's cgroup root (in every v1 hierarchy). */
  cgroupRoot: 'cra-gate-node',
  pauseImage: 'cra-gate.test/pause:1',
  lock: path.join(os.tmpdir(), 'cra-gate-node-cluster.lock'),
} as const;
const CNI_BIN = '/usr/lib/cni';
const CGROUP_FS = '/sys/fs/cgroup';

export interface NodeCluster {
  cp: ControlPlane;
  kubeconfigPath: string;
  server: string;
  /** The cluster's temp dir (containerd, kubelet, CNI state, logs). */
  dir: string;
  nodeName: string;
  nodeAddress: string;
  /** containerd's socket (for ctr). */
  containerdSocket: string;
  kubectl: ControlPlane['kubectl'];
  /** `ctr --address <socket> -n k8s.io ...`, bounded to 5 minutes. */
  ctr(args: string[], opts?: { input?: string }): Promise<RunResult>;
  /** Imports an image tar (docker save / docker-archive format) into the node's k8s.io namespace. */
  importImage(tarFile: string): Promise<void>;
  /** Log file of a component (kubelet, containerd, kube-proxy, kube-scheduler, kube-controller-manager). */
  logFile(component: string): string;
  /** Stops everything and removes what the cluster created. Idempotent. */
  stop(): Promise<void>;
}

export interface NodeClusterOptions {
  log?: (line: string) => void;
  /** Use this dir (created if missing) instead of a fresh temp dir. */
  dir?: string;
  /** Bound for the node to become Ready; default 120 s. */
  readyTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------------------
// host checks

/** Why this host cannot run the node cluster (empty when it can). Every requirement is checked, not just the first. */
export function hostProblems(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('needs root (containerd, kubelet, iptables, mounts)');
  for (const [tool, pkg] of [
    ['containerd', 'containerd'],
    ['ctr', 'containerd'],
    ['runc', 'runc'],
    ['containerd-shim-runc-v2', 'containerd'],
    ['iptables', 'iptables'],
    ['ip', 'iproute2'],
    ['conntrack', 'conntrack'],
    ['tar', 'tar'],
  ] as const) {
    if (!which(tool)) problems.push(`${tool} is not on PATH (Debian package ${pkg}; bash test/tools/install-system.sh)`);
  }
  for (const p of ['bridge', 'host-local', 'loopback']) {
    if (!existsSync(path.join(CNI_BIN, p))) problems.push(`${CNI_BIN}/${p} missing (Debian containernetworking-plugins; bash test/tools/install-system.sh)`);
  }
  for (const tool of ['kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'pause', 'coredns']) {
    if (!existsSync(path.join(toolsBin(), tool))) problems.push(`${toolsBin()}/${tool} missing (bash test/tools/build.sh node)`);
  }
  for (const ctl of ['cpu', 'memory', 'pids', 'cpuset']) {
    if (!existsSync(path.join(CGROUP_FS, ctl, 'cgroup.procs'))) problems.push(`cgroup v1 controller ${ctl} not mounted at ${CGROUP_FS}/${ctl}`);
  }
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) problems.push('br_netfilter is not loaded (/proc/sys/net/bridge missing)');
  return problems;
}

function which(tool: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    const f = path.join(d, tool);
    try {
      if (statSync(f).isFile()) return f;
    } catch {
      // not here
    }
  }
  return undefined;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

function trySh(cmd: string, args: string[]): string | undefined {
  try {
    return sh(cmd, args);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// what the cluster leaves on the host, and removing it

const TABLES = ['filter', 'nat', 'mangle'] as const;

/** iptables chains of kube-proxy (KUBE-*) and of CNI plugins (CNI-*), as "table/chain". */
function ourChains(): string[] {
  const out: string[] = [];
  for (const t of TABLES) {
    const rules = trySh('iptables', ['-w', '5', '-t', t, '-S']) ?? '';
    for (const m of rules.matchAll(/^-N ((?:KUBE|CNI)-\S+)$/gm)) out.push(`${t}/${m[1]}`);
  }
  return out;
}

function mountsUnder(dirs: string[]): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines.map((l) => l.split(' ')[4]?.replace(/\\040/g, ' ')).filter((p): p is string => !!p);
  return points.filter((p) => dirs.some((d) => p === d || p.startsWith(d + '/')));
}

function cgroupDirs(): string[] {
  const out: string[] = [];
  let ctls: string[] = [];
  try {
    ctls = readdirSync(CGROUP_FS);
  } catch {
    return out;
  }
  for (const c of ctls) {
    const d = path.join(CGROUP_FS, c, NODE.cgroupRoot);
    if (existsSync(d)) out.push(d);
  }
  return out;
}

function pidsInCgroups(): number[] {
  const pids = new Set<number>();
  const walk = (d: string): void => {
    try {
      for (const p of readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      // gone meanwhile
    }
  };
  for (const d of cgroupDirs()) walk(d);
  return [...pids];
}

function rmCgroupTree(d: string): void {
  try {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmCgroupTree(path.join(d, e.name));
    rmdirSync(d);
  } catch {
    // busy or gone: reported by leftovers()
  }
}

/** Processes whose command line names `needle` (containerd shims carry the socket path), excluding us. */
function processesNaming(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) out.push(Number(e));
    } catch {
      // exited
    }
  }
  return out;
}

function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

function addressOnLo(): boolean {
  return (trySh('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo']) ?? '').includes(` ${NODE.address}/32`);
}

function cniNetns(): string[] {
  try {
    return readdirSync('/var/run/netns').filter((n) => n.startsWith('cni-'));
  } catch {
    return [];
  }
}

/**
 * What a node cluster leaves on this host: our processes, mounts under `dir`, KUBE- and CNI- chains, the bridge,
 * the node address, CNI network namespaces, the kubelet cgroups, the dir itself. Empty after stop().
 */
export function leftovers(dir?: string, pids: number[] = []): string[] {
  const out: string[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 0);
      out.push(`process ${pid} (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`);
    } catch {
      // gone
    }
  }
  if (dir) {
    for (const p of processesNaming(dir)) out.push(`process ${p} naming ${dir}`);
    for (const m of mountsUnder([dir])) out.push(`mount ${m}`);
    if (existsSync(dir)) out.push(`dir ${dir}`);
  }
  for (const c of ourChains()) out.push(`iptables chain ${c}`);
  if (linkExists(NODE.bridge)) out.push(`link ${NODE.bridge}`);
  if (addressOnLo()) out.push(`address ${NODE.address}/32 on lo`);
  for (const n of cniNetns()) out.push(`netns ${n}`);
  for (const p of pidsInCgroups()) out.push(`process ${p} in the kubelet's cgroups`);
  for (const d of cgroupDirs()) out.push(`cgroup ${d}`);
  return out;
}

/** For `cluster-cli down` after a supervisor died: removes what the node cluster in `dir` left. */
export async function removeNodeClusterLeftovers(log: (l: string) => void, dir: string): Promise<void> {
  await cleanHost(log, dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  try {
    const holder = Number(readFileSync(NODE.lock, 'utf8').trim());
    process.kill(holder, 0);
  } catch {
    rmSync(NODE.lock, { force: true });
  }
}

/** Removes host state a node cluster creates (also what a crashed run left). Never throws. */
async function cleanHost(log: (l: string) => void, dir: string | undefined): Promise<void> {
  // Pod processes, then shims of our containerd (they name its socket), then our mounts.
  for (const pid of pidsInCgroups()) safeKill(pid);
  if (dir) for (const pid of processesNaming(dir)) safeKill(pid);
  await sleep(200);
  if (dir) {
    for (const m of mountsUnder([dir]).reverse()) trySh('umount', ['-l', m]);
  }
  for (const n of cniNetns()) {
    trySh('umount', ['-l', `/var/run/netns/${n}`]);
    await rm(`/var/run/netns/${n}`, { force: true });
  }
  // kube-proxy's own cleanup knows its rules (jump rules in built-in chains too); then anything left.
  const proxy = path.join(toolsBin(), 'kube-proxy');
  if (ourChains().length && existsSync(proxy)) {
    const r = await run(proxy, ['--cleanup', '--proxy-mode=iptables'], { timeoutMs: 60_000 });
    if (r.code !== 0) log(`kube-proxy --cleanup: exit ${r.code}: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  }
  for (const t of TABLES) {
    const rules = trySh('iptables', ['-w', '5', '-t', t, '-S']) ?? '';
    // Jumps into our chains from any chain first, then the chains themselves.
    for (const line of rules.split('\n')) {
      if (/^-A /.test(line) && / -j (KUBE|CNI)-/.test(line) && !/^-A (KUBE|CNI)-/.test(line)) {
        trySh('sh', ['-c', `iptables -w 5 -t ${t} ${line.replace(/^-A /, '-D ')}`]);
      }
    }
    const chains = [...rules.matchAll(/^-N ((?:KUBE|CNI)-\S+)$/gm)].map((m) => m[1]!);
    for (const c of chains) trySh('iptables', ['-w', '5', '-t', t, '-F', c]);
    for (const c of chains) trySh('iptables', ['-w', '5', '-t', t, '-X', c]);
  }
  if (linkExists(NODE.bridge)) trySh('ip', ['link', 'delete', NODE.bridge]);
  if (addressOnLo()) trySh('ip', ['addr', 'del', `${NODE.address}/32`, 'dev', 'lo']);
  for (const d of cgroupDirs()) rmCgroupTree(d);
}

function safeKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

// ---------------------------------------------------------------------------------------------------------
// the lock: one node cluster per host

async function takeLock(log: (l: string) => void, timeoutMs = 600_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    try {
      const fd = openSync(NODE.lock, 'wx');
      await writeFile(NODE.lock, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(NODE.lock, 'utf8').trim() === String(process.pid)) rmSync(NODE.lock);
        } catch {
          // gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(NODE.lock, 'utf8').trim() || '0');
    let holderAlive = false;
    if (holder > 0) {
      try {
        process.kill(holder, 0);
        holderAlive = true;
      } catch {
        holderAlive = false;
      }
    }
    if (!holderAlive) {
      log(`removing the stale node-cluster lock of pid ${holder || '?'}`);
      rmSync(NODE.lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another node cluster (pid ${holder}) holds ${NODE.lock}; only one runs per host (kube-proxy's chains are global)`);
    if (!said) log(`waiting for the node cluster of pid ${holder} to stop (${NODE.lock})`);
    said = true;
    await sleep(1_000);
  }
}

// ---------------------------------------------------------------------------------------------------------
// the pause image, written directly as a docker-archive tar

async function pauseImageTar(dir: string): Promise<string> {
  const work = path.join(dir, 'pause-image');
  const layerDir = path.join(work, 'rootfs');
  await mkdir(layerDir, { recursive: true });
  await copyFile(path.join(toolsBin(), 'pause'), path.join(layerDir, 'pause'));
  await chmod(path.join(layerDir, 'pause'), 0o755);
  const det = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'];
  const tarRes = await run('tar', [...det, '-C', layerDir, '-cf', path.join(work, 'layer.tar'), 'pause'], { timeoutMs: 60_000 });
  if (tarRes.code !== 0) throw new Error(`tar (pause layer): ${tarRes.stderr}`);
  const layer = await readFile(path.join(work, 'layer.tar'));
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: ['/pause'], User: '65535:65535' },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created_by: 'test/harness/node-cluster.ts: test/tools/pause (static Go program)' }],
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  const layerName = `${diffId.slice(7)}/layer.tar`;
  const out = path.join(work, 'archive');
  await mkdir(path.join(out, diffId.slice(7)), { recursive: true });
  await copyFile(path.join(work, 'layer.tar'), path.join(out, layerName));
  await writeFile(path.join(out, configName), config);
  await writeFile(path.join(out, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [NODE.pauseImage], Layers: [layerName] }]));
  const tarFile = path.join(work, 'pause.tar');
  const r = await run('tar', [...det, '-C', out, '-cf', tarFile, '.'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`tar (pause image): ${r.stderr}`);
  return tarFile;
}

/** An A record of `name` from the cluster DNS (Node's resolver pointed at the node address). */
export async function resolveOnNode(name: string): Promise<string | undefined> {
  const r = new Resolver({ timeout: 2_000, tries: 1 });
  r.setServers([NODE.address]);
  try {
    return (await r.resolve4(name))[0];
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// start

export async function startNodeCluster(opts: NodeClusterOptions = {}): Promise<NodeCluster> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[node-cluster] ${l}\n`));
  if (process.env.CRA_GATE_SKIP_TOOLS_BUILD !== '1') {
    // A no-op (milliseconds) when the node's tools for the pinned versions are built already.
    const script = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'tools', 'build.sh');
    const r = await run('bash', [script, 'node'], { onStderrLine: log });
    if (r.code !== 0) throw new Error(`building the node's tools failed (bash ${script} node, exit ${r.code})`);
  }
  const problems = hostProblems();
  if (problems.length) throw new Error(`this host cannot run the node cluster:\n- ${problems.join('\n- ')}`);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const t0 = Date.now();
  const release = await takeLock(log);
  const dir = opts.dir ? path.resolve(opts.dir) : await mkdtemp(path.join(os.tmpdir(), 'cra-gate-node-'));
  // Under the lock no other node cluster runs: whatever one left (a killed test process) goes now, including
  // the temp dirs of killed runs (their mounts, and shims that name them).
  const staleDirs = readdirSync(os.tmpdir())
    .filter((e) => e.startsWith('cra-gate-node-'))
    .map((e) => path.join(os.tmpdir(), e))
    .filter((d) => d !== dir);
  const stale = [...leftovers(), ...staleDirs.flatMap((d) => leftovers(d))];
  if (stale.length) {
    log(`removing what an earlier node cluster left: ${stale.join(', ')}`);
    await cleanHost(log, undefined);
    for (const d of staleDirs) {
      await cleanHost(log, d);
      await rm(d, { recursive: true, force: true, maxRetries: 3 });
    }
  }
  const procs: Proc[] = [];
  let cp: ControlPlane | undefined;
  const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const c = {
    containerd: path.join(dir, 'containerd'),
    kubelet: path.join(dir, 'kubelet'),
    cni: path.join(dir, 'cni'),
    logs: path.join(dir, 'logs'),
  };
  const sock = path.join(c.containerd, 'containerd.sock');
  const logFile = (n: string) => path.join(c.logs, `${n}.log`);
  let stopped = false;

  const teardown = async (): Promise<void> => {
    const t = Date.now();
    // 1. No more Pods are made; the kubelet then removes every Pod (CNI DEL frees IPs and chains).
    const byName = (n: string) => procs.find((p) => p.name === n);
    await stopProc(byName('kube-controller-manager'), 10_000);
    await stopProc(byName('kube-scheduler'), 10_000);
    const kubelet = byName('kubelet');
    if (cp && kubelet && !kubelet.done) {
      await cp.kubectl(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=1', '--wait=false']).catch(() => undefined);
      await waitFor(
        'the kubelet to remove every Pod sandbox',
        async () => {
          const r = await run('ctr', ['--address', sock, '-n', 'k8s.io', 'tasks', 'ls', '-q'], { timeoutMs: 10_000 });
          return r.code === 0 && r.stdout.trim() === '';
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      ).catch((err: unknown) => log(`teardown: ${err instanceof Error ? err.message : String(err)} (killing them)`));
    }
    // 2. The node's processes, then containerd (last: the kubelet talks to it while stopping).
    for (const n of ['kubelet', 'kube-proxy', 'coredns']) await stopProc(byName(n), 10_000);
    await stopProc(byName('containerd'), 10_000);
    await cp?.stop();
    // 3. Whatever is left on the host (pods killed, mounts, chains, bridge, address, cgroups).
    await cleanHost(log, dir);
    if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== ipForwardBefore) {
      await writeFile('/proc/sys/net/ipv4/ip_forward', ipForwardBefore).catch(() => undefined);
    }
    if (!process.env.CRA_GATE_KEEP_CONTROLPLANE) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    release();
    log(`node cluster stopped and cleaned up in ${Date.now() - t} ms`);
  };

  try {
    await mkdir(c.logs, { recursive: true });
    await Promise.all([c.containerd, c.kubelet, path.join(c.cni, 'net.d'), path.join(c.cni, 'ipam')].map((d) => mkdir(d, { recursive: true })));

    // The node address on lo, before the apiserver binds it.
    sh('ip', ['addr', 'add', `${NODE.address}/32`, 'dev', 'lo']);
    cp = await startControlPlane({ dir: path.join(dir, 'controlplane'), log, nodes: { address: NODE.address } });
    const controlPlane = cp;

    // containerd
    await writeFile(path.join(c.cni, 'net.d', '10-cra-gate.conflist'), JSON.stringify({
      cniVersion: '0.4.0',
      name: NODE.cniNetwork,
      plugins: [{
        type: 'bridge',
        bridge: NODE.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: NODE.podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(c.cni, 'ipam') },
      }],
    }, null, 2));
    const containerdConfig = path.join(c.containerd, 'config.toml');
    await writeFile(containerdConfig, [
      'version = 2',
      `root = ${JSON.stringify(path.join(c.containerd, 'root'))}`,
      `state = ${JSON.stringify(path.join(c.containerd, 'state'))}`,
      'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
      '[grpc]',
      `  address = ${JSON.stringify(sock)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(sock + '.ttrpc')}`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(path.join(c.containerd, 'opt'))}`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = ${JSON.stringify(NODE.pauseImage)}`,
      '  restrict_oom_score_adj = true',
      '  disable_apparmor = true',
      '  enable_selinux = false',
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    snapshotter = "overlayfs"',
      '    default_runtime_name = "runc"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '      runtime_type = "io.containerd.runc.v2"',
      '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      '        SystemdCgroup = false',
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      `    bin_dir = ${JSON.stringify(CNI_BIN)}`,
      `    conf_dir = ${JSON.stringify(path.join(c.cni, 'net.d'))}`,
      '',
    ].join('\n'));
    const containerd = startProc('containerd', which('containerd')!, ['--config', containerdConfig], logFile('containerd'));
    procs.push(containerd);
    await waitFor(
      'containerd to answer',
      async () => {
        if (containerd.done) throw new StopWaiting(`containerd exited:\n${tail(containerd.logFile)}`);
        const r = await run('ctr', ['--address', sock, 'version'], { timeoutMs: 5_000 });
        return r.code === 0;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const ctr = (args: string[], o: { input?: string } = {}) => run('ctr', ['--address', sock, '-n', 'k8s.io', ...args], { input: o.input, timeoutMs: 300_000 });
    const importImage = async (tarFile: string): Promise<void> => {
      const r = await ctr(['images', 'import', '--no-unpack=false', tarFile]);
      if (r.code !== 0) throw new Error(`ctr images import ${tarFile}: exit ${r.code}: ${r.stderr || r.stdout}`);
    };
    await importImage(await pauseImageTar(dir));
    log(`containerd ready, ${NODE.pauseImage} imported (${Date.now() - t0} ms)`);

    // Identities: client certificates from the control plane's CA.
    const pki = path.join(controlPlane.dir, 'pki');
    const [kcmKc, schedKc, kubeletKc, proxyKc] = await Promise.all([
      controlPlane.userKubeconfig('system:kube-controller-manager', []),
      controlPlane.userKubeconfig('system:kube-scheduler', []),
      controlPlane.userKubeconfig(`system:node:${NODE.name}`, ['system:nodes']),
      controlPlane.userKubeconfig('system:kube-proxy', []),
    ]);

    procs.push(startProc('kube-controller-manager', path.join(toolsBin(), 'kube-controller-manager'), [
      `--kubeconfig=${kcmKc}`,
      '--secure-port=0',
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${path.join(pki, 'sa.key')}`,
      `--root-ca-file=${controlPlane.caFile}`,
      '--controllers=*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ephemeral-volume,-pvc-protection,-pv-protection',
      '--concurrent-deployment-syncs=2',
      '--node-monitor-grace-period=40s',
    ], logFile('kube-controller-manager')));
    procs.push(startProc('kube-scheduler', path.join(toolsBin(), 'kube-scheduler'), [
      `--kubeconfig=${schedKc}`,
      '--secure-port=0',
      '--leader-elect=false',
    ], logFile('kube-scheduler')));

    // kube-proxy (iptables mode)
    const used = new Set<number>();
    const proxyConfig = path.join(dir, 'kube-proxy.yaml');
    await writeFile(proxyConfig, yaml.dump({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig: proxyKc },
      mode: 'iptables',
      hostnameOverride: NODE.name,
      bindAddress: NODE.address,
      clusterCIDR: NODE.podCidr,
      healthzBindAddress: `127.0.0.1:${await freePort(used)}`,
      metricsBindAddress: `127.0.0.1:${await freePort(used)}`,
      nodePortAddresses: [`${NODE.address}/32`],
      iptables: { localhostNodePorts: false, syncPeriod: '30s', minSyncPeriod: '0s' },
      // Do not touch the host's conntrack sysctls (not ours to change; no CAP_SYS_RESOURCE anyway).
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    }));
    procs.push(startProc('kube-proxy', path.join(toolsBin(), 'kube-proxy'), [`--config=${proxyConfig}`], logFile('kube-proxy')));

    // CoreDNS: reads Services and EndpointSlices with its own identity (the RBAC CoreDNS's manifests ship).
    const rbac = await controlPlane.kubectl(['apply', '-f', '-'], {
      input: yaml.dump({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRole',
            metadata: { name: 'system:coredns' },
            rules: [
              { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
              { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
            ],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: 'system:coredns' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
            subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:coredns' }],
          },
        ],
      }),
    });
    if (rbac.code !== 0) throw new Error(`CoreDNS RBAC: ${rbac.stderr}`);
    const corefile = path.join(dir, 'Corefile');
    await writeFile(corefile, [
      '.:53 {',
      `  bind ${NODE.address}`,
      '  errors',
      '  kubernetes cluster.local in-addr.arpa {',
      `    kubeconfig ${await controlPlane.userKubeconfig('system:coredns', [])}`,
      '    pods disabled',
      '  }',
      '}',
      '',
    ].join('\n'));
    const coredns = startProc('coredns', path.join(toolsBin(), 'coredns'), ['-conf', corefile], logFile('coredns'));
    procs.push(coredns);

    // kubelet
    for (const ctl of readdirSync(CGROUP_FS)) {
      if (existsSync(path.join(CGROUP_FS, ctl, 'cgroup.procs'))) await mkdir(path.join(CGROUP_FS, ctl, NODE.cgroupRoot), { recursive: true });
    }
    const kubeletConfig = path.join(c.kubelet, 'config.yaml');
    const kubeletPort = await freePort(used);
    await writeFile(kubeletConfig, yaml.dump({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      address: NODE.address,
      port: kubeletPort,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: await freePort(used),
      authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: controlPlane.caFile } },
      authorization: { mode: 'AlwaysAllow' },
      cgroupDriver: 'cgroupfs',
      cgroupRoot: `/${NODE.cgroupRoot}`,
      cgroupsPerQOS: true,
      failCgroupV1: false,
      failSwapOn: false,
      containerRuntimeEndpoint: `unix://${sock}`,
      podLogsDir: path.join(c.kubelet, 'pod-logs'),
      clusterDomain: 'cluster.local',
      clusterDNS: [NODE.address],
      resolvConf: '/etc/resolv.conf',
      // A shared test machine: never evict or garbage-collect images because of its disk or memory.
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      serializeImagePulls: false,
      registerNode: true,
      nodeStatusUpdateFrequency: '4s',
      syncFrequency: '10s',
      fileCheckFrequency: '0s',
      protectKernelDefaults: false,
      makeIPTablesUtilChains: false,
      enforceNodeAllocatable: ['pods'],
      maxPods: 50,
    }));
    const kubelet = startProc('kubelet', path.join(toolsBin(), 'kubelet'), [
      `--config=${kubeletConfig}`,
      `--kubeconfig=${kubeletKc}`,
      `--root-dir=${c.kubelet}`,
      `--cert-dir=${path.join(c.kubelet, 'pki')}`,
      `--hostname-override=${NODE.name}`,
      `--node-ip=${NODE.address}`,
      '--v=1',
    ], logFile('kubelet'));
    procs.push(kubelet);

    await waitFor(
      `node ${NODE.name} Ready`,
      async () => {
        for (const p of procs) if (p.done) throw new StopWaiting(`${p.name} exited:\n${tail(p.logFile)}`);
        const r = await controlPlane.kubectl(['get', 'node', NODE.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
        if (r.code !== 0) throw new Error(r.stderr.trim());
        if (r.stdout === 'True') return true;
        throw new Error(`Ready=${r.stdout || '?'}`);
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 500 },
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- kubelet ---\n${tail(kubelet.logFile, 20)}`, { cause: err });
    });
    // The default ServiceAccount (Pods are refused without it) and kube-proxy's first sync of `kubernetes`.
    await waitFor('ServiceAccount default/default', async () => (await controlPlane.kubectl(['get', 'serviceaccount', 'default', '-n', 'default'])).code === 0, { timeoutMs: 60_000, intervalMs: 250 });
    await waitFor('CoreDNS to answer', async () => {
      if (coredns.done) throw new StopWaiting(`coredns exited:\n${tail(coredns.logFile)}`);
      return (await resolveOnNode('kubernetes.default.svc.cluster.local')) === '10.0.0.1';
    }, { timeoutMs: 60_000, intervalMs: 250 });
    await waitFor(
      'kube-proxy rules for the kubernetes Service',
      () => Promise.resolve((trySh('iptables', ['-w', '5', '-t', 'nat', '-S', 'KUBE-SERVICES']) ?? '').includes('default/kubernetes:https')),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    log(`node ${NODE.name} Ready (${NODE.address}, Pods ${NODE.podCidr}) in ${Date.now() - t0} ms; KUBECONFIG=${controlPlane.kubeconfigPath}`);

    return {
      cp: controlPlane,
      kubeconfigPath: controlPlane.kubeconfigPath,
      server: controlPlane.server,
      dir,
      nodeName: NODE.name,
      nodeAddress: NODE.address,
      containerdSocket: sock,
      kubectl: (args, o) => controlPlane.kubectl(args, o),
      ctr,
      importImage,
      logFile,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await teardown();
      },
    };
  } catch (err) {
    stopped = true;
    log(`start failed; cleaning up (logs were in ${c.logs})`);
    if (process.env.CRA_GATE_KEEP_CONTROLPLANE) log('CRA_GATE_KEEP_CONTROLPLANE set: keeping the dir');
    await teardown().catch(() => undefined);
    throw err;
  }
}
