/**
 * config.secure-defaults on a real kube-apiserver.
 *
 * Oracle: the API server's own PodSecurity admission. Every object of the fixtures is created with
 * server-side dry-run in a namespace labelled enforce=restricted + warn=restricted; the Pods it rejects and
 * the pod templates it warns about must be exactly those our check flags on its PSS rules — and rule by
 * rule: the admission reasons ("host namespaces", "unrestricted capabilities", …) map onto our rule ids.
 * Each document is sent as its own YAML bytes (kubectl reads them with sigs.k8s.io/yaml, go-yaml v2), so the
 * YAML 1.1 fixture (`privileged: yes`, `hostNetwork: on`, `runAsUser: 0x0`, …) proves that our loader reads
 * what the API server runs: the same verdicts, and — in a namespace without Pod Security — the same values.
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
import { parseYamlStream } from '../../operator/validation/yaml.ts';

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
  let plainNs: string;

  before(async () => {
    cluster = await startCluster();
    pssNs = await cluster.namespace('pss');
    await cluster.kubectl(['label', 'namespace', pssNs, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
    plainNs = await cluster.namespace('yaml');
  });

  after(async () => {
    await cluster?.stop();
  });

  /** The fixture's documents with each one's own YAML text (the same bytes kubectl is given). */
  function documents(fixture: string): { doc: ManifestDoc; yaml: string }[] {
    const text = read(`${fixture}/manifests.yaml`);
    const docs = parseManifests([{ name: 'manifests.yaml', text }]);
    const texts = parseYamlStream(text).map((d) => d.text);
    assert.equal(texts.length, docs.length, `${fixture}: one YAML text per object (no Lists in the fixtures)`);
    return docs.map((doc, i) => ({ doc, yaml: texts[i]! }));
  }

  /** Dry-run create one object from its YAML bytes; returns the PSS rules admission reported and whether it rejected. */
  async function admit(doc: ManifestDoc, yamlText: string): Promise<{ rejected: boolean; warned: boolean; rules: string[] }> {
    const r = await cluster.cp.kubectl(['create', '--dry-run=server', '-n', pssNs, '-f', '-'], { input: yamlText });
    const rejected = r.code !== 0;
    if (rejected) assert.match(r.stderr, /violates PodSecurity/, `${doc.kind}/${doc.name} was rejected for another reason: ${r.stderr}`);
    const warned = /would violate PodSecurity/.test(r.stderr);
    return { rejected, warned, rules: admissionRules(r.stderr) };
  }

  for (const fixture of ['pss-matrix', 'insecure', 'hardened', 'yaml11']) {
    it(`${fixture}: PodSecurity admission rejects/warns exactly the objects and controls our PSS rules flag`, async () => {
      const pairs = documents(fixture);
      const ours = ourPssRules(pairs.map((p) => p.doc));
      let pods = 0;
      let templates = 0;
      for (const { doc, yaml } of pairs) {
        const loc = podSpecOf(doc);
        if (!loc) continue;
        const got = await admit(doc, yaml);
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

  for (const fixture of ['pss-matrix', 'yaml11']) {
    it(`${fixture}: our PSS rules match the hand-written expectations too`, () => {
      const docs = parseManifests([{ name: 'manifests.yaml', text: read(`${fixture}/manifests.yaml`) }]);
      const expected = JSON.parse(read(`${fixture}/expected.json`)) as Record<string, string[]>;
      const ours = ourPssRules(docs);
      const actual: Record<string, string[]> = {};
      for (const d of docs) actual[`${d.kind}/${d.name}`] = ours.get(d.index) ?? [];
      assert.deepEqual(actual, Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [...v].sort()])));
    });
  }

  it('yaml11: the API server reads every value of the same YAML bytes as our loader does', async () => {
    let leaves = 0;
    for (const { doc, yaml } of documents('yaml11')) {
      const r = await cluster.cp.kubectl(['create', '--dry-run=server', '-n', plainNs, '-o', 'json', '-f', '-'], { input: yaml });
      assert.equal(r.code, 0, `${doc.kind}/${doc.name}: ${r.stderr}`);
      const server = JSON.parse(r.stdout) as unknown;
      // Every value we read is the value the API server stored (it adds defaults, which we do not compare).
      const walk = (ours: unknown, theirs: unknown, pointer: string): void => {
        if (typeof ours === 'object' && ours !== null) {
          assert.equal(typeof theirs, 'object', `${doc.kind}/${doc.name} ${pointer}: the server has ${JSON.stringify(theirs)}`);
          for (const [k, v] of Object.entries(ours)) walk(v, (theirs as Record<string, unknown>)[k], `${pointer}/${k}`);
          return;
        }
        leaves++;
        assert.deepEqual(theirs, ours, `${doc.kind}/${doc.name} ${pointer}`);
      };
      walk(doc.object, server, '');
    }
    assert.ok(leaves > 50, `${leaves} values compared`);
    // the spellings this fixture is about, as the server stored them
    const hardened = JSON.parse((await cluster.cp.kubectl(['create', '--dry-run=server', '-n', plainNs, '-o', 'json', '-f', '-'], { input: documents('yaml11').find((p) => p.doc.name === 'yaml11-hardened')!.yaml })).stdout) as {
      metadata: { annotations: Record<string, unknown> };
      spec: { activeDeadlineSeconds: number; securityContext: { runAsUser: number; fsGroup: number }; volumes: { configMap: { defaultMode: number } }[] };
    };
    assert.deepEqual([hardened.metadata.annotations.built, hardened.spec.activeDeadlineSeconds, hardened.spec.securityContext.runAsUser, hardened.spec.securityContext.fsGroup, hardened.spec.volumes[0]!.configMap.defaultMode], ['2027-11-30', 15, 1000, 1000, 0o440]);
  });

  it('YAML whose meaning is ambiguous or that the API server refuses is never a pass for us', async () => {
    // Duplicate keys (YAML forbids them): kubectl silently keeps the last value; we refuse the document
    // (MalformedSecureDefaults → the check is Error), stricter than the API server and never a pass.
    for (const [name, body, key, last] of [['dup', '  a: "1"\n  a: "2"\n', 'a', '2'], ['onkey', '  on: "1"\n  y: "2"\n', 'true', '2']] as const) {
      const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata:\n${body}`;
      const r = await cluster.cp.kubectl(['create', '--dry-run=server', '-n', plainNs, '-o', 'json', '-f', '-'], { input: text });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { data: Record<string, string> }).data[key], last, `${name}: kubectl keeps the last value of key ${key}`);
      assert.throws(() => parseManifests([{ name: `${name}.yaml`, text }]), /duplicated mapping key/);
    }
    // A quoted "no" is a string: the API server refuses the Pod; our PSS rule does not take it for false.
    const quoted = 'apiVersion: v1\nkind: Pod\nmetadata: {name: quoted}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: registry.example/app:1.0\n    securityContext: {allowPrivilegeEscalation: "no", capabilities: {drop: [ALL]}}\n';
    const r = await cluster.cp.kubectl(['create', '--dry-run=server', '-n', plainNs, '-f', '-'], { input: quoted });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot unmarshal string into Go struct field .*allowPrivilegeEscalation of type bool/);
    assert.deepEqual([...(ourPssRules(parseManifests([{ name: 'quoted.yaml', text: quoted }])).get(0) ?? [])], ['pss.allow-privilege-escalation']);
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
      for (const name of ['insecure', 'hardened']) {
        await cluster.apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `device-${name}`, namespace: ns },
          data: { 'settings.yaml': read(`device/${name}.yaml`) },
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

    it('blocks a release whose shipped device settings have the classic insecure defaults (YAML 1.1 spellings in a ConfigMap)', async () => {
      const device = (name: string, source: string): unknown => compliantRelease(ns, name, {
        spec: {
          policyRef: 'sd-policy',
          secureDefaults: {
            manifests: { configMapRef: { name: 'hardened-manifests' } },
            settings: { configMapRef: { name: `device-${source}`, key: 'settings.yaml' } },
          },
        },
      });
      await cluster.apply(device('router-1-0-0', 'insecure'));
      await cluster.apply(device('router-1-0-1', 'hardened'));
      const r = await waitForDecision(cluster, ns, 'router-1-0-0', (x) => x.status?.decision === 'Blocked');
      const c = r.status?.checks?.find((x) => x.id === 'config.secure-defaults');
      assert.deepEqual([c?.result, c?.reason], ['Fail', 'InsecureSettings'], c?.message);
      assert.match(c?.message ?? '', /^13 findings in 1 object \(13 settings\)/);
      const ok = await waitForDecision(cluster, ns, 'router-1-0-1', (x) => x.status?.decision === 'Approved');
      assert.equal(ok.status?.checks?.find((x) => x.id === 'config.secure-defaults')?.result, 'Pass');
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
