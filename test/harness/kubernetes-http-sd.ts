/**
 * Kubernetes service discovery for a Prometheus built without it. Debian's prometheus (2.42.0+ds) leaves out
 * `kubernetes_sd_configs` ("field kubernetes_sd_configs not found in type config.ScrapeConfig") but has
 * `http_sd_configs`: this is an HTTP SD endpoint on loopback that answers every poll from the live Kubernetes API —
 * the EndpointSlices of the named Services — with the target labels `kubernetes_sd_configs` (role `endpointslice`)
 * gives: `__meta_kubernetes_namespace`, `__meta_kubernetes_service_name`, `__meta_kubernetes_service_label_*`,
 * `__meta_kubernetes_endpointslice_name`, `__meta_kubernetes_endpointslice_port_name`,
 * `__meta_kubernetes_endpointslice_endpoint_conditions_{ready,serving,terminating}`, `__meta_kubernetes_pod_name`,
 * `__meta_kubernetes_pod_ip`, `__meta_kubernetes_pod_node_name`. So a Pod that is deleted or replaced leaves or
 * joins the targets at the next refresh, and the scrape config's relabeling is the one a user writes for
 * `kubernetes_sd_configs` (see `podsScrapeConfig`).
 *
 * With a full Prometheus, use `kubernetes_sd_configs: [{role: endpointslice, namespaces: {names: [cra-gate]}}]`
 * and the same `relabel_configs`, or the chart's ServiceMonitor (`serviceMonitor.enabled=true`) with the
 * prometheus-operator.
 */
import http from 'node:http';
import type net from 'node:net';
import * as k8s from '@kubernetes/client-node';

export interface KubernetesHttpSd {
  /** The URL to put in `http_sd_configs[].url`. */
  url: string;
  /** Polls answered so far (from the API) and failed (HTTP 500: Prometheus keeps its last targets). */
  polls(): { answered: number; failed: number };
  close(): Promise<void>;
}

export interface KubernetesHttpSdOptions {
  kubeconfigPath: string;
  /** The Services whose EndpointSlices are the targets. */
  services: { namespace: string; name: string }[];
}

interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

const labelName = (k: string): string => k.replace(/[^a-zA-Z0-9_]/g, '_');

export async function startKubernetesHttpSd(opts: KubernetesHttpSdOptions): Promise<KubernetesHttpSd> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let answered = 0;
  let failed = 0;

  const groups = async (): Promise<TargetGroup[]> => {
    const out: TargetGroup[] = [];
    for (const { namespace, name } of opts.services) {
      const svc = await core.readNamespacedService({ namespace, name });
      const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` });
      const svcLabels: Record<string, string> = {
        __meta_kubernetes_namespace: namespace,
        __meta_kubernetes_service_name: name,
      };
      for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) svcLabels[`__meta_kubernetes_service_label_${labelName(k)}`] = v;
      for (const slice of slices.items) {
        for (const ep of slice.endpoints ?? []) {
          for (const port of slice.ports ?? []) {
            for (const addr of ep.addresses) {
              const labels: Record<string, string> = {
                ...svcLabels,
                __meta_kubernetes_endpointslice_name: slice.metadata?.name ?? '',
                __meta_kubernetes_endpointslice_address_type: slice.addressType,
                __meta_kubernetes_endpointslice_port: String(port.port ?? ''),
                __meta_kubernetes_endpointslice_port_name: port.name ?? '',
                __meta_kubernetes_endpointslice_port_protocol: port.protocol ?? '',
                __meta_kubernetes_endpointslice_endpoint_conditions_ready: String(ep.conditions?.ready ?? false),
                __meta_kubernetes_endpointslice_endpoint_conditions_serving: String(ep.conditions?.serving ?? false),
                __meta_kubernetes_endpointslice_endpoint_conditions_terminating: String(ep.conditions?.terminating ?? false),
              };
              if (ep.nodeName) labels.__meta_kubernetes_pod_node_name = ep.nodeName;
              if (ep.targetRef?.kind === 'Pod') {
                labels.__meta_kubernetes_pod_name = ep.targetRef.name ?? '';
                labels.__meta_kubernetes_pod_ip = addr;
              }
              out.push({ targets: [`${addr.includes(':') ? `[${addr}]` : addr}:${port.port}`], labels });
            }
          }
        }
      }
    }
    return out;
  };

  const server = http.createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    groups().then(
      (g) => {
        answered++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(g));
      },
      (err: unknown) => {
        failed++;
        res.writeHead(500, { 'content-type': 'text/plain' }).end(err instanceof Error ? err.message : String(err));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/targets`,
    polls: () => ({ answered, failed }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The scrape job a user writes for the chart's operator Pods (release `release` in `namespace`), here over
 * `http_sd_configs` (with `kubernetes_sd_configs: [{role: endpointslice, namespaces: {names: [<namespace>]}}]`
 * instead of it, the relabeling is the same): the metrics Service's `http-metrics` port, job `cra-gate` (what the
 * dashboards and the alert rules select), `instance` the Pod's address, `pod`, `namespace` and `service` labels.
 * honor_labels as the chart's ServiceMonitor: the release metrics' own `namespace` label is kept.
 */
export function podsScrapeConfig(sdUrl: string, namespace: string, service: string, opts: { interval?: string } = {}): Record<string, unknown> {
  return {
    job_name: 'cra-gate',
    honor_labels: true,
    ...(opts.interval ? { scrape_interval: opts.interval, scrape_timeout: opts.interval } : {}),
    http_sd_configs: [{ url: sdUrl, refresh_interval: '1s' }],
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_namespace', '__meta_kubernetes_service_name', '__meta_kubernetes_endpointslice_port_name'], regex: `${namespace};${service};http-metrics`, action: 'keep' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    ],
  };
}
