/**
 * config.secure-defaults on a real kube-apiserver.
 *
 * Oracle: the API server's own PodSecurity admission. Every object of the fixtures is created with
 * server-side dry-run in a namespace labelled enforce=restricted + warn=restricted; the Pods it rejects and
 * the pod templates it warns about must be exactly those our check flags on its PSS rules — and rule by
 * rule: the admission reasons ("host namespaces", "unrestricted capabilities", …) map onto our rule ids.
 *
 * End to end: the real operator blocks a release whose secureDefaults ConfigMap holds insecure manifests
 * and settings, and approves the hardened one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { baselinePolicy, compliantRelease, repoRoot, startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { parseManifests } from '../../operator/secure-defaults/parse.ts';
import { analyze } from '../../operator/secure-defaults/analyze.ts';
import { podSpecOf } from '../../operator/secure-defaults/pss.ts';
import type { ManifestDoc } from '../../operator/secure-defaults/types.ts';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'secure-defaults');
const read = (rel: string): string => readFileSync(path.join(fixtures, rel), 'utf8');

/** PodSecurity admission's ForbiddenReason strings (k8s.io/pod-security-admission/policy) → our rule ids (restricted level). */
const ADMISSION_REASONS: Readonly<Record<string, string>> = {
  'allowPrivilegeEscalation != false': 'pss.allow-privilege-escalation',
  'forbidden AppArmor profile': 'pss.apparmor',
  'forbidden AppArmor profiles': 'pss.apparmor',
  'non-default capabilities': 'pss.capabilities-baseline',
  'unrestricted capabilities': 'pss.capabilities-restricted',
  'host namespaces': 'pss.host-namespaces',
  'hostPath volumes': 'pss.host-path-volumes',
  hostPort: 'pss.host-ports',
  hostProcess: 'pss.host-process',
  privileged: 'pss.privileged',
  'probe or lifecycle host': 'pss.host-probes',
  procMount: 'pss.proc-mount-restricted',
  'restricted volume types': 'pss.volume-types',
  'runAsNonRoot != true': 'pss.run-as-non-root',
  'runAsUser=0': 'pss.run-as-user',
  seLinuxOptions: 'pss.selinux',
  seccompProfile: 'pss.seccomp-restricted',
  'forbidden sysctls': 'pss.sysctls',
};

/** `violates PodSecurity "restricted:latest": reason (detail), reason (detail)` → our rule ids. */
function admissionRules(text: string): string[] {
  const m = /(?:would violate|violates) PodSecurity "restricted:latest": (.*)/.exec(text);
  if (!m) return [];
  const rules = new Set<string>();
  for (const r of m[1]!.matchAll(/(?:^|\), )([^(),]+?) \(/g)) {
    const reason = r[1]!.trim();
    const id = ADMISSION_REASONS[reason];
    assert.ok(id, `unknown PodSecurity reason ${JSON.stringify(reason)} in: ${text}`);
    rules.add(id);
  }
  return [...rules].sort();
}

function ourPssRules(docs: readonly ManifestDoc[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const f of analyze({ manifests: docs, settings: [], rules: [] })) {
    if (f.category !== 'pod-security') continue;
    const index = Number(f.pointer.split('/')[2]);
    out.set(index, [...new Set([...(out.get(index) ?? []), f.rule])].sort());
  }
  return out;
}

describe('config.secure-defaults on a real kube-apiserver', () => {
  let cluster: Cluster;
  let pssNs: string;

  before(async () => {
    cluster = await startCluster();
    pssNs = await cluster.namespace('pss');
    await cluster.kubectl(['label', 'namespace', pssNs, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
  });

  after(async () => {
    await cluster?.stop();
  });

  /** Dry-run create one object; returns the PSS rules admission reported and whether it rejected. */
  async function admit(doc: ManifestDoc): Promise<{ rejected: boolean; warned: boolean; rules: string[] }> {
    const r = await cluster.cp.kubectl(['create', '--dry-run=server', '-n', pssNs, '-f', '-'], { input: JSON.stringify(doc.object) });
    const rejected = r.code !== 0;
    if (rejected) assert.match(r.stderr, /violates PodSecurity/, `${doc.kind}/${doc.name} was rejected for another reason: ${r.stderr}`);
    const warned = /would violate PodSecurity/.test(r.stderr);
    return { rejected, warned, rules: admissionRules(r.stderr) };
  }

  for (const fixture of ['pss-matrix', 'insecure', 'hardened']) {
    it(`${fixture}: PodSecurity admission rejects/warns exactly the objects and controls our PSS rules flag`, async () => {
      const docs = parseManifests([{ name: 'manifests.yaml', text: read(`${fixture}/manifests.yaml`) }]);
      const ours = ourPssRules(docs);
      let pods = 0;
      let templates = 0;
      for (const doc of docs) {
        const loc = podSpecOf(doc);
        if (!loc) continue;
        const got = await admit(doc);
        const mine = ours.get(doc.index) ?? [];
        const what = `${doc.kind}/${doc.name}`;
        if (loc.isPod) {
          pods++;
          assert.equal(got.rejected, mine.length > 0, `${what}: admission ${got.rejected ? 'rejected' : 'admitted'} it, we flagged ${JSON.stringify(mine)}`);
        } else {
          templates++;
          assert.equal(got.rejected, false, `${what}: a template is only warned about`);
          assert.equal(got.warned, mine.length > 0, `${what}: admission ${got.warned ? 'warned' : 'did not warn'}, we flagged ${JSON.stringify(mine)}`);
        }
        assert.deepEqual(mine, got.rules, `${what}: the same controls`);
      }
      assert.ok(pods + templates > 0);
    });
  }

  it('pss-matrix: our PSS rules match the hand-written expectations too', () => {
    const docs = parseManifests([{ name: 'manifests.yaml', text: read('pss-matrix/manifests.yaml') }]);
    const expected = JSON.parse(read('pss-matrix/expected.json')) as Record<string, string[]>;
    const ours = ourPssRules(docs);
    const actual: Record<string, string[]> = {};
    for (const d of docs) actual[`${d.kind}/${d.name}`] = ours.get(d.index) ?? [];
    assert.deepEqual(actual, Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [...v].sort()])));
  });

  describe('end to end with the operator', () => {
    let op: OperatorProcess;
    let ns: string;

    before(async () => {
      const policy = baselinePolicy('sd-policy') as { spec: { checks: { id: string; enforcement: string }[] } };
      policy.spec.checks.push({ id: 'config.secure-defaults', enforcement: 'Block' });
      await cluster.apply(policy);
      ns = await cluster.namespace('shop');
      for (const name of ['insecure', 'hardened']) {
        await cluster.apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `${name}-manifests`, namespace: ns },
          data: { 'manifests.yaml': read(`${name}/manifests.yaml`) },
        });
        await cluster.apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `${name}-settings`, namespace: ns },
          data: { 'settings.yaml': read(`${name}/settings.yaml`) },
        });
      }
      op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'op-sd', args: ['--leader-elect', 'false'] });
      await op.port();
    });

    after(async () => {
      await op?.stop();
    });

    const release = (name: string, source: string): unknown =>
      compliantRelease(ns, name, {
        spec: {
          policyRef: 'sd-policy',
          secureDefaults: {
            manifests: { configMapRef: { name: `${source}-manifests` } },
            settings: { configMapRef: { name: `${source}-settings`, key: 'settings.yaml' } },
          },
        },
      });

    it('blocks a release whose shipped defaults are insecure', async () => {
      await cluster.apply(release('shop-1-0-0', 'insecure'));
      const r = await waitForDecision(cluster, ns, 'shop-1-0-0', (x) => x.status?.decision === 'Blocked');
      const c = r.status?.checks?.find((x) => x.id === 'config.secure-defaults');
      assert.equal(c?.result, 'Fail', c?.message);
      assert.equal(c?.reason, 'DefaultCredentials');
      assert.match(c?.message ?? '', /30 findings in 7 objects/);
      assert.match(c?.evidence ?? '', /^sha256:[0-9a-f]{64} sha256:[0-9a-f]{64}$/);
      assert.doesNotMatch(JSON.stringify(r.status), /changeme|AKIAQX4T7LZ2M5N8P3RK|q8Zr2LmX7vKp4TnW9sYb3HcJ6fDg1QeA/, 'no secret value in the status');
      for (const other of r.status?.checks ?? []) if (other.id !== 'config.secure-defaults') assert.equal(other.result, 'Pass', other.id);
    });

    it('approves a release whose shipped defaults are hardened', async () => {
      await cluster.apply(release('router-2-4-0', 'hardened'));
      const r = await waitForDecision(cluster, ns, 'router-2-4-0', (x) => x.status?.decision === 'Approved');
      const c = r.status?.checks?.find((x) => x.id === 'config.secure-defaults');
      assert.equal(c?.result, 'Pass', c?.message);
      assert.match(c?.message ?? '', /6 objects and 1 settings file meet Pod Security restricted/);
    });

    it('a missing secureDefaults ConfigMap is an Error (fail closed), not a pass', async () => {
      await cluster.apply(compliantRelease(ns, 'gone-1-0-0', {
        spec: { policyRef: 'sd-policy', secureDefaults: { manifests: { configMapRef: { name: 'does-not-exist' } } } },
      }));
      const r = await waitForDecision(cluster, ns, 'gone-1-0-0', (x) => x.status?.decision === 'Blocked' || x.status?.decision === 'Pending');
      const c = r.status?.checks?.find((x) => x.id === 'config.secure-defaults');
      assert.notEqual(r.status?.decision, 'Approved');
      assert.ok(c, 'the check is listed');
      assert.equal(c.result, 'Error');
      assert.match(c.message ?? '', /does-not-exist not found/);
    });
  });
});
