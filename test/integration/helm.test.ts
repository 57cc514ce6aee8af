/**
 * The Helm chart against real components: helm (built from the Go module proxy by test/tools/go-tools.sh)
 * lints it strictly and renders it with several value sets, each applied with a server-side dry-run to a real
 * kube-apiserver; values.schema.json rejects bad values with clear messages; `helm install` puts it into the
 * test cluster; and its RBAC is true: the operator runs a scenario as the chart's ServiceAccount (a token from
 * the TokenRequest API) and `kubectl auth can-i` shows what that account must not do.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { baselinePolicy, compliantRelease, repoRoot, startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { toolsBin } from '../harness/controlplane.ts';
import { waitFor } from '../harness/wait.ts';

const CHART = path.join(repoRoot, 'charts', 'cra-gate');
const KUBE_VERSION = '1.36.3';

function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { cwd: repoRoot, env: opts.env ?? process.env, timeout: 300_000, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function helmBinary(): Promise<string> {
  const bin = path.join(toolsBin(), 'helm');
  if (!existsSync(bin)) {
    const r = await exec('bash', [path.join(repoRoot, 'test', 'tools', 'go-tools.sh'), 'helm']);
    assert.equal(r.code, 0, `building helm failed: ${r.stderr}`);
  }
  return bin;
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

/** Minimal structural CRDs for the prometheus-operator kinds the chart renders (only for server-side dry-run). */
const MONITORING_CRDS = ['ServiceMonitor', 'PrometheusRule'].map((kind) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${kind.toLowerCase()}s.monitoring.coreos.com` },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: { kind, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(), listKind: `${kind}List` },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
}));

describe('Helm chart', () => {
  let helm: string;
  let cluster: Cluster;
  let env: NodeJS.ProcessEnv;
  let tmp: string;
  let op: OperatorProcess | undefined;

  const template = async (sets: string[], namespace = 'cra-gate'): Promise<{ code: number; docs: K8sObject[]; stdout: string; stderr: string }> => {
    const r = await exec(helm, ['template', 'cra-gate', CHART, '-n', namespace, '--kube-version', KUBE_VERSION, ...sets.flatMap((s) => ['--set', s])], { env });
    const docs = r.code === 0 ? (yaml.loadAll(r.stdout).filter(Boolean) as K8sObject[]) : [];
    return { ...r, docs };
  };

  before(async () => {
    helm = await helmBinary();
    cluster = await startCluster();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'cra-gate-helm-'));
    env = { ...process.env, KUBECONFIG: cluster.cp.kubeconfigPath, HELM_CACHE_HOME: path.join(tmp, 'cache'), HELM_CONFIG_HOME: path.join(tmp, 'config'), HELM_DATA_HOME: path.join(tmp, 'data') };
    for (const crd of MONITORING_CRDS) await cluster.apply(crd);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("the chart's crds/ is identical to the top-level crds/", () => {
    const top = readdirSync(path.join(repoRoot, 'crds')).sort();
    const chart = readdirSync(path.join(CHART, 'crds')).sort();
    assert.deepEqual(chart, top, 'same files (copy crds/*.yaml to charts/cra-gate/crds/)');
    for (const f of top) {
      assert.ok(readFileSync(path.join(repoRoot, 'crds', f)).equals(readFileSync(path.join(CHART, 'crds', f))), `charts/cra-gate/crds/${f} differs from crds/${f}: copy it`);
    }
  });

  it('helm lint --strict passes with several value sets', async () => {
    for (const sets of [[], ['serviceMonitor.enabled=true,prometheusRule.enabled=true,networkPolicy.enabled=true,defaultReleasePolicy.enabled=true'], ['replicaCount=1,operator.leaderElection.enabled=false'], ['webhook.enabled=true,networkPolicy.webhookSourceCIDRs={10.0.0.0/24}'], ['webhook.enabled=true,networkPolicy.enabled=false'], ['webhook.enabled=true,webhook.certManager.enabled=true,networkPolicy.webhookAllowAnySource=true']]) {
      const r = await exec(helm, ['lint', '--strict', CHART, '--kube-version', KUBE_VERSION, ...sets.flatMap((s) => ['--set', s])], { env });
      assert.equal(r.code, 0, `helm lint --strict ${sets.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('values.schema.json rejects bad values with the field and the reason', async () => {
    const cases: [string, RegExp][] = [
      ['replicaCount=-1', /\/replicaCount.*minimum/],
      ['image.pullPolicy=Sometimes', /\/image\/pullPolicy.*one of/],
      ['image.digest=sha256:xyz', /\/image\/digest.*(pattern|match)/],
      ['operator.concurrency=100', /\/operator\/concurrency.*maximum/],
      ['operator.logLevel=verbose', /\/operator\/logLevel.*one of/],
      ['operator.defaultPolicy=Not_A_Name', /\/operator\/defaultPolicy.*(pattern|match)/],
      ['securityContext.allowPrivilegeEscalation=true', /\/securityContext\/allowPrivilegeEscalation.*false/],
      ['podSecurityContext.runAsNonRoot=false', /\/podSecurityContext\/runAsNonRoot.*true/],
      ['grafanaDashboard.labelValue=1', /\/grafanaDashboard\/labelValue.*string/],
      ['serviceMonitor.interval=soon', /\/serviceMonitor\/interval.*(pattern|match)/],
      ['terminationGracePeriodSeconds=5', /\/terminationGracePeriodSeconds.*minimum/],
      ['replicas=3', /additional properties 'replicas' not allowed/],
      ['webhook.timeoutSeconds=60', /\/webhook\/timeoutSeconds.*maximum/],
      ['webhook.exemptServiceAccounts={nobody}', /\/webhook\/exemptServiceAccounts\/0.*(pattern|match)/],
      ['networkPolicy.webhookSourceCIDRs={10.0.0.1}', /\/networkPolicy\/webhookSourceCIDRs\/0.*(pattern|match)/],
    ];
    for (const [set, message] of cases) {
      const r = await template([set]);
      assert.notEqual(r.code, 0, `${set} must be rejected`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/, set);
      assert.match(r.stderr, message, `${set}: ${r.stderr}`);
    }
    const r = await template(['replicaCount=3,operator.leaderElection.enabled=false']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /replicaCount > 1 needs operator.leaderElection.enabled=true/);
    // The webhook behind the default NetworkPolicy needs the API server's source CIDRs (never open by accident).
    const open = await template(['webhook.enabled=true']);
    assert.notEqual(open.code, 0);
    assert.match(open.stderr, /networkPolicy\.webhookSourceCIDRs: list the CIDRs the API server calls the admission webhook from/);
  });

  it('renders with several value sets, each accepted by the real kube-apiserver (server-side dry-run)', async () => {
    await cluster.kubectl(['create', 'namespace', 'monitoring']);
    await cluster.kubectl(['label', 'namespace', 'cra-gate', 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
    const sets: { name: string; set: string[]; check: (docs: K8sObject[]) => void }[] = [
      {
        name: 'defaults',
        set: [],
        check: (docs) => {
          const kinds = docs.map((d) => d.kind).sort();
          for (const k of ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']) assert.ok(kinds.includes(k), k);
          assert.ok(!kinds.includes('ServiceMonitor') && !kinds.includes('ReleasePolicy'));
          // NetworkPolicy on by default: ingress to the metrics port only (no webhook port without the webhook).
          const np = docs.find((d) => d.kind === 'NetworkPolicy') as unknown as { spec: { policyTypes: string[]; ingress: { ports: { port: string }[]; from?: unknown[] }[] } };
          assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
          assert.deepEqual(np.spec.ingress.map((i) => i.ports.map((p) => p.port)), [['http-metrics']]);
          const dep = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: { securityContext: Record<string, unknown>; livenessProbe: unknown; readinessProbe: unknown; resources: unknown }[] } } } };
          assert.equal(dep.spec.replicas, 2);
          const c = dep.spec.template.spec.containers[0]!;
          assert.equal(c.securityContext.readOnlyRootFilesystem, true);
          assert.ok(c.livenessProbe && c.readinessProbe && c.resources);
          const cm = docs.find((d) => d.kind === 'ConfigMap')!;
          assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
          const json = (cm as unknown as { data: Record<string, string> }).data['cra-gate.json']!;
          assert.equal(json, readFileSync(path.join(CHART, 'dashboards', 'cra-gate.json'), 'utf8').trimEnd(), 'the ConfigMap carries the dashboard file');
          const compliance = (cm as unknown as { data: Record<string, string> }).data['cra-compliance.json']!;
          assert.equal(compliance, readFileSync(path.join(CHART, 'dashboards', 'cra-compliance.json'), 'utf8').trimEnd(), 'and the CRA compliance dashboard');
          const env = (dep.spec.template.spec.containers[0] as unknown as { env: { name: string; value?: string; valueFrom?: unknown }[] }).env;
          assert.equal(env.find((e) => e.name === 'CRA_GATE_PER_RELEASE_METRICS')?.value, 'true');
          // Issue 16: the memory budget follows the container's limit (downward API), sized from measurement.
          assert.deepEqual(env.find((e) => e.name === 'CRA_GATE_MEMORY_LIMIT')?.valueFrom, { resourceFieldRef: { containerName: 'operator', resource: 'limits.memory', divisor: '1' } });
          assert.deepEqual(c.resources, { requests: { cpu: '50m', memory: '320Mi' }, limits: { memory: '768Mi' } });
        },
      },
      {
        name: 'everything on, kube-prometheus-stack labels, dashboard elsewhere',
        set: [
          'serviceMonitor.enabled=true,serviceMonitor.additionalLabels.release=kps,prometheusRule.enabled=true,prometheusRule.additionalLabels.release=kps',
          'networkPolicy.enabled=true,defaultReleasePolicy.enabled=true',
          'grafanaDashboard.namespace=monitoring,grafanaDashboard.label=my_dashboards,grafanaDashboard.labelValue=yes,grafanaDashboard.folder=Compliance',
          'image.digest=sha256:' + 'a'.repeat(64),
        ],
        check: (docs) => {
          const sm = docs.find((d) => d.kind === 'ServiceMonitor')!;
          assert.equal(sm.metadata.labels?.release, 'kps');
          const pr = docs.find((d) => d.kind === 'PrometheusRule')!;
          assert.equal(pr.metadata.labels?.release, 'kps');
          const rules = yaml.load(readFileSync(path.join(CHART, 'files', 'cra-gate.rules.yaml'), 'utf8'));
          assert.deepEqual((pr as unknown as { spec: unknown }).spec, rules, 'the PrometheusRule carries the plain rule file');
          const cm = docs.find((d) => d.kind === 'ConfigMap')!;
          assert.equal(cm.metadata.namespace, 'monitoring');
          assert.equal(cm.metadata.labels?.my_dashboards, 'yes');
          assert.equal(cm.metadata.annotations?.grafana_folder, 'Compliance');
          assert.ok(docs.some((d) => d.kind === 'NetworkPolicy'));
          assert.ok(docs.some((d) => d.kind === 'ReleasePolicy' && d.metadata.name === 'cra-baseline'));
          const dep = JSON.stringify(docs.find((d) => d.kind === 'Deployment'));
          assert.match(dep, /ghcr\.io\/cra-gate\/cra-gate@sha256:a{64}/);
        },
      },
      {
        name: 'one replica without leader election: no PDB, no Lease role',
        set: ['replicaCount=1,operator.leaderElection.enabled=false'],
        check: (docs) => {
          assert.ok(!docs.some((d) => d.kind === 'PodDisruptionBudget'));
          assert.ok(!docs.some((d) => d.kind === 'Role' && d.metadata.name.endsWith('leader-election')));
        },
      },
      {
        name: 'admission webhook on (operator-bootstrapped TLS), NetworkPolicy on',
        set: ['webhook.enabled=true,webhook.exemptNamespaces={ops-tools}', 'networkPolicy.webhookSourceCIDRs={10.0.0.0/24,192.168.10.0/28}'],
        check: (docs) => {
          const vwc = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration') as unknown as K8sObject & { webhooks: { name: string; failurePolicy: string; sideEffects: string; clientConfig: { service: { name: string; namespace: string; path: string; port: number }; caBundle?: string }; namespaceSelector: { matchExpressions: { key: string; values: string[] }[] } }[] };
          assert.equal(vwc.metadata.name, 'cra-gate');
          assert.deepEqual(vwc.webhooks.map((w) => [w.name, w.clientConfig.service.path, w.failurePolicy, w.sideEffects]), [
            ['enforce.admission.cra-gate.dev', '/validate/enforce', 'Fail', 'NoneOnDryRun'],
            ['observe.admission.cra-gate.dev', '/validate/observe', 'Ignore', 'NoneOnDryRun'],
          ]);
          for (const w of vwc.webhooks) {
            assert.deepEqual(w.clientConfig.service, { name: 'cra-gate-webhook', namespace: 'cra-gate', path: w.clientConfig.service.path, port: 443 });
            assert.equal(w.clientConfig.caBundle, undefined, 'caBundle is the operator’s');
            assert.deepEqual(w.namespaceSelector.matchExpressions.find((e) => e.key === 'kubernetes.io/metadata.name')?.values, ['kube-system', 'cra-gate']);
          }
          assert.deepEqual(vwc.webhooks.map((w) => w.namespaceSelector.matchExpressions.find((e) => e.key === 'cra-gate.dev/admission')?.values), [['enforce'], ['warn', 'audit']]);
          const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'cra-gate-webhook') as unknown as { spec: { ports: { port: number; targetPort: string }[] } };
          assert.deepEqual(svc.spec.ports.map((p) => [p.port, p.targetPort]), [[443, 'https-webhook']]);
          const dep = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[]; ports: { name: string; containerPort: number }[] }[] } } } };
          const c = dep.spec.template.spec.containers[0]!;
          const envOf = new Map(c.env.map((e) => [e.name, e.value]));
          assert.equal(envOf.get('CRA_GATE_WEBHOOK'), 'true');
          assert.equal(envOf.get('CRA_GATE_WEBHOOK_BIND'), '0.0.0.0:9443');
          assert.equal(envOf.get('CRA_GATE_WEBHOOK_CONFIG_NAME'), 'cra-gate');
          assert.equal(envOf.get('CRA_GATE_WEBHOOK_DNS_NAMES'), 'cra-gate-webhook.cra-gate.svc,cra-gate-webhook.cra-gate.svc.cluster.local');
          assert.equal(envOf.get('CRA_GATE_WEBHOOK_EXEMPT_NAMESPACES'), 'ops-tools');
          assert.ok(c.ports.some((p) => p.name === 'https-webhook' && p.containerPort === 9443));
          const cr = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'cra-gate-webhook') as unknown as { rules: { resources: string[]; verbs: string[]; resourceNames?: string[] }[] };
          assert.ok(cr.rules.some((r) => r.resources.includes('validatingwebhookconfigurations') && r.verbs.includes('patch') && r.resourceNames?.join() === 'cra-gate'));
          // Every pod-bearing kind and pods/ephemeralcontainers (kubectl debug) are sent to the webhook.
          const rules = (vwc as unknown as { webhooks: { rules: { resources: string[] }[] }[] }).webhooks.map((w) => w.rules.flatMap((r) => r.resources).sort());
          for (const r of rules) assert.deepEqual(r, ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'pods/ephemeralcontainers', 'replicasets', 'replicationcontrollers', 'statefulsets']);
          // Reviews only from the API server's CIDRs; metrics separately.
          const np = docs.find((d) => d.kind === 'NetworkPolicy') as unknown as { spec: { ingress: { ports: { port: string }[]; from?: { ipBlock?: { cidr: string } }[] }[] } };
          const webhookIngress = np.spec.ingress.filter((i) => i.ports.some((p) => p.port === 'https-webhook'));
          assert.equal(webhookIngress.length, 1, 'the NetworkPolicy admits reviews');
          assert.deepEqual(webhookIngress[0]!.from?.map((f) => f.ipBlock?.cidr), ['10.0.0.0/24', '192.168.10.0/28']);
          assert.ok(np.spec.ingress.every((i) => i.ports.every((p) => p.port !== 'https-webhook') || i.ports.length === 1), 'the metrics port is a separate rule');
        },
      },
      {
        name: 'one namespace watched: release access through a Role there',
        set: ['operator.watchNamespace=monitoring'],
        check: (docs) => {
          const cr = docs.find((d) => d.kind === 'ClusterRole') as unknown as { rules: { resources: string[] }[] };
          assert.ok(!cr.rules.some((r) => r.resources.includes('productreleases') || r.resources.includes('configmaps')));
          assert.ok(docs.some((d) => d.kind === 'Role' && d.metadata.namespace === 'monitoring'));
        },
      },
    ];
    for (const s of sets) {
      const r = await template(s.set);
      assert.equal(r.code, 0, `${s.name}: ${r.stderr}`);
      s.check(r.docs);
      const manifest = r.stdout;
      const applied = await cluster.cp.kubectl(['apply', '--dry-run=server', '--server-side', '--field-manager=helm-test', '-f', '-'], { input: manifest });
      assert.equal(applied.code, 0, `${s.name}: ${applied.stderr}`);
      assert.doesNotMatch(applied.stderr, /would violate PodSecurity/, `${s.name}: Pod Security "restricted"`);
    }
  });

  it('helm install puts the chart into the cluster; helm upgrade and uninstall work (CRDs stay)', async () => {
    const r = await exec(helm, ['install', 'cra-gate', CHART, '-n', 'cra-gate-system', '--create-namespace', '--set', 'image.tag=test', '--timeout', '60s'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /STATUS: deployed/);
    assert.match(r.stdout, /kubectl apply --server-side -f crds\//, 'NOTES.txt explains CRD upgrades');
    const objs = JSON.parse(await cluster.kubectl(['get', 'deployment,serviceaccount,service,poddisruptionbudget,configmap,role,rolebinding', '-n', 'cra-gate-system', '-l', 'app.kubernetes.io/instance=cra-gate', '-o', 'json'])) as { items: K8sObject[] };
    const kinds = new Set(objs.items.map((o) => o.kind));
    for (const k of ['Deployment', 'ServiceAccount', 'Service', 'PodDisruptionBudget', 'ConfigMap', 'Role', 'RoleBinding']) assert.ok(kinds.has(k), k);
    const up = await exec(helm, ['upgrade', 'cra-gate', CHART, '-n', 'cra-gate-system', '--reuse-values', '--set', 'replicaCount=1', '--timeout', '60s'], { env });
    assert.equal(up.code, 0, up.stderr);
    const dep = JSON.parse(await cluster.kubectl(['get', 'deployment', '-n', 'cra-gate-system', 'cra-gate', '-o', 'json'])) as { spec: { replicas: number } };
    assert.equal(dep.spec.replicas, 1);
    assert.equal((await cluster.cp.kubectl(['get', 'pdb', '-n', 'cra-gate-system', 'cra-gate'])).code !== 0, true, 'no PDB with one replica');
    const back = await exec(helm, ['upgrade', 'cra-gate', CHART, '-n', 'cra-gate-system', '--reuse-values', '--set', 'replicaCount=2', '--timeout', '60s'], { env });
    assert.equal(back.code, 0, back.stderr);
  });

  it('RBAC is true: the operator works as the chart’s ServiceAccount, and that account cannot do what it must not', async () => {
    const sa = 'system:serviceaccount:cra-gate-system:cra-gate';
    const token = (await cluster.kubectl(['create', 'token', 'cra-gate', '-n', 'cra-gate-system', '--duration=1h'])).trim();
    const kubeconfig = path.join(tmp, 'sa.kubeconfig');
    await writeFile(
      kubeconfig,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: cluster.cp.server, 'certificate-authority': cluster.cp.caFile } }],
        users: [{ name: 'cra-gate', user: { token } }],
        contexts: [{ name: 'cra-gate', context: { cluster: 'test', user: 'cra-gate', namespace: 'cra-gate-system' } }],
        'current-context': 'cra-gate',
      }),
      { mode: 0o600 },
    );
    const who = await cluster.cp.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig });
    assert.equal(who.stdout, sa);

    await cluster.apply(baselinePolicy());
    const ns = await cluster.namespace('rbac');
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'evidence', namespace: ns }, data: { note: 'readable evidence' } });
    // Secret references (issue #14 item 9): the operator's namespace, plus one namespace opted in by label and
    // by the chart's rbac.evidenceSecretNamespaces; the release namespace `ns` has not opted in.
    const optin = await cluster.namespace('rbac-optin');
    await cluster.kubectl(['label', 'namespace', optin, 'cra-gate.dev/evidence-secrets=allow']);
    const opt = await exec(helm, ['upgrade', 'cra-gate', CHART, '-n', 'cra-gate-system', '--reuse-values', '--set', `rbac.evidenceSecretNamespaces={${optin}}`, '--timeout', '60s'], { env });
    assert.equal(opt.code, 0, opt.stderr);
    const SECRET = 'TOPSECRET-rbac-51c2';
    for (const [namespace, name] of [[ns, 'team-key'], [optin, 'key'], ['cra-gate-system', 'own-key']] as const) {
      await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name }, stringData: { 'cosign.pub': `${SECRET} not a key` } });
    }
    const secretCases = [['sa-team', ns, 'team-key'], ['sa-optin', optin, 'key'], ['sa-own', 'cra-gate-system', 'own-key']] as const;
    for (const [name, namespace, secret] of secretCases) {
      await cluster.apply({ apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ReleasePolicy', metadata: { name }, spec: { checks: [{ id: 'signature.valid', enforcement: 'Block' }], signing: { keys: [{ secretRef: { namespace, name: secret, key: 'cosign.pub' } }] } } });
    }
    op = startOperator({ kubeconfig, identity: 'cra-gate-sa-0', namespace: 'cra-gate-system' });
    await op.port();
    await cluster.apply(compliantRelease(ns, 'router-2-4-0'));
    await cluster.apply(compliantRelease(ns, 'camera-1-0-0', { spec: { updates: { channel: 'https://vendor.example/fw.json', automatic: true, supportEnd: '2029-01' } } }));
    assert.equal((await waitForDecision(cluster, ns, 'router-2-4-0', undefined, 90_000)).status?.decision, 'Approved');
    assert.equal((await waitForDecision(cluster, ns, 'camera-1-0-0', undefined, 90_000)).status?.decision, 'Blocked');
    const lease = JSON.parse(await cluster.kubectl(['get', 'lease', '-n', 'cra-gate-system', 'cra-gate-operator', '-o', 'json'])) as { spec: { holderIdentity: string } };
    assert.equal(lease.spec.holderIdentity, 'cra-gate-sa-0', 'leader election works with the chart’s Role');
    await waitFor('Events written by the ServiceAccount', async () => {
      const ev = JSON.parse(await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])) as { items: { reason: string }[] };
      return ev.items.some((e) => e.reason === 'Blocked') && ev.items.some((e) => e.reason === 'Approved') ? true : undefined;
    });
    for (const [name] of secretCases) await cluster.apply(compliantRelease(ns, name, { spec: { policyRef: name } }));
    const sigOf = async (name: string) => (await waitForDecision(cluster, ns, name, undefined, 90_000)).status!.checks!.find((c) => c.id === 'signature.valid')!;
    const team = await sigOf('sa-team');
    assert.equal(team.reason, 'SecretRefNotAllowed', team.message);
    for (const name of ['sa-optin', 'sa-own']) {
      const c = await sigOf(name);
      assert.equal(c.reason, 'SigningConfigInvalid', `${name}: ${c.message}`);
      assert.match(c.message ?? '', /is not a PEM public key/, `${name}: the Secret was read with the chart's RBAC`);
    }
    const seen = await cluster.kubectl(['get', 'productreleases,events.events.k8s.io', '-n', ns, '-o', 'json']);
    assert.doesNotMatch(seen, new RegExp(SECRET), 'no Secret content in status or Events');
    assert.deepEqual(op.logs.filter((l) => JSON.stringify(l).includes(SECRET)), [], 'no Secret content in logs');
    // Match an HTTP 403, not any "403" (ports and timestamps contain those digits too).
    const forbiddenLogs = op.logs.filter((l) => /forbidden|"(?:code|statusCode)":403\b|HTTP 403\b/i.test(JSON.stringify(l)));
    assert.deepEqual(forbiddenLogs, [], 'the operator never met a 403');

    const can = async (args: string[]): Promise<boolean> => {
      const r = await cluster.cp.kubectl(['auth', 'can-i', ...args, `--as=${sa}`]);
      return r.stdout.trim() === 'yes';
    };
    const allowed = [
      ['list', 'productreleases.cra-gate.dev', '-A'],
      ['watch', 'releasepolicies.cra-gate.dev'],
      ['patch', 'productreleases.cra-gate.dev', '--subresource=status', '-n', ns],
      ['get', 'configmaps', '-n', ns],
      ['watch', 'configmaps', '-n', ns],
      ['get', 'secrets', '-n', 'cra-gate-system'],
      ['get', 'secrets', '-n', optin],
      ['get', 'namespaces'],
      ['create', 'events.events.k8s.io', '-n', ns],
      ['update', 'leases.coordination.k8s.io/cra-gate-operator', '-n', 'cra-gate-system'],
    ];
    for (const a of allowed) assert.equal(await can(a), true, `may ${a.join(' ')}`);
    const denied = [
      ['get', 'secrets', '-n', ns],
      ['get', 'secrets', '-n', 'kube-system'],
      ['get', 'secrets', '-A'],
      ['list', 'namespaces'],
      ['create', 'secrets', '-A'],
      ['update', 'secrets', '-n', 'cra-gate-system'],
      ['list', 'secrets', '-A'],
      ['watch', 'secrets', '-n', ns],
      ['delete', 'secrets', '-n', ns],
      ['delete', 'productreleases.cra-gate.dev', '-n', ns],
      ['update', 'productreleases.cra-gate.dev', '-n', ns],
      ['patch', 'productreleases.cra-gate.dev', '-n', ns],
      ['create', 'productreleases.cra-gate.dev', '-n', ns],
      ['delete', 'releasepolicies.cra-gate.dev'],
      ['update', 'releasepolicies.cra-gate.dev'],
      ['update', 'configmaps', '-n', ns],
      ['create', 'leases.coordination.k8s.io', '-n', ns],
      ['update', 'leases.coordination.k8s.io/other-lease', '-n', 'cra-gate-system'],
      ['delete', 'leases.coordination.k8s.io/cra-gate-operator', '-n', 'cra-gate-system'],
      ['create', 'pods', '-n', 'cra-gate-system'],
      ['create', 'clusterrolebindings'],
      ['impersonate', 'serviceaccounts'],
      ['delete', 'events.events.k8s.io', '-n', ns],
      ['update', 'customresourcedefinitions.apiextensions.k8s.io'],
    ];
    for (const d of denied) assert.equal(await can(d), false, `must not ${d.join(' ')}`);

    // The admission webhook's RBAC (docs/admission.md), after an upgrade that enables it.
    const wh = await exec(helm, ['upgrade', 'cra-gate', CHART, '-n', 'cra-gate-system', '--reuse-values', '--set', 'webhook.enabled=true,networkPolicy.webhookSourceCIDRs={127.0.0.0/8}', '--timeout', '60s'], { env });
    assert.equal(wh.code, 0, wh.stderr);
    const vwc = JSON.parse(await cluster.kubectl(['get', 'validatingwebhookconfiguration', 'cra-gate', '-o', 'json'])) as { webhooks: { name: string }[] };
    assert.deepEqual(vwc.webhooks.map((w) => w.name), ['enforce.admission.cra-gate.dev', 'observe.admission.cra-gate.dev']);
    for (const a of [
      ['patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io/cra-gate'],
      ['get', 'validatingwebhookconfigurations.admissionregistration.k8s.io/cra-gate'],
      ['list', 'validatingwebhookconfigurations.admissionregistration.k8s.io'],
      ['watch', 'validatingwebhookconfigurations.admissionregistration.k8s.io'],
      ['list', 'namespaces'],
      ['watch', 'namespaces'],
      ['get', 'secrets/cra-gate-webhook-ca', '-n', 'cra-gate-system'],
      ['update', 'secrets/cra-gate-webhook-ca', '-n', 'cra-gate-system'],
      ['create', 'secrets', '-n', 'cra-gate-system'],
    ]) assert.equal(await can(a), true, `webhook may ${a.join(' ')}`);
    for (const d of [
      ['patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io/other'],
      ['delete', 'validatingwebhookconfigurations.admissionregistration.k8s.io/cra-gate'],
      ['create', 'validatingwebhookconfigurations.admissionregistration.k8s.io'],
      ['patch', 'mutatingwebhookconfigurations.admissionregistration.k8s.io/cra-gate'],
      ['update', 'namespaces'],
      ['update', 'secrets/other', '-n', 'cra-gate-system'],
      ['create', 'secrets', '-n', ns],
      ['list', 'secrets', '-n', 'cra-gate-system'],
    ]) assert.equal(await can(d), false, `webhook must not ${d.join(' ')}`);
    const off = await exec(helm, ['upgrade', 'cra-gate', CHART, '-n', 'cra-gate-system', '--reuse-values', '--set', 'webhook.enabled=false', '--timeout', '60s'], { env });
    assert.equal(off.code, 0, off.stderr);
    assert.notEqual((await cluster.cp.kubectl(['get', 'validatingwebhookconfiguration', 'cra-gate'])).code, 0, 'disabling removes the configuration');
    assert.equal(await op.stop(), 0);
    op = undefined;
  });

  it('helm uninstall removes the release but keeps the CRDs', async () => {
    const r = await exec(helm, ['uninstall', 'cra-gate', '-n', 'cra-gate-system', '--timeout', '60s'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await cluster.cp.kubectl(['get', 'deployment', '-n', 'cra-gate-system', 'cra-gate'])).code !== 0, true);
    assert.equal((await cluster.cp.kubectl(['get', 'crd', 'productreleases.cra-gate.dev'])).code, 0);
  });
});
