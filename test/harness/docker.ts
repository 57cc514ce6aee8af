/**
 * The Docker engine for the image tests, and the locally made Node 24 base image.
 *
 * ensureDocker(): uses a daemon that already answers (DOCKER_HOST, else /var/run/docker.sock); otherwise starts
 * Debian's dockerd (`bash test/tools/install-system.sh` installs it) with its own data-root under
 * .cache/docker, `--storage-driver=vfs --iptables=false --bridge=none` (no image can be pulled here, containers
 * use host networking), and stops it in teardown. DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED=true and
 * TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 are set for testcontainers.
 *
 * buildNodeBase(): no registry is reachable, so the official node:24 image cannot be pulled. The base is made
 * locally: a root filesystem holding the Node 24 binary from the lock file's `node` package and the shared
 * libraries `ldd` lists, /bin/sh and /usr/bin/env, npm laid out as the official image has it
 * (/usr/local/lib/node_modules/npm) and an npm cache pre-filled with the lock file's production packages
 * (npm_config_offline=true), `docker import`ed. Its tag carries a hash of its inputs, so it is made once.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = path.join(repoRoot, '.cache', 'docker');

function log(line: string): void {
  process.stderr.write(`[docker] ${line}\n`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command (bounded), never throws; stdout/stderr as text. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code !== 0 ? String(err.message) : '') });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function must(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${(r.stderr || r.stdout).slice(-4000)}`);
  return r.stdout;
}

/** GET /_ping over a unix socket (or tcp://) within 2 s. */
function ping(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const opts: http.RequestOptions = host.startsWith('unix://')
      ? { socketPath: host.slice('unix://'.length), path: '/_ping' }
      : { host: new URL(host.replace(/^tcp:/, 'http:')).hostname, port: new URL(host.replace(/^tcp:/, 'http:')).port, path: '/_ping' };
    const req = http.get({ ...opts, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

export interface Docker {
  /** DOCKER_HOST value (unix://...). */
  host: string;
  /** Environment for the docker CLI and testcontainers. */
  env: NodeJS.ProcessEnv;
  /** True when this process started dockerd (and stop() stops it). */
  started: boolean;
  /** Runs the docker CLI against this daemon. */
  docker(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  stop(): Promise<void>;
}

let owned: ChildProcess | undefined;
process.on('exit', () => {
  if (owned && owned.exitCode === null) owned.kill('SIGKILL');
});

/** A Docker daemon that answers: the configured one, else our own dockerd (started here). */
export async function ensureDocker(): Promise<Docker> {
  const candidates = [process.env.DOCKER_HOST, 'unix:///var/run/docker.sock', `unix://${path.join(cacheDir, 'docker.sock')}`].filter(
    (h): h is string => !!h,
  );
  for (const h of candidates) {
    if (await ping(h)) return makeDocker(h, false, undefined);
  }
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!dockerd) throw new Error('no Docker daemon answers and dockerd is not installed: run `bash test/tools/install-system.sh` (Debian docker.io)');
  // Unix socket paths are limited to 107 bytes; fall back to a short temp dir for deep checkouts.
  let sockDir = cacheDir;
  if (path.join(cacheDir, 'docker.sock').length > 100) sockDir = await mkdtemp(path.join(os.tmpdir(), 'cra-docker-'));
  const sock = path.join(sockDir, 'docker.sock');
  // One exec-root per data-root: two checkouts' daemons must not share containerd's sockets and state.
  const execRoot = path.join(os.tmpdir(), `cra-gate-docker-exec-${process.getuid?.() ?? 0}-${createHash('sha256').update(cacheDir).digest('hex').slice(0, 8)}`);
  await mkdir(path.join(cacheDir, 'data'), { recursive: true });
  await mkdir(execRoot, { recursive: true });
  const logFile = path.join(cacheDir, 'dockerd.log');
  log(`starting dockerd (vfs storage, no bridge, no iptables); log ${logFile}`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(
    dockerd,
    [
      `--host=unix://${sock}`,
      `--data-root=${path.join(cacheDir, 'data')}`,
      `--exec-root=${execRoot}`,
      `--pidfile=${path.join(cacheDir, 'dockerd.pid')}`,
      '--storage-driver=vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--ip-forward=false',
    ],
    { stdio: ['ignore', fd, fd], detached: false },
  );
  owned = proc;
  const host = `unix://${sock}`;
  try {
    await waitFor('dockerd to answer /_ping', async () => {
      if (proc.exitCode !== null) throw new Error(`dockerd exited with ${proc.exitCode}: ${tail(logFile)}`);
      return (await ping(host)) || undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  log('dockerd ready');
  return makeDocker(host, true, proc);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

function makeDocker(host: string, started: boolean, proc: ChildProcess | undefined): Docker {
  // Containers use host networking and there is no bridge network: testcontainers must not look for the
  // bridge's gateway to find the host.
  const overrides = { DOCKER_HOST: host, TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1' };
  const env = { ...process.env, ...overrides };
  Object.assign(process.env, overrides);
  return {
    host,
    env,
    started,
    docker: (args, opts = {}) => run('docker', args, { env, ...opts }),
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
      if (owned === proc) owned = undefined;
    },
  };
}

/** Shared libraries a binary needs, as absolute paths (from ldd). */
async function lddPaths(bin: string): Promise<string[]> {
  const out = await must('ldd', [bin]);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

/** The machine's npm package directory (the one `npm` on PATH runs). */
function hostNpmDir(): string {
  for (const p of ['/usr/lib/node_modules/npm', '/usr/local/lib/node_modules/npm', '/usr/share/nodejs/npm']) {
    if (existsSync(path.join(p, 'bin', 'npm-cli.js'))) return realpathSync(p);
  }
  throw new Error('npm not found on this machine (needed to make the local Node 24 base image)');
}

/**
 * Makes (once) the local Node 24 base image and returns its tag, e.g. `cra-gate/node-base:24-<hash>`.
 * `CRA_GATE_NODE_IMAGE` overrides it (e.g. `node:24-bookworm-slim` where a registry is reachable).
 */
export async function buildNodeBase(d: Docker): Promise<string> {
  if (process.env.CRA_GATE_NODE_IMAGE) return process.env.CRA_GATE_NODE_IMAGE;
  const nodeBin = realpathSync(path.join(repoRoot, 'node_modules', 'node', 'bin', 'node'));
  const nodeVersion = (await must(nodeBin, ['--version'])).trim();
  if (!nodeVersion.startsWith('v24.')) throw new Error(`node_modules/node is ${nodeVersion}, not Node 24`);
  const npmDir = hostNpmDir();
  const npmVersion = (JSON.parse(readFileSync(path.join(npmDir, 'package.json'), 'utf8')) as { version: string }).version;
  const lock = readFileSync(path.join(repoRoot, 'package-lock.json'));
  const hash = createHash('sha256').update(`${nodeVersion} npm ${npmVersion} recipe 1\n`).update(lock).digest('hex').slice(0, 12);
  const tag = `cra-gate/node-base:24-${hash}`;
  if ((await d.docker(['image', 'inspect', tag])).code === 0) {
    log(`base image ${tag} present`);
    return tag;
  }
  const t0 = Date.now();
  log(`making base image ${tag} (node ${nodeVersion}, npm ${npmVersion}, offline npm cache of the production dependencies)`);
  const stage = await mkdtemp(path.join(os.tmpdir(), 'cra-gate-base-'));
  try {
    const rootfs = path.join(stage, 'rootfs');
    for (const dir of ['usr/local/bin', 'usr/local/lib/node_modules', 'usr/bin', 'bin', 'etc', 'tmp', 'app', 'home/node']) {
      await mkdir(path.join(rootfs, dir), { recursive: true });
    }
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    // Executables and every shared library they load, at the same paths.
    const shell = realpathSync('/bin/sh');
    const env = realpathSync('/usr/bin/env');
    const libs = new Set<string>();
    for (const b of [nodeBin, shell, env]) for (const l of await lddPaths(b)) libs.add(l);
    for (const l of libs) {
      const dest = path.join(rootfs, l);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(realpathSync(l), dest);
    }
    await copyFile(nodeBin, path.join(rootfs, 'usr/local/bin/node'));
    await copyFile(shell, path.join(rootfs, 'bin/sh'));
    await copyFile(env, path.join(rootfs, 'usr/bin/env'));
    await cp(npmDir, path.join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: true });
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/local/bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', path.join(rootfs, 'usr/local/bin/npx'));
    await writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    await writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n');
    await writeFile(path.join(rootfs, 'etc/nsswitch.conf'), 'hosts: files dns\n');
    await writeFile(path.join(rootfs, 'etc/hosts'), '127.0.0.1 localhost\n');
    // The npm cache the Dockerfile's `npm ci --omit=dev` reads offline: filled by the machine's npm from the
    // lock file (its own cache makes this fast when warm).
    const work = path.join(stage, 'npm-work');
    await mkdir(work);
    await copyFile(path.join(repoRoot, 'package.json'), path.join(work, 'package.json'));
    await copyFile(path.join(repoRoot, 'package-lock.json'), path.join(work, 'package-lock.json'));
    const cacheInImage = path.join(rootfs, 'usr/local/share/npm-cache');
    await must('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline', '--cache', cacheInImage], {
      cwd: work,
      timeoutMs: 300_000,
    });
    await rm(path.join(cacheInImage, '_logs'), { recursive: true, force: true });
    const tarball = path.join(stage, 'rootfs.tar');
    await must('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', tarball, '.']);
    await must(
      'docker',
      [
        'import',
        '--change', 'ENV PATH=/usr/local/bin:/usr/bin:/bin',
        '--change', 'ENV npm_config_cache=/usr/local/share/npm-cache',
        '--change', 'ENV npm_config_offline=true',
        '--change', 'ENV npm_config_update_notifier=false',
        '--change', 'CMD ["node"]',
        tarball,
        tag,
      ],
      { env: d.env, timeoutMs: 300_000 },
    );
    log(`base image ${tag} made in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return tag;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** Minimal typing of the testcontainers@12 API this repo uses (loaded lazily: it is a devDependency). */
export interface TcStartedContainer {
  getId(): string;
  exec(cmd: string[], opts?: { user?: string }): Promise<{ exitCode: number; output: string; stdout: string; stderr: string }>;
  logs(): Promise<NodeJS.ReadableStream>;
  stop(opts?: { timeout?: number; remove?: boolean }): Promise<unknown>;
}
export interface TcGenericContainer {
  withNetworkMode(mode: string): TcGenericContainer;
  withCommand(cmd: string[]): TcGenericContainer;
  withEnvironment(env: Record<string, string>): TcGenericContainer;
  withBindMounts(m: { source: string; target: string; mode?: 'ro' | 'rw' }[]): TcGenericContainer;
  withTmpFs(t: Record<string, string>): TcGenericContainer;
  withDroppedCapabilities(...caps: string[]): TcGenericContainer;
  withSecurityOpt(...opts: string[]): TcGenericContainer;
  withWaitStrategy(w: unknown): TcGenericContainer;
  withStartupTimeout(ms: number): TcGenericContainer;
  withAutoRemove(b: boolean): TcGenericContainer;
  start(): Promise<TcStartedContainer>;
}
export interface Testcontainers {
  GenericContainer: {
    new (image: string): TcGenericContainer;
    fromDockerfile(context: string, dockerfile?: string): {
      withBuildArgs(a: Record<string, string>): { build(image?: string, opts?: { deleteOnExit: boolean }): Promise<unknown> };
    };
  };
  Wait: { forLogMessage(m: string | RegExp, times?: number): unknown; forHttp(path: string, port: number): unknown };
}

/** Imports testcontainers (a devDependency: `npm install -D testcontainers@12`), with a clear error when missing. */
export async function loadTestcontainers(): Promise<Testcontainers> {
  const name = 'testcontainers';
  try {
    return (await import(name)) as Testcontainers;
  } catch (err) {
    throw new Error(`testcontainers is not installed (npm install --save-dev testcontainers@12): ${(err as Error).message}`);
  }
}

/** SHA-256 of the files the image is built from (for a stable tag per source state). */
export async function contextHash(): Promise<string> {
  const h = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(repoRoot, rel);
    const { readdir } = await import('node:fs/promises');
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) h.update(r).update(await readFile(path.join(repoRoot, r)));
    }
  };
  for (const f of ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json']) h.update(f).update(await readFile(path.join(repoRoot, f)));
  for (const d of ['operator', 'crds', 'policies']) await walk(d);
  return h.digest('hex').slice(0, 12);
}

/**
 * The operator image of the current source state, `cra-gate/operator:test-<contextHash>`, built from the Dockerfile
 * on the local Node base (testcontainers) unless it exists. `prune`: first drop images of earlier source states and
 * dangling build layers (vfs stores every layer in full).
 */
export async function buildOperatorImage(d: Docker, opts: { prune?: boolean; log?: (line: string) => void } = {}): Promise<{ image: string; base: string }> {
  const base = await buildNodeBase(d);
  const image = `cra-gate/operator:test-${await contextHash()}`;
  if (opts.prune) {
    const old = (await d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=cra-gate/*'])).stdout
      .split('\n')
      .filter((ref) => ref && ref !== image && ref !== base);
    if (old.length) await d.docker(['rmi', '-f', ...old]);
    await d.docker(['image', 'prune', '-f']);
  }
  if ((await d.docker(['image', 'inspect', image])).code !== 0) {
    const tc = await loadTestcontainers();
    const t0 = Date.now();
    opts.log?.(`building ${image} from the Dockerfile on ${base} (testcontainers)`);
    await tc.GenericContainer.fromDockerfile(repoRoot).withBuildArgs({ NODE_IMAGE: base }).build(image, { deleteOnExit: false });
    opts.log?.(`built ${image} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  return { image, base };
}
