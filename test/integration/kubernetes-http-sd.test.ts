/**
 * The HTTP service discovery the end-to-end suite gives Debian's Prometheus (test/harness/kubernetes-http-sd.ts),
 * on a kube-apiserver without nodes: a Service and its EndpointSlice written by hand (no controller manager runs
 * here) point at two small /metrics servers on this host. Prometheus (http_sd_configs, the relabeling a user
 * writes for kubernetes_sd_configs) scrapes the endpoint the slice names as job "cra-gate" with its pod label; when
 * the slice is changed (the Pod replaced) the old target goes and the new one is scraped, without touching
 * Prometheus.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import { startControlPlane, type ControlPlane } from '../harness/controlplane.ts';
import { podsScrapeConfig, startKubernetesHttpSd, type KubernetesHttpSd } from '../harness/kubernetes-http-sd.ts';
import { startPrometheus, type Prometheus } from '../harness/prometheus.ts';
import { waitFor } from '../harness/wait.ts';

const NS = 'cra-gate';
const SVC = 'cra-gate-metrics';

describe('HTTP service discovery from the Kubernetes API (for a Prometheus without kubernetes_sd_configs)', () => {
  let cp: ControlPlane;
  let sd: KubernetesHttpSd;
  let prom: Prometheus;
  const servers: http.Server[] = [];
  const ports: number[] = [];

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await cp.kubectl(args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: exit ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const slice = (pod: string, port: number): string =>
    JSON.stringify({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${SVC}-abcde`, namespace: NS, labels: { 'kubernetes.io/service-name': SVC } },
      addressType: 'IPv4',
      // The address the fake "Pod" serves on; the port differs per Pod (both listen on this host).
      endpoints: [{ addresses: [hostAddress()], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: NS, name: pod }, nodeName: 'node-1' }],
      ports: [{ name: 'http-metrics', port, protocol: 'TCP' }, { name: 'other', port: 1, protocol: 'TCP' }],
    });
  const scraped = async (): Promise<{ pod?: string; instance?: string; job?: string; namespace?: string; service?: string }[]> =>
    (await prom.query('up == 1')).map((s) => s.metric);

  before(async () => {
    for (const pod of ['op-a', 'op-b']) {
      const s = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`# TYPE cra_gate_leader gauge\ncra_gate_leader{pod_name="${pod}"} 1\n`));
      await new Promise<void>((r) => s.listen(0, '0.0.0.0', () => r()));
      servers.push(s);
      ports.push((s.address() as net.AddressInfo).port);
    }
    cp = await startControlPlane();
    await kubectl(['create', 'namespace', NS]);
    await kubectl(['create', 'service', 'clusterip', SVC, '-n', NS, '--tcp=8080:8080']);
    await kubectl(['label', 'service', SVC, '-n', NS, 'app.kubernetes.io/name=cra-gate']);
    await kubectl(['apply', '-f', '-'], slice('op-a', ports[0]!));
    sd = await startKubernetesHttpSd({ kubeconfigPath: cp.kubeconfigPath, services: [{ namespace: NS, name: SVC }] });
    prom = await startPrometheus({ scrapeConfigs: [podsScrapeConfig(sd.url, NS, SVC)] });
  });

  after(async () => {
    await prom?.stop();
    await sd?.close();
    await cp?.stop();
    for (const s of servers) s.close();
  });

  it('the slice’s endpoint is scraped as job cra-gate with pod, namespace and service labels; the other port is dropped', async () => {
    const up = await waitFor('the endpoint scraped', async () => {
      const r = await scraped();
      return r.length > 0 ? r : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    assert.deepEqual(up, [{ __name__: 'up', job: 'cra-gate', instance: `${hostAddress()}:${ports[0]}`, pod: 'op-a', namespace: NS, service: SVC }]);
    const targets = await prom.api<{ activeTargets: unknown[]; droppedTargets: { discoveredLabels: Record<string, string> }[] }>('/api/v1/targets');
    assert.equal(targets.activeTargets.length, 1);
    assert.ok(targets.droppedTargets.some((t) => t.discoveredLabels.__meta_kubernetes_endpointslice_port_name === 'other'), 'the other port is discovered and dropped by the relabeling');
    assert.ok(sd.polls().answered > 0);
  });

  it('the Pod replaced (the slice changed): the old target goes, the new one is scraped, Prometheus untouched', async () => {
    await kubectl(['apply', '-f', '-'], slice('op-b', ports[1]!));
    const up = await waitFor('only op-b scraped', async () => {
      const r = await scraped();
      return r.length === 1 && r[0]!.pod === 'op-b' ? r : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    assert.equal(up[0]!.instance, `${hostAddress()}:${ports[1]}`);
    const targets = await prom.api<{ activeTargets: { labels: Record<string, string> }[] }>('/api/v1/targets');
    assert.deepEqual(targets.activeTargets.map((t) => t.labels.pod), ['op-b']);
  });
});

/** An address of this host that is not loopback (EndpointSlice validation refuses 127.0.0.0/8). */
function hostAddress(): string {
  const a = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (!a) throw new Error('this host has no non-loopback IPv4 address for the EndpointSlice');
  return a;
}
