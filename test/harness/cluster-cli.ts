// A local control plane for the demo and for poking around by hand:
//
//   npm run cluster:up      starts etcd + kube-apiserver in the background (detached from the terminal),
//                           writes .cache/cluster/kubeconfig and .cache/cluster/state.json and prints
//                           `export KUBECONFIG=...` (and a PATH line for our kubectl) on stdout
//   npm run cluster:up -- --nodes
//                           the same plus a node that runs Pods (test/harness/node-cluster.ts: controller-manager,
//                           scheduler, containerd, kubelet, bridge CNI, kube-proxy, CoreDNS; needs root); import
//                           images with `ctr --address <containerdSocket from state.json> -n k8s.io images import`
//   npm run cluster:down    stops it and removes .cache/cluster (with --nodes: everything the node created)
//   node test/harness/cluster-cli.ts status
//
// `up` runs a detached supervisor (`cluster-cli.ts serve`) that owns the processes through the same harness
// the tests use; progress reaches `up` over an IPC channel; the supervisor's log is .cache/cluster/cluster.log.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { copyFile, rm, writeFile, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane, toolsBin, type ControlPlane } from './controlplane.ts';
import { removeNodeClusterLeftovers, startNodeCluster, type NodeCluster } from './node-cluster.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const clusterDir = path.join(repoRoot, '.cache', 'cluster');
const runDir = path.join(clusterDir, 'run');
const statePath = path.join(clusterDir, 'state.json');
const kubeconfigOut = path.join(clusterDir, 'kubeconfig');
const logPath = path.join(clusterDir, 'cluster.log');

interface State {
  supervisorPid: number;
  etcdPid: number | undefined;
  apiserverPid: number | undefined;
  server: string;
  etcdUrl: string;
  kubeconfig: string;
  dir: string;
  log: string;
  startedAt: string;
  /** With --nodes: the node's name, address and containerd socket. */
  node?: { name: string; address: string; containerdSocket: string; dir: string };
}

type Msg = { type: 'log'; line: string } | { type: 'ready'; state: State } | { type: 'error'; message: string };

const progress = (line: string): void => {
  process.stderr.write(`[cluster] ${line}\n`);
};

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(statePath, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

function printExports(): void {
  process.stdout.write(`export KUBECONFIG=${kubeconfigOut}\nexport PATH=${toolsBin()}:$PATH\n`);
}

async function up(nodes: boolean): Promise<number> {
  const existing = readState();
  if (existing && alive(existing.supervisorPid)) {
    progress(`already running (supervisor pid ${existing.supervisorPid}, ${existing.server})`);
    printExports();
    return 0;
  }
  if (existing || existsSync(runDir)) {
    progress('removing the state of a previous cluster that is no longer running');
    killLeftovers(existing);
    await rm(clusterDir, { recursive: true, force: true });
  }
  await mkdir(clusterDir, { recursive: true });
  progress(
    nodes
      ? 'starting a local cluster with a node that runs Pods (etcd, kube-apiserver, controller-manager, scheduler, containerd, kubelet, kube-proxy, CoreDNS)'
      : 'starting a local control plane (etcd + kube-apiserver); the first run builds them from source, which takes several minutes',
  );
  const t0 = Date.now();
  const logFd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', ...(nodes ? ['--nodes'] : [])], {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
    cwd: repoRoot,
  });
  closeSync(logFd);
  const result = await new Promise<{ ok: true; state: State } | { ok: false; message: string }>((resolve) => {
    child.on('message', (m: Msg) => {
      if (m.type === 'log') progress(m.line);
      else if (m.type === 'ready') resolve({ ok: true, state: m.state });
      else resolve({ ok: false, message: m.message });
    });
    child.on('exit', (code, signal) =>
      resolve({ ok: false, message: `the supervisor exited (code ${String(code)}, signal ${String(signal)}) before the cluster was ready` }),
    );
    child.on('error', (err) => resolve({ ok: false, message: err.message }));
  });
  if (!result.ok) {
    progress(`FAILED: ${result.message}`);
    progress(`log: ${logPath}`);
    if (alive(child.pid)) child.kill('SIGTERM');
    return 1;
  }
  child.disconnect();
  child.unref();
  progress(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${result.state.server} (supervisor pid ${result.state.supervisorPid}, log ${logPath})`);
  progress(`use it:  eval "$(npm run -s cluster:up)"  or run the lines below; stop it with  npm run cluster:down`);
  printExports();
  return 0;
}

function killLeftovers(state: State | undefined): void {
  if (!state) return;
  for (const pid of [state.apiserverPid, state.etcdPid, state.supervisorPid]) {
    if (alive(pid)) {
      try {
        process.kill(pid!, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

async function down(): Promise<number> {
  const state = readState();
  if (!state) {
    if (existsSync(clusterDir)) await rm(clusterDir, { recursive: true, force: true });
    progress('no cluster is running');
    return 0;
  }
  const t0 = Date.now();
  if (alive(state.supervisorPid)) {
    progress(`stopping the control plane (supervisor pid ${state.supervisorPid})`);
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(state.supervisorPid) && Date.now() < deadline) await sleep(100);
    if (alive(state.supervisorPid)) progress('the supervisor did not stop within 30 s; killing the processes');
  }
  killLeftovers(state);
  if (state.node) await removeNodeClusterLeftovers(progress, state.node.dir);
  await rm(clusterDir, { recursive: true, force: true });
  progress(`stopped and cleaned up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

function status(): number {
  const state = readState();
  if (!state || !alive(state.supervisorPid)) {
    progress('no cluster is running');
    return 1;
  }
  progress(`running: ${state.server} since ${state.startedAt}`);
  progress(`supervisor ${state.supervisorPid}, etcd ${String(state.etcdPid)} (${alive(state.etcdPid) ? 'up' : 'down'}), kube-apiserver ${String(state.apiserverPid)} (${alive(state.apiserverPid) ? 'up' : 'down'})`);
  printExports();
  return 0;
}

// The detached supervisor: owns the control plane until SIGTERM/SIGINT/SIGHUP.
async function serve(nodes: boolean): Promise<void> {
  const send = (m: Msg): void => {
    if (process.connected) process.send?.(m);
  };
  const log = (line: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    send({ type: 'log', line });
  };
  let cp: ControlPlane | undefined;
  let node: NodeCluster | undefined;
  let stopping = false;
  const shutdown = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping`);
    await (node ? node.stop() : cp?.stop());
    await rm(statePath, { force: true });
    await rm(kubeconfigOut, { force: true });
    process.exit(0);
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig));
  process.on('disconnect', () => {}); // `up` leaving must not end us
  try {
    if (nodes) {
      node = await startNodeCluster({ dir: runDir, log });
      cp = node.cp;
    } else {
      cp = await startControlPlane({ dir: runDir, log });
    }
    await copyFile(cp.kubeconfigPath, kubeconfigOut);
    const pids = cp.pids();
    const state: State = {
      supervisorPid: process.pid,
      etcdPid: pids.etcd,
      apiserverPid: pids.apiserver,
      server: cp.server,
      etcdUrl: cp.etcdUrl,
      kubeconfig: kubeconfigOut,
      dir: cp.dir,
      log: logPath,
      startedAt: new Date().toISOString(),
      ...(node ? { node: { name: node.nodeName, address: node.nodeAddress, containerdSocket: node.containerdSocket, dir: node.dir } } : {}),
    };
    await writeFile(`${statePath}.tmp`, JSON.stringify(state, null, 2) + '\n');
    await rename(`${statePath}.tmp`, statePath);
    log(`ready: ${cp.server}`);
    send({ type: 'ready', state });
    if (stopping) return;
    // Stay alive: the IPC channel closes when `up` exits; this timer keeps the event loop (idle) running.
    setInterval(() => {}, 1 << 30);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`failed: ${message}`);
    send({ type: 'error', message });
    process.exit(1);
  }
}

const cmd = process.argv[2];
switch (cmd) {
  case 'up':
    process.exitCode = await up(process.argv.includes('--nodes'));
    break;
  case 'down':
    process.exitCode = await down();
    break;
  case 'status':
    process.exitCode = status();
    break;
  case 'serve':
    await serve(process.argv.includes('--nodes'));
    break;
  default:
    process.stderr.write('usage: node test/harness/cluster-cli.ts up [--nodes]|down|status\n');
    process.exitCode = 2;
}
