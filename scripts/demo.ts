/**
 * `npm run demo`: the operator end to end. On the cluster of KUBECONFIG (or ~/.kube/config) when one is
 * configured and reachable, otherwise on an embedded control plane (etcd + kube-apiserver built from the
 * Go module proxy on first use). Applies the CRDs, the baseline policy and two example releases, runs the
 * operator, shows `kubectl get productreleases` and explains each verdict.
 *
 * Flags: --embedded (always use the embedded control plane), --keep (leave everything running until Ctrl-C).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { startControlPlane, kubectlPath, type ControlPlane } from '../test/harness/controlplane.ts';
import { waitFor } from '../test/harness/wait.ts';
import type { ProductRelease } from '../operator/api/types.ts';
import { feedsAndKeys, startDemoSite, type DemoSite } from './demo-site.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({ options: { embedded: { type: 'boolean' }, keep: { type: 'boolean' } } });
const tty = process.stdout.isTTY;
const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string): string => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string): string => (tty ? `\x1b[31m${s}\x1b[0m` : s);
const yellow = (s: string): string => (tty ? `\x1b[33m${s}\x1b[0m` : s);
const step = (s: string): void => console.log(`${bold('==>')} ${s}`);

async function reachable(kc: KubeConfig): Promise<boolean> {
  try {
    const api = kc.makeApiClient(VersionApi);
    await Promise.race([api.getCode(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 5000).unref())]);
    return true;
  } catch {
    return false;
  }
}

async function configuredCluster(): Promise<string | undefined> {
  if (flags.embedded) return undefined;
  const file = process.env.KUBECONFIG || path.join(os.homedir(), '.kube', 'config');
  if (!existsSync(file.split(path.delimiter)[0] ?? file)) return undefined;
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (await reachable(kc)) return file;
  if (process.env.KUBECONFIG) throw new Error(`KUBECONFIG=${file} is set but its cluster does not answer; unset it to use the embedded control plane`);
  console.log(yellow(`~/.kube/config's cluster does not answer; using the embedded control plane`));
  return undefined;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}

/** The Secret and ConfigMaps policies/cra-baseline.yaml refers to, filled with the demo key and real feed data. */
async function main(): Promise<void> {
  let cp: ControlPlane | undefined;
  let operator: ChildProcess | undefined;
  let site: DemoSite | undefined;
  const cleanup = async (): Promise<void> => {
    if (operator && operator.exitCode === null) {
      operator.kill('SIGTERM');
      await new Promise((r) => operator?.once('exit', r));
    }
    await site?.close();
    if (cp) await cp.stop();
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    let kubeconfig = await configuredCluster();
    if (kubeconfig) {
      step(`using the configured cluster (${kubeconfig})`);
    } else {
      step('no cluster configured: starting an embedded control plane (etcd + kube-apiserver; the first run builds them from source, about 8 minutes on 2 cores)');
      const t0 = Date.now();
      cp = await startControlPlane({ log: (l) => console.log(`    ${l}`) });
      kubeconfig = cp.kubeconfigPath;
      console.log(`    control plane ready at ${cp.server} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const kubectlBin = existsSync(kubectlPath()) ? kubectlPath() : 'kubectl';
    const kubectl = async (args: string[], input?: string): Promise<string> => {
      const r = await run(kubectlBin, args, env, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${r.stderr || r.stdout}`);
      return r.stdout;
    };

    step('kubectl apply -f crds/');
    process.stdout.write(await kubectl(['apply', '-f', path.join(root, 'crds')]));
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/productreleases.cra-gate.dev', 'crd/releasepolicies.cra-gate.dev']);

    step('kubectl apply -f policies/cra-baseline.yaml');
    process.stdout.write(await kubectl(['apply', '-f', path.join(root, 'policies', 'cra-baseline.yaml')]));
    await kubectl(['create', 'namespace', 'cra-gate', '--dry-run=client', '-o', 'yaml']).then((y) => kubectl(['apply', '-f', '-'], y));

    step('serving the manufacturers\' web sites (examples/site/: security.txt, CVD policy, update channel, signed firmware) on 127.0.0.1');
    site = await startDemoSite(path.join(root, 'examples', 'site'), ['downloads.acme.example']);
    console.log(`    ${site.origin}  (https://<host>/… in the examples is rewritten to ${site.origin}/<host>/…)`);

    step('trusted signing key and vulnerability feeds the baseline policy names (Secret and ConfigMaps in cra-gate)');
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(feedsAndKeys(site.signingPublicKeyPem)));
    console.log('    secret/cra-gate-signing-keys, configmap/osv-feed (real OSV records), configmap/nvd-feed (real NVD records, CPE matching), configmap/kev-feed (the CISA KEV catalogue)');

    step('starting the operator (logs: .cache/demo/operator.log)');
    mkdirSync(path.join(root, '.cache', 'demo'), { recursive: true });
    const logFd = openSync(path.join(root, '.cache', 'demo', 'operator.log'), 'w');
    operator = spawn(process.execPath, [path.join(root, 'operator', 'main.ts'), '--namespace', 'cra-gate', '--metrics-bind', '127.0.0.1:0'], {
      env: { ...env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', CRA_GATE_HTTP_ALLOW_HOSTS: site.hostPort, CRA_GATE_HTTP_CA_FILE: site.caFile },
      stdio: ['ignore', logFd, logFd],
    });
    operator.on('exit', (code) => {
      if (code && code !== 0) console.error(red(`operator exited with ${code}; see .cache/demo/operator.log`));
    });

    step('kubectl apply -f examples/ (a compliant and a non-compliant release)');
    process.stdout.write(await kubectl(['apply', '-f', path.join(root, 'examples', 'namespace.yaml')]));
    for (const f of ['acme-router-2.4.0.yaml', 'legacy-camera-1.0.0.yaml']) {
      process.stdout.write(await kubectl(['apply', '-f', '-'], site.rewrite(readFileSync(path.join(root, 'examples', f), 'utf8'))));
    }

    step('waiting for the operator to decide every release');
    const releases = await waitFor(
      'every example release to have a decision',
      async () => {
        const list = yaml.load(await kubectl(['get', 'productreleases', '-A', '-o', 'json'])) as { items: ProductRelease[] };
        const undecided = list.items.filter((r) => !r.status?.decision || r.status.observedGeneration !== r.metadata.generation);
        return list.items.length > 0 && undecided.length === 0 ? list.items : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );

    step('kubectl get productreleases -A');
    process.stdout.write(await kubectl(['get', 'productreleases', '-A']));

    console.log(`\n${bold('Summary')}`);
    for (const r of releases) {
      const s = r.status;
      const d = s?.decision ?? 'Pending';
      const colour = d === 'Approved' ? green : d === 'Blocked' ? red : yellow;
      console.log(`  ${colour(d.padEnd(8))} ${r.metadata.namespace}/${r.metadata.name}  (${s?.summary?.passed ?? 0} passed, ${s?.summary?.failed ?? 0} failed, ${s?.summary?.warned ?? 0} warned)`);
      for (const c of s?.checks ?? []) {
        if (c.result === 'Pass') continue;
        console.log(`           ${c.result === 'Fail' || c.result === 'Error' ? red('✗') : '·'} ${c.id} [${c.enforcement}] ${c.reason}: ${c.message} (${c.cra?.length ? c.cra.join('; ') : `guidance: ${(c.guidance ?? []).join('; ')}`})`);
      }
    }
    const blocked = releases.filter((r) => r.status?.decision === 'Blocked').length;
    const approved = releases.filter((r) => r.status?.decision === 'Approved').length;
    console.log(`\n${approved} approved, ${blocked} blocked.${flags.keep ? '' : ' Run `npm run demo -- --keep` to explore with kubectl (describe, events, metrics).'}`);
    if (flags.keep) {
      console.log(`\nStill running. KUBECONFIG=${kubeconfig}  — press Ctrl-C to stop.`);
      await new Promise(() => undefined);
    }
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(red(`demo failed: ${(err as Error).message}`));
  process.exit(1);
});
