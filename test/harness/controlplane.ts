// A real Kubernetes control plane for tests and the demo: etcd + kube-apiserver started as processes the way
// controller-runtime's envtest does (client-certificate admin, RBAC on, advertise 127.0.0.1, loopback only).
// The binaries are built from the Go module proxy by test/tools/build.sh into .cache/tools/bin.
//
// Certificates come from the openssl CLI. Process output goes to <dir>/etcd.log and <dir>/kube-apiserver.log;
// a failure to start throws with the last lines of the failing process's log. Child processes are killed when
// this process exits, even on SIGKILL of the test process (a tiny watchdog shell holds a pipe to us; when the
// pipe closes it kills the children it was told about).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { StopWaiting, waitFor } from './wait.ts';

export interface ControlPlane {
  /** Admin kubeconfig file (client certificate CN cra-gate-admin, O system:masters; CA embedded). */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Temp dir holding certificates, etcd data, logs and kubeconfigs; removed by stop(). */
  dir: string;
  /** http://127.0.0.1:<port> — etcd client URL (plain HTTP on loopback). */
  etcdUrl: string;
  /** PEM file of the CA that signed the serving and client certificates. */
  caFile: string;
  /** Runs our built kubectl against this control plane (or the given kubeconfig). Bounded to 120 s. */
  kubectl(
    args: string[],
    opts?: { input?: string; kubeconfig?: string },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A fresh KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** Stops and starts kube-apiserver on the same port and certificates, waits until ready. */
  restartApiServer(): Promise<void>;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  /** Stops and starts etcd on the same ports and data dir, waits until the apiserver serves again. */
  restartEtcd(): Promise<void>;
  /** SIGSTOP / SIGCONT the kube-apiserver process (connections hang instead of failing). */
  pauseApiServer(): void;
  resumeApiServer(): void;
  /**
   * Compacts etcd to its current revision (physically); returns that revision. Afterwards requests that need
   * etcd history older than it get 410 Gone: exact-resourceVersion lists, continue tokens, uncached watches.
   * Note: kube-apiserver serves watches from its watch cache, whose window begins at the apiserver's (re)start
   * (and slides as events accumulate), so compaction alone does not expire a watch that the cache can still
   * serve. For a dependable watch 410, restartApiServer(): a watch from any resourceVersion older than the
   * restart then gets an ERROR event with a 410 Status ("too old resource version").
   */
  compactEtcd(): Promise<number>;
  /** Writes a kubeconfig with a client certificate for `user` in `groups`; returns its path. */
  userKubeconfig(user: string, groups: string[]): Promise<string>;
  /** Current process ids (undefined when stopped). */
  pids(): { etcd: number | undefined; apiserver: number | undefined };
  /** Stops kube-apiserver, then etcd (SIGTERM, SIGKILL after a bound), removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Progress lines (build output, "etcd ready", ...). Default: stderr with a [controlplane] prefix. */
  log?: (line: string) => void;
  /** Use this (created if missing) instead of a fresh temp dir. */
  dir?: string;
  /** Bound for the apiserver to become ready; default 90 s. */
  readyTimeoutMs?: number;
  /**
   * The control plane of a cluster with nodes (test/harness/node-cluster.ts): kube-apiserver serves and
   * advertises on `address` (an address of this host that Pods can reach, in the serving certificate) instead of
   * 127.0.0.1, authorizes with Node,RBAC, runs the ServiceAccount admission plugin (Pods get their token volume)
   * and has a client certificate (system:masters) for kubelets' logs/exec endpoints.
   */
  nodes?: { address: string };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function toolsBin(): string {
  return path.join(process.env.CRA_GATE_TOOLS_CACHE ?? path.join(repoRoot, '.cache', 'tools'), 'bin');
}

export function kubectlPath(): string {
  return path.join(toolsBin(), 'kubectl');
}

// ---------------------------------------------------------------------------------------------------------
// processes

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; onStderrLine?: (l: string) => void } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (opts.onStderrLine) {
        partial += d;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.onStderrLine(l);
      }
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (partial && opts.onStderrLine) opts.onStderrLine(partial);
      if (timedOut) stderr += `\n[harness] ${path.basename(cmd)} killed after ${opts.timeoutMs} ms`;
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

// Children we must not leave behind. The 'exit' hook covers normal exits and uncaught errors; the watchdog
// covers signals and SIGKILL of this process (its stdin pipe closes, then it kills what we registered).
const live = new Set<ChildProcess>();
let watchdog: ChildProcess | undefined;

function watchdogSend(line: string): void {
  if (!watchdog) {
    // Protocol, one line each: `add <pid>` / `del <pid>` (children to kill), `dir <path>` / `undir <path>`
    // (temp dirs to remove). On EOF (we exited or were killed) it kills the pids, then removes the dirs.
    const script = [
      "trap '' INT TERM HUP; P=''; D=''",
      'rmw() { n=""; for x in $1; do [ "$x" = "$2" ] || n="$n $x"; done; echo "$n"; }',
      'while read -r op a; do case "$op" in add) P="$P $a";; del) P=$(rmw "$P" "$a");; dir) D="$D $a";; undir) D=$(rmw "$D" "$a");; esac; done',
      '[ -n "$P" ] && kill -KILL $P 2>/dev/null',
      '[ -n "$D" ] && { sleep 1; rm -rf $D; }',
      'exit 0',
    ].join('\n');
    watchdog = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.on('error', () => {});
    watchdog.stdin?.on('error', () => {});
    watchdog.unref();
    (watchdog.stdin as net.Socket | null)?.unref();
  }
  watchdog.stdin?.write(line + '\n');
}

process.on('exit', () => {
  for (const c of live) {
    try {
      if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done: boolean;
}

export function startProc(name: string, bin: string, args: string[], logFile: string): Proc {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const proc: Proc = {
    name,
    child,
    logFile,
    done: false,
    exited: new Promise((resolve) => {
      child.on('error', (err) => {
        proc.done = true;
        live.delete(child);
        try {
          appendFileSync(logFile, `[harness] cannot start ${bin}: ${err.message}\n`);
        } catch {
          // the log dir may be gone already
        }
        resolve({ code: -1, signal: null });
      });
      child.on('exit', (code, signal) => {
        proc.done = true;
        live.delete(child);
        if (child.pid !== undefined) watchdogSend(`del ${child.pid}`);
        resolve({ code, signal });
      });
    }),
  };
  if (child.pid !== undefined) {
    live.add(child);
    watchdogSend(`add ${child.pid}`);
  }
  return proc;
}

export async function stopProc(p: Proc | undefined, graceMs = 15_000): Promise<void> {
  if (!p || p.done) return;
  p.child.kill('SIGTERM');
  p.child.kill('SIGCONT'); // a paused process must wake up to handle SIGTERM
  const killed = await Promise.race([
    p.exited.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref()),
  ]);
  if (killed) {
    p.child.kill('SIGKILL');
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }
}

export function tail(file: string, n = 30): string {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.slice(-n).join('\n');
  } catch {
    return '(no output)';
  }
}

// ---------------------------------------------------------------------------------------------------------
// tools, ports, certificates

/** True when etcd, kube-apiserver and kubectl exist in toolsBin() stamped with the versions in versions.env. */
function toolsCurrent(): boolean {
  try {
    const env = readFileSync(path.join(repoRoot, 'test', 'tools', 'versions.env'), 'utf8');
    const version = (k: string) => new RegExp(`^${k}=(\\S+)`, 'm').exec(env)?.[1];
    const recipe = version('TOOLS_RECIPE') ?? '1';
    const want: Record<string, string | undefined> = {
      etcd: version('ETCD_VERSION'),
      'kube-apiserver': version('KUBERNETES_VERSION'),
      kubectl: version('KUBERNETES_VERSION'),
    };
    // Same stamp as build.sh writes: "<version> recipe=<TOOLS_RECIPE>".
    return Object.entries(want).every(([tool, v]) => {
      const file = path.join(toolsBin(), tool);
      if (!v || !existsSync(file)) return false;
      return readFileSync(path.join(toolsBin(), `.${tool}.version`), 'utf8').trim() === `${v} recipe=${recipe}`;
    });
  } catch {
    return false;
  }
}

/**
 * Builds the tools unless they are current. CRA_GATE_SKIP_TOOLS_BUILD=1 uses whatever toolsBin() holds
 * (for images with prebuilt tools).
 */
async function ensureTools(log: (l: string) => void): Promise<void> {
  if (process.env.CRA_GATE_SKIP_TOOLS_BUILD === '1' || toolsCurrent()) return;
  log('building etcd, kube-apiserver and kubectl from the Go module proxy (once per version; minutes on a cold cache)');
  const script = path.join(repoRoot, 'test', 'tools', 'build.sh');
  const res = await run('bash', [script, 'all'], { onStderrLine: log });
  if (res.code !== 0) {
    throw new Error(`building the control-plane tools failed (bash ${script} all, exit ${res.code}):\n${res.stderr.split('\n').slice(-30).join('\n')}`);
  }
}

export async function freePort(exclude: Set<number>): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    if (port > 0 && !exclude.has(port)) {
      exclude.add(port);
      return port;
    }
  }
  throw new Error('could not find a free loopback port');
}

const OPENSSL_CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

async function openssl(args: string[], cwd: string): Promise<void> {
  const res = await run('openssl', args, { cwd, timeoutMs: 30_000 });
  if (res.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${res.code}): ${res.stderr.trim()}`);
}

function rdnEscape(v: string): string {
  return v.replace(/[\\/+=,]/g, (c) => `\\${c}`);
}

interface Pki {
  dir: string;
  caCrt: string;
  caKey: string;
}

async function makeCa(dir: string, extraIps: string[] = []): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const cnf = OPENSSL_CNF.replace(/^subjectAltName = (.*)$/m, (_l, sans: string) => `subjectAltName = ${[sans, ...extraIps.map((ip) => `IP:${ip}`)].join(',')}`);
  await writeFile(path.join(dir, 'openssl.cnf'), cnf);
  await openssl(
    ['req', '-x509', '-config', 'openssl.cnf', '-extensions', 'ca', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=cra-gate-test-ca'],
    dir,
  );
  return { dir, caCrt: path.join(dir, 'ca.crt'), caKey: path.join(dir, 'ca.key') };
}

/** Issues a leaf certificate; returns { crt, key } file paths. */
async function issue(pki: Pki, base: string, subject: string, profile: 'server' | 'client'): Promise<{ crt: string; key: string }> {
  const key = path.join(pki.dir, `${base}.key`);
  const csr = path.join(pki.dir, `${base}.csr`);
  const crt = path.join(pki.dir, `${base}.crt`);
  await openssl(['req', '-new', '-config', 'openssl.cnf', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', csr, '-subj', subject], pki.dir);
  await openssl(['x509', '-req', '-in', csr, '-CA', pki.caCrt, '-CAkey', pki.caKey, '-set_serial', `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`,
    '-days', '30', '-extfile', 'openssl.cnf', '-extensions', profile, '-out', crt], pki.dir);
  await rm(csr, { force: true });
  return { crt, key };
}

async function writeKubeconfig(file: string, server: string, caCrt: string, crt: string, key: string, user: string): Promise<void> {
  const b64 = async (f: string) => (await readFile(f)).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cra-gate-test', cluster: { server, 'certificate-authority-data': await b64(caCrt) } }],
    users: [{ name: user, user: { 'client-certificate-data': await b64(crt), 'client-key-data': await b64(key) } }],
    contexts: [{ name: `${user}@cra-gate-test`, context: { cluster: 'cra-gate-test', user, namespace: 'default' } }],
    'current-context': `${user}@cra-gate-test`,
  };
  await writeFile(file, yaml.dump(doc, { lineWidth: -1 }), { mode: 0o600 });
  await chmod(file, 0o600);
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers

interface Resp {
  status: number;
  body: string;
}

function request(
  url: string,
  opts: { method?: string; body?: string; tls?: { ca: Buffer; cert: Buffer; key: Buffer }; timeoutMs?: number } = {},
): Promise<Resp> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
        agent: false,
        ...(opts.tls ?? {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 5_000, () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no answer in ${opts.timeoutMs ?? 5_000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------------------------
// the control plane

export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[controlplane] ${l}\n`));
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const t0 = Date.now();
  await ensureTools(log);
  const bin = toolsBin();

  const dir = opts.dir ? path.resolve(opts.dir) : await mkdtemp(path.join(os.tmpdir(), 'cra-gate-cp-'));
  await mkdir(dir, { recursive: true });
  // A temp dir of ours is removed by the watchdog if this process dies without stop().
  const watchDir = !opts.dir && !/\s/.test(dir) && !process.env.CRA_GATE_KEEP_CONTROLPLANE;
  if (watchDir) watchdogSend(`dir ${dir}`);
  const pkiDir = path.join(dir, 'pki');
  const kubeconfigPath = path.join(dir, 'kubeconfig');

  let etcd: Proc | undefined;
  let apiserver: Proc | undefined;
  let stopped = false;

  const stopAll = async (): Promise<void> => {
    await stopProc(apiserver);
    await stopProc(etcd);
    apiserver = undefined;
    etcd = undefined;
  };

  try {
    // Certificates: CA, apiserver serving cert, admin client cert, service-account key pair.
    const address = opts.nodes?.address ?? '127.0.0.1';
    const pki = await makeCa(pkiDir, opts.nodes ? [address] : []);
    const [serving, admin] = await Promise.all([
      issue(pki, 'apiserver', '/CN=kube-apiserver', 'server'),
      issue(pki, 'admin', '/O=system:masters/CN=cra-gate-admin', 'client'),
      (async () => {
        await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], pkiDir);
        await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], pkiDir);
      })(),
    ]);
    const tls = {
      ca: await readFile(pki.caCrt),
      cert: await readFile(admin.crt),
      key: await readFile(admin.key),
    };
    log(`certificates ready in ${Date.now() - t0} ms (${dir})`);

    // etcd
    const used = new Set<number>();
    let etcdClientPort = 0;
    let etcdPeerPort = 0;
    const etcdArgs = () => {
      const client = `http://127.0.0.1:${etcdClientPort}`;
      const peer = `http://127.0.0.1:${etcdPeerPort}`;
      return [
        '--name=cra-gate-test',
        `--data-dir=${path.join(dir, 'etcd-data')}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=cra-gate-test=${peer}`,
        '--unsafe-no-fsync=true',
        '--quota-backend-bytes=1073741824',
        '--log-level=warn',
      ];
    };
    const etcdLog = path.join(dir, 'etcd.log');
    const waitEtcd = async (p: Proc, timeoutMs: number): Promise<void> => {
      await waitFor(
        'etcd /health',
        async () => {
          if (p.done) throw new ExitedError(p);
          const r = await request(`http://127.0.0.1:${etcdClientPort}/health`, { timeoutMs: 2_000 });
          return r.status === 200 && r.body.includes('"true"');
        },
        { timeoutMs, intervalMs: 100 },
      ).catch((err: unknown) => {
        throw startError(p, err);
      });
    };
    const startEtcd = async (samePorts: boolean): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        if (!samePorts) {
          etcdClientPort = await freePort(used);
          etcdPeerPort = await freePort(used);
        }
        const t = Date.now();
        const p = startProc('etcd', path.join(bin, 'etcd'), etcdArgs(), etcdLog);
        etcd = p;
        try {
          await waitEtcd(p, 30_000);
          log(`etcd ready on 127.0.0.1:${etcdClientPort} in ${Date.now() - t} ms`);
          return;
        } catch (err) {
          await stopProc(p, 2_000);
          if (!samePorts && attempt < 4 && /address already in use/.test(tail(etcdLog, 50))) {
            log(`etcd: port conflict, retrying with new ports`);
            continue;
          }
          throw err;
        }
      }
    };
    await startEtcd(false);

    // kube-apiserver
    let securePort = 0;
    const server = () => `https://${address}:${securePort}`;
    const kubeletClient = opts.nodes ? await issue(pki, 'apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'client') : undefined;
    const apiserverLog = path.join(dir, 'kube-apiserver.log');
    const apiserverArgs = () => [
      `--etcd-servers=http://127.0.0.1:${etcdClientPort}`,
      `--cert-dir=${path.join(dir, 'apiserver-cert-dir')}`,
      `--secure-port=${securePort}`,
      `--bind-address=${address}`,
      `--advertise-address=${address}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      ...(kubeletClient
        ? ['--authorization-mode=Node,RBAC', `--kubelet-client-certificate=${kubeletClient.crt}`, `--kubelet-client-key=${kubeletClient.key}`, '--kubelet-preferred-address-types=InternalIP']
        : ['--authorization-mode=RBAC', '--disable-admission-plugins=ServiceAccount']),
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${path.join(pkiDir, 'sa.pub')}`,
      `--service-account-signing-key-file=${path.join(pkiDir, 'sa.key')}`,
      `--client-ca-file=${pki.caCrt}`,
      `--tls-cert-file=${serving.crt}`,
      `--tls-private-key-file=${serving.key}`,
      '--allow-privileged=true',
    ];
    const waitApiserver = async (p: Proc, timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      try {
        await waitFor(
          'kube-apiserver /readyz',
          async () => {
            if (p.done) throw new ExitedError(p);
            const r = await request(`${server()}/readyz`, { tls, timeoutMs: 5_000 });
            if (r.status === 200) return true;
            throw new Error(`HTTP ${r.status}: ${r.body.split('\n').filter((l) => l.includes('failed')).join('; ') || r.body.slice(0, 300)}`);
          },
          { timeoutMs, intervalMs: 200 },
        );
        await waitFor(
          'namespace default',
          async () => {
            if (p.done) throw new ExitedError(p);
            const r = await request(`${server()}/api/v1/namespaces/default`, { tls, timeoutMs: 5_000 });
            if (r.status === 200) return true;
            throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 300)}`);
          },
          { timeoutMs: Math.max(deadline - Date.now(), 1_000), intervalMs: 200 },
        );
      } catch (err) {
        throw startError(p, err);
      }
    };
    const launchApiserver = async (samePort: boolean): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        if (!samePort) securePort = await freePort(used);
        const t = Date.now();
        const p = startProc('kube-apiserver', path.join(bin, 'kube-apiserver'), apiserverArgs(), apiserverLog);
        apiserver = p;
        try {
          await waitApiserver(p, readyTimeoutMs);
          log(`kube-apiserver ready on ${server()} in ${Date.now() - t} ms`);
          return;
        } catch (err) {
          await stopProc(p, 5_000);
          if (!samePort && attempt < 4 && /address already in use/.test(tail(apiserverLog, 50))) {
            log('kube-apiserver: port conflict, retrying with a new port');
            continue;
          }
          throw err;
        }
      }
    };
    await launchApiserver(false);
    await writeKubeconfig(kubeconfigPath, server(), pki.caCrt, admin.crt, admin.key, 'cra-gate-admin');
    log(`control plane ready in ${Date.now() - t0} ms; KUBECONFIG=${kubeconfigPath}`);

    let userSeq = 0;
    const kubeCacheDir = path.join(dir, 'kubectl-cache');

    const cp: ControlPlane = {
      kubeconfigPath,
      server: server(),
      dir,
      etcdUrl: `http://127.0.0.1:${etcdClientPort}`,
      caFile: pki.caCrt,
      kubectl: (args, o = {}) =>
        run(kubectlPath(), [`--kubeconfig=${o.kubeconfig ?? kubeconfigPath}`, `--cache-dir=${kubeCacheDir}`, ...args], {
          input: o.input,
          timeoutMs: 120_000,
        }),
      kubeConfig: () => {
        const kc = new KubeConfig();
        kc.loadFromFile(kubeconfigPath);
        return kc;
      },
      stopApiServer: async () => {
        const t = Date.now();
        await stopProc(apiserver);
        apiserver = undefined;
        log(`kube-apiserver stopped in ${Date.now() - t} ms`);
      },
      startApiServer: async () => {
        if (stopped) throw new Error('control plane is stopped');
        if (apiserver && !apiserver.done) return;
        await launchApiserver(true);
      },
      restartApiServer: async () => {
        await cp.stopApiServer();
        await cp.startApiServer();
      },
      restartEtcd: async () => {
        if (stopped) throw new Error('control plane is stopped');
        const t = Date.now();
        await stopProc(etcd);
        await startEtcd(true);
        if (apiserver && !apiserver.done) await waitApiserver(apiserver, readyTimeoutMs);
        log(`etcd restarted in ${Date.now() - t} ms`);
      },
      pauseApiServer: () => {
        if (!apiserver || apiserver.done) throw new Error('kube-apiserver is not running');
        apiserver.child.kill('SIGSTOP');
      },
      resumeApiServer: () => {
        if (!apiserver || apiserver.done) throw new Error('kube-apiserver is not running');
        apiserver.child.kill('SIGCONT');
      },
      compactEtcd: async () => {
        const base = `http://127.0.0.1:${etcdClientPort}`;
        const range = await request(`${base}/v3/kv/range`, {
          method: 'POST',
          body: JSON.stringify({ key: Buffer.from('cra-gate-compaction-probe').toString('base64') }),
        });
        if (range.status !== 200) throw new Error(`etcd range: HTTP ${range.status}: ${range.body}`);
        const rev = Number((JSON.parse(range.body) as { header?: { revision?: string } }).header?.revision);
        if (!Number.isSafeInteger(rev) || rev <= 0) throw new Error(`etcd range: no revision in ${range.body}`);
        const compact = await request(`${base}/v3/kv/compaction`, {
          method: 'POST',
          body: JSON.stringify({ revision: String(rev), physical: true }),
          timeoutMs: 30_000,
        });
        // Compacting twice to the same revision is fine for tests: etcd answers "already compacted".
        if (compact.status !== 200 && !compact.body.includes('compacted')) {
          throw new Error(`etcd compaction to ${rev}: HTTP ${compact.status}: ${compact.body}`);
        }
        return rev;
      },
      userKubeconfig: async (user, groups) => {
        const n = ++userSeq;
        const safe = user.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
        const subject = [...groups.map((g) => `/O=${rdnEscape(g)}`), `/CN=${rdnEscape(user)}`].join('');
        const leaf = await issue(pki, `user-${n}-${safe}`, subject, 'client');
        const usersDir = path.join(dir, 'users');
        await mkdir(usersDir, { recursive: true });
        const file = path.join(usersDir, `${n}-${safe}.kubeconfig`);
        await writeKubeconfig(file, server(), pki.caCrt, leaf.crt, leaf.key, safe || 'user');
        return file;
      },
      pids: () => ({
        etcd: etcd && !etcd.done ? etcd.child.pid : undefined,
        apiserver: apiserver && !apiserver.done ? apiserver.child.pid : undefined,
      }),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        const t = Date.now();
        await stopAll();
        if (!process.env.CRA_GATE_KEEP_CONTROLPLANE) await rm(dir, { recursive: true, force: true });
        if (watchDir) watchdogSend(`undir ${dir}`);
        log(`control plane stopped in ${Date.now() - t} ms`);
      },
    };
    return cp;
  } catch (err) {
    await stopAll();
    if (!opts.dir && !process.env.CRA_GATE_KEEP_CONTROLPLANE) await rm(dir, { recursive: true, force: true });
    if (watchDir) watchdogSend(`undir ${dir}`);
    throw err;
  }
}

class ExitedError extends StopWaiting {
  constructor(p: Proc) {
    super(`${p.name} exited (code ${String(p.child.exitCode)}, signal ${String(p.child.signalCode)})`);
  }
}

function startError(p: Proc, cause: unknown): Error {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${p.name} did not become ready: ${msg}\n--- last lines of ${p.logFile} ---\n${tail(p.logFile, 30)}`, { cause });
}
