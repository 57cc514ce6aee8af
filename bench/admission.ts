/**
 * `node bench/admission.ts` — 1,000 admission reviews through the real kube-apiserver: the operator's
 * controller (signing decisions) and webhook run in this process; the API server calls the webhook over
 * HTTPS on loopback (clientConfig.url, bootstrapped caBundle). Pods are created with dryRun=All (admission runs,
 * nothing is stored), sequentially, from one client:
 *  - baseline: a namespace the webhook configuration does not select;
 *  - gated: an enforce namespace, the image of an Approved (signed) release.
 * Reported: webhook handler time (inside the webhook, exact per request) and the client-observed API latency
 * of both, whose difference is the latency the gate adds. Writes its section of docs/benchmarks.md.
 */
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startCluster, compliantRelease, baselinePolicy, waitForDecision } from '../test/harness/fixture.ts';
import { createLogger } from '../operator/log.ts';
import { createMetrics } from '../operator/metrics.ts';
import { EventRecorder } from '../operator/kube/events.ts';
import { ReleaseController } from '../operator/controller/controller.ts';
import { createEvidenceRuntime } from '../operator/evidence/runtime.ts';
import { loadOrCreateDecisionKeys } from '../operator/attestation/keys.ts';
import { startWebhook } from '../operator/webhook/server.ts';
import { parseWebhookConfig } from '../operator/webhook/options.ts';

const N = 1000;
const WARMUP = 50;
const IMAGE = `registry.acme.example/router@sha256:${'a'.repeat(64)}`;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
/** A difference of two noisy percentiles: below zero means "lost in the noise". */
const delta = (s: number) => (s > 0 ? ms(s) : `≤ 0 (noise; ${ms(s)})`);

const cluster = await startCluster();
const log = createLogger({ env: { LOG_LEVEL: 'warn' } });
let stopAll = async (): Promise<void> => {};
try {
  const baseNs = await cluster.namespace('bench-base');
  const gatedNs = await cluster.namespace('bench-gated');
  await cluster.kubectl(['label', 'namespace', gatedNs, 'cra-gate.dev/admission=enforce']);
  const relNs = await cluster.namespace('bench-rel');
  // A release covers its own namespace only; the policy grants the release namespace the gated one.
  const policy = baselinePolicy() as { spec: Record<string, unknown> };
  policy.spec.admission = { releaseNamespaces: [{ namespace: relNs, workloadNamespaces: [gatedNs] }] };
  await cluster.apply(policy);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.cp.kubeconfigPath);
  const metrics = createMetrics();
  const events = new EventRecorder({ kubeConfig: kc, log, reportingInstance: 'bench' });
  const keys = await loadOrCreateDecisionKeys(kc, 'cra-gate');
  const evidence = createEvidenceRuntime({ network: 'allow' });
  const controller = new ReleaseController({ kubeConfig: kc, log, metrics, events, defaultPolicy: 'cra-baseline', concurrency: 2, evidence, signingKey: () => keys.signing });
  await controller.startInformers();
  controller.startLeading();
  const { webhook: config } = parseWebhookConfig({ 'webhook-bind': '127.0.0.1:0', 'webhook-ip-addresses': '127.0.0.1' }, {}, 'cra-gate');
  // The configuration must exist before the bootstrap patches it; its URL needs the port: bind first, then apply.
  const webhook = await startWebhook({
    kubeConfig: kc, log, registry: metrics.registry, releases: controller.releases, policies: controller.policies,
    defaultPolicy: 'cra-baseline', namespace: 'cra-gate', config: { ...config, configName: 'cra-gate' }, keys: () => keys.verifying, events,
    registryOptions: evidence.registry,
  });
  stopAll = async () => {
    await webhook.close();
    await controller.stop(5000);
  };
  const rules = [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'], scope: 'Namespaced' }];
  await cluster.apply({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'cra-gate' },
    webhooks: [{
      name: 'enforce.admission.cra-gate.dev', clientConfig: { url: `https://127.0.0.1:${webhook.port}/validate/enforce` }, rules,
      namespaceSelector: { matchLabels: { 'cra-gate.dev/admission': 'enforce' } }, failurePolicy: 'Fail', sideEffects: 'NoneOnDryRun',
      admissionReviewVersions: ['v1'], timeoutSeconds: 5,
    }],
  });
  await cluster.apply(compliantRelease(relNs, 'router'));
  await waitForDecision(cluster, relNs, 'router', (r) => r.status?.decision === 'Approved' && !!r.status.attestation);

  const api = kc.makeApiClient(CoreV1Api);
  const pod = (ns: string): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'bench-', namespace: ns }, spec: { containers: [{ name: 'main', image: IMAGE }] } });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await api.createNamespacedPod({ namespace: gatedNs, body: pod(gatedNs), dryRun: 'All' });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const run = async (ns: string, n: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await api.createNamespacedPod({ namespace: ns, body: pod(ns), dryRun: 'All' });
      out.push((performance.now() - t) / 1000);
    }
    return out;
  };
  await run(baseNs, WARMUP);
  await run(gatedNs, WARMUP);
  // Interleaved (gated, baseline, gated, …) so that load from elsewhere on the machine hits both alike.
  const before = webhook.recentDurations().length;
  const started = performance.now();
  const gated: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < N; i++) {
    gated.push(...(await run(gatedNs, 1)));
    base.push(...(await run(baseNs, 1)));
  }
  const gatedWall = (performance.now() - started) / 1000;
  gated.sort((a, b) => a - b);
  base.sort((a, b) => a - b);
  const handler = webhook.recentDurations().slice(before).sort((a, b) => a - b);
  if (handler.length !== N) throw new Error(`expected ${N} webhook reviews, saw ${handler.length}`);

  const row = (name: string, xs: number[]) => `| ${name} | ${ms(pct(xs, 50))} | ${ms(pct(xs, 99))} | ${ms(xs[xs.length - 1]!)} |`;
  const cpu = cpus();
  const section = `<!-- bench:admission -->
## Admission webhook: ${N.toLocaleString('en')} reviews through the real kube-apiserver

\`node bench/admission.ts\` — Pods created with \`dryRun=All\` (admission runs, nothing is stored), one after another from one
client, after ${WARMUP} warm-up requests each. The operator's controller (signing decisions) and webhook run in the benchmark
process; the kube-apiserver calls the webhook over HTTPS on loopback (\`clientConfig.url\`, caBundle from the CA bootstrap).
Gated requests: an \`enforce\` namespace, the image of an Approved release (digest-pinned; the webhook looks up the release by
digest and verifies its Ed25519 DSSE decision, cached per resourceVersion). Baseline: a namespace the webhook does not select.

| | p50 | p99 | max |
|---|---:|---:|---:|
${row('webhook handler (inside the webhook)', handler)}
${row('API request, gated (client-observed)', gated)}
${row('API request, baseline (no webhook)', base)}
| **added API latency** (gated − baseline) | **${delta(pct(gated, 50) - pct(base, 50))}** | **${delta(pct(gated, 99) - pct(base, 99))}** | |

${N} gated and ${N} baseline requests, interleaved, in ${gatedWall.toFixed(1)} s. Every review was allowed; \`timeoutSeconds: 5\`.

Machine: ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}; API server,
etcd and the benchmark share the CPUs. Measured ${new Date().toISOString().slice(0, 10)}.
<!-- /bench:admission -->`;
  console.log(section);
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'benchmarks.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const re = /<!-- bench:admission -->[\s\S]*?<!-- \/bench:admission -->/;
  writeFileSync(file, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`);
} finally {
  await stopAll();
  await cluster.stop();
}
process.exit(0);
