import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkPodSecurity, podSpecOf, rulesForLevel } from './pss.ts';
import type { PssLevel } from './pss.ts';

const RESTRICTED_POD = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

function pod(spec: Record<string, unknown>, meta: Record<string, unknown> = {}, kind = 'Pod'): { kind: string; apiVersion: string; object: Record<string, unknown> } {
  if (kind === 'Pod') return { kind, apiVersion: 'v1', object: { metadata: { name: 'p', ...meta }, spec } };
  return { kind, apiVersion: 'apps/v1', object: { metadata: { name: 'd' }, spec: { template: { metadata: meta, spec } } } };
}

function violations(doc: ReturnType<typeof pod>, level: PssLevel = 'restricted'): string[] {
  const loc = podSpecOf(doc);
  assert.ok(loc);
  return checkPodSecurity(loc, level).map((v) => `${v.rule} ${v.pointer}`);
}

const app = (sc: Record<string, unknown> = RESTRICTED_CONTAINER, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'app', image: 'x', securityContext: sc, ...extra });

describe('Pod Security Standards', () => {
  it('restricted replaces the baseline capability, hostPath, seccomp and procMount controls', () => {
    assert.ok(!rulesForLevel('restricted').includes('pss.capabilities-baseline'));
    assert.ok(rulesForLevel('restricted').includes('pss.capabilities-restricted'));
    assert.deepEqual(rulesForLevel('baseline').filter((r) => r.includes('restricted')), []);
  });

  it('a compliant pod has no violations; an empty one lacks every restricted default', () => {
    assert.deepEqual(violations(pod({ securityContext: RESTRICTED_POD, containers: [app()] })), []);
    assert.deepEqual(violations(pod({ containers: [{ name: 'app', image: 'x' }] })), [
      'pss.allow-privilege-escalation /spec/containers/0/securityContext/allowPrivilegeEscalation',
      'pss.run-as-non-root /spec/containers/0/securityContext/runAsNonRoot',
      'pss.seccomp-restricted /spec/containers/0/securityContext/seccompProfile',
      'pss.capabilities-restricted /spec/containers/0/securityContext/capabilities/drop',
    ]);
    assert.deepEqual(violations(pod({ containers: [{ name: 'app', image: 'x' }] }), 'baseline'), []);
  });

  it('finds pod specs in every workload kind, with pointers into the template', () => {
    const cron = { kind: 'CronJob', apiVersion: 'batch/v1', object: { spec: { jobTemplate: { spec: { template: { spec: { hostPID: true, securityContext: RESTRICTED_POD, containers: [app()] } } } } } } };
    assert.deepEqual(violations(cron), ['pss.host-namespaces /spec/jobTemplate/spec/template/spec/hostPID']);
    const tmpl = { kind: 'PodTemplate', apiVersion: 'v1', object: { template: { spec: { hostIPC: true, securityContext: RESTRICTED_POD, containers: [app()] } } } };
    assert.deepEqual(violations(tmpl), ['pss.host-namespaces /template/spec/hostIPC']);
    assert.equal(podSpecOf({ kind: 'Service', apiVersion: 'v1', object: {} }), undefined);
    assert.equal(podSpecOf({ kind: 'Deployment', apiVersion: 'example.com/v1', object: { spec: { template: {} } } }), undefined);
  });

  it('hostNetwork defaults hostPort on Pods (as the API server does) but not on templates', () => {
    const spec = { hostNetwork: true, securityContext: RESTRICTED_POD, containers: [app(RESTRICTED_CONTAINER, { ports: [{ containerPort: 8080 }] })] };
    assert.deepEqual(violations(pod(spec)), ['pss.host-namespaces /spec/hostNetwork', 'pss.host-ports /spec/containers/0/ports/0/hostPort']);
    assert.deepEqual(violations(pod(spec, {}, 'Deployment')), ['pss.host-namespaces /spec/template/spec/hostNetwork']);
  });

  it('Windows pods are exempt from privilege escalation, seccomp and capabilities; hostUsers=false relaxes user checks', () => {
    assert.deepEqual(violations(pod({ os: { name: 'windows' }, securityContext: { runAsNonRoot: true }, containers: [{ name: 'app', image: 'x' }] })), []);
    assert.deepEqual(violations(pod({ hostUsers: false, securityContext: { runAsUser: 0, seccompProfile: { type: 'RuntimeDefault' } }, containers: [app()] })), []);
    const unmasked = pod({ hostUsers: false, securityContext: RESTRICTED_POD, containers: [app({ ...RESTRICTED_CONTAINER, procMount: 'Unmasked' })] });
    assert.deepEqual(violations(unmasked, 'baseline'), []);
    assert.deepEqual(violations(unmasked), ['pss.proc-mount-restricted /spec/containers/0/securityContext/procMount']);
  });

  it('baseline controls report one violation per offending field', () => {
    const spec = {
      securityContext: { ...RESTRICTED_POD, sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.msgmax', value: '1' }], seLinuxOptions: { role: 'sysadm_r' } },
      initContainers: [app({ ...RESTRICTED_CONTAINER, seccompProfile: { type: 'Unconfined' } })],
      containers: [app({ allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'NET_RAW'] }, appArmorProfile: { type: 'Unconfined' } }, {
        livenessProbe: { tcpSocket: { host: 'db', port: 5432 } },
        lifecycle: { preStop: { httpGet: { host: 'x', port: 80 } } },
      })],
      volumes: [{ name: 'a', configMap: { name: 'c' } }, { name: 'b', hostPath: { path: '/' } }],
    };
    assert.deepEqual(violations(pod(spec, { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'localhost/ok', 'container.apparmor.security.beta.kubernetes.io/x': 'unconfined' } }), 'baseline'), [
      'pss.capabilities-baseline /spec/containers/0/securityContext/capabilities/add/1',
      'pss.host-path-volumes /spec/volumes/1/hostPath',
      'pss.host-probes /spec/containers/0/livenessProbe/tcpSocket/host',
      'pss.host-probes /spec/containers/0/lifecycle/preStop/httpGet/host',
      'pss.apparmor /spec/containers/0/securityContext/appArmorProfile/type',
      'pss.apparmor /metadata/annotations/container.apparmor.security.beta.kubernetes.io~1x',
      'pss.selinux /spec/securityContext/seLinuxOptions/role',
      'pss.seccomp-baseline /spec/initContainers/0/securityContext/seccompProfile/type',
      'pss.sysctls /spec/securityContext/sysctls/1/name',
    ]);
  });
});
