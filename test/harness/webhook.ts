/**
 * The ValidatingWebhookConfiguration the admission suites register: the chart's entries and rules
 * (charts/cra-gate/templates/webhook.yaml), pointed at the operator's webhook on loopback through `clientConfig.url`.
 */
import { createServer } from 'node:net';

/** The rules of the chart: every pod-bearing kind, plus pods/ephemeralcontainers (kubectl debug). */
export const WEBHOOK_RULES = [
  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods', 'pods/ephemeralcontainers', 'replicationcontrollers'], scope: 'Namespaced' },
  { apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], scope: 'Namespaced' },
  { apiGroups: ['batch'], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['jobs', 'cronjobs'], scope: 'Namespaced' },
];

export function webhookConfiguration(port: number, name = 'cra-gate'): unknown {
  const entry = (entryName: string, path: string, values: string[], failurePolicy: string) => ({
    name: entryName,
    clientConfig: { url: `https://127.0.0.1:${port}${path}` },
    rules: WEBHOOK_RULES,
    namespaceSelector: {
      matchExpressions: [
        { key: 'cra-gate.dev/admission', operator: 'In', values },
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'cra-gate'] },
      ],
    },
    failurePolicy,
    sideEffects: 'NoneOnDryRun',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: 5,
    matchPolicy: 'Equivalent',
  });
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      entry('enforce.admission.cra-gate.dev', '/validate/enforce', ['enforce'], 'Fail'),
      entry('observe.admission.cra-gate.dev', '/validate/observe', ['warn', 'audit'], 'Ignore'),
    ],
  };
}

export function deployment(ns: string, name: string, image: string): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
    },
  };
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
