/**
 * The operator writes the CRA file of an Approved release (ReleasePolicy spec.craFile.enabled), on a real
 * kube-apiserver: a ConfigMap "<release>-cra-file" owned by the release, holding the dossier (HTML and JSON)
 * and, signed with the decision key, the SLSA VSA and dossier statements; nothing for a Blocked release or under
 * a policy without the opt-in; the file follows the release when its declaration changes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, startCluster, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';
import { loadYamlAll } from '../../operator/validation/yaml.ts';

interface Doc {
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string };
  spec: Record<string, unknown>;
}

void describe('CRA file written by the operator', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns = '';
  const docs = (f: string): Doc[] => loadYamlAll(readFileSync(path.join(repoRoot, f), 'utf8')) as Doc[];

  before(async () => {
    cluster = await startCluster();
    ns = await cluster.namespace('cra-file');
    const [policy] = docs('examples/cra-file/policy.yaml');
    await cluster.apply({ ...policy, spec: { ...policy!.spec, craFile: { enabled: true } } });
    await cluster.apply({ ...policy, metadata: { name: 'no-cra-file' } });
    op = startOperator({ kubeconfig: cluster.cp.kubeconfigPath, identity: 'cra-file', args: ['--leader-elect', 'false'] });
    await op.ready();
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
  });

  interface ConfigMap {
    data: Record<string, string>;
    metadata: { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[]; annotations?: Record<string, string> };
  }
  const getConfigMap = async (name: string): Promise<ConfigMap | undefined> => {
    const r = await cluster.cp.kubectl(['get', 'configmap', '-n', ns, name, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as ConfigMap) : undefined;
  };

  void it('an Approved release gets its file, owned by it, with the signed statements', async () => {
    const [release] = docs('examples/cra-file/acme-firewall-3.1.0.yaml');
    const digest = `sha256:${'4'.repeat(64)}`;
    await cluster.apply({ ...release, metadata: { ...release!.metadata, namespace: ns }, spec: { ...release!.spec, artifacts: [{ name: 'appliance', image: `registry.acme.example/firewall@${digest}` }] } });
    const got = await waitForDecision(cluster, ns, 'acme-firewall-3.1.0');
    assert.equal(got.status?.decision, 'Approved', JSON.stringify(got.status?.checks));
    const cm = await waitFor('the CRA file ConfigMap', () => getConfigMap('acme-firewall-3.1.0-cra-file'), { timeoutMs: 60_000 });
    assert.deepEqual(Object.keys(cm.data).sort(), ['dossier.dsse.json', 'dossier.html', 'dossier.json', 'vsa.dsse.json']);
    const owner = cm.metadata.ownerReferences?.[0];
    assert.deepEqual([owner?.kind, owner?.name, owner?.uid, owner?.controller], ['ProductRelease', 'acme-firewall-3.1.0', got.metadata.uid, true]);
    assert.match(cm.metadata.annotations?.['cra-gate.dev/cra-file-digest'] ?? '', /^sha256:[0-9a-f]{64}$/);
    const dossier = JSON.parse(cm.data['dossier.json']!) as { verdict: { decision: string }; release: { uid: string } };
    assert.equal(dossier.verdict.decision, 'Approved');
    assert.equal(dossier.release.uid, got.metadata.uid);
    assert.match(cm.data['dossier.html']!, /<title>CRA file: acme-firewall 3\.1\.0<\/title>/);
    const vsa = JSON.parse(cm.data['vsa.dsse.json']!) as { payloadType: string; payload: string; signatures: unknown[] };
    assert.equal(vsa.payloadType, 'application/vnd.in-toto+json');
    const st = JSON.parse(Buffer.from(vsa.payload, 'base64').toString()) as { subject: { digest: Record<string, string> }[]; predicate: { verificationResult: string } };
    assert.deepEqual(st.subject[0]!.digest, { sha256: '4'.repeat(64) });
    assert.equal(st.predicate.verificationResult, 'PASSED');
    assert.equal(vsa.signatures.length, 1);

    // The declaration changes: the file follows (its digest changes).
    const before = cm.metadata.annotations!['cra-gate.dev/cra-file-digest'];
    await cluster.kubectl(['patch', 'productrelease', '-n', ns, 'acme-firewall-3.1.0', '--type=merge', '-p', JSON.stringify({ spec: { conformity: { riskAssessment: { text: 'ACME-RA-FW3100 rev. 6' } } } })]);
    await waitFor('the CRA file to follow the release', async () => {
      const now = await getConfigMap('acme-firewall-3.1.0-cra-file');
      return now && now.metadata.annotations?.['cra-gate.dev/cra-file-digest'] !== before && now.data['dossier.json']!.includes('rev. 6');
    }, { timeoutMs: 60_000 });
  });

  void it('a Blocked release, or a policy without the opt-in, gets none', async () => {
    const [release] = docs('examples/cra-file/acme-firewall-3.1.0.yaml');
    const spec = release!.spec as { conformity: Record<string, unknown> };
    await cluster.apply({ ...release, metadata: { ...release!.metadata, name: 'blocked-fw', namespace: ns }, spec: { ...release!.spec, conformity: { ...spec.conformity, module: 'A' } } });
    await cluster.apply({ ...release, metadata: { ...release!.metadata, name: 'plain-fw', namespace: ns }, spec: { ...release!.spec, policyRef: 'no-cra-file' } });
    assert.equal((await waitForDecision(cluster, ns, 'blocked-fw')).status?.decision, 'Blocked');
    assert.equal((await waitForDecision(cluster, ns, 'plain-fw')).status?.decision, 'Approved');
    assert.equal(await getConfigMap('blocked-fw-cra-file'), undefined);
    assert.equal(await getConfigMap('plain-fw-cra-file'), undefined);
    // What makes the difference is the verdict and the opt-in: fix the route, opt the other one in → both get files.
    await cluster.kubectl(['patch', 'productrelease', '-n', ns, 'blocked-fw', '--type=merge', '-p', JSON.stringify({ spec: { conformity: { module: 'B+C' } } })]);
    await cluster.kubectl(['patch', 'productrelease', '-n', ns, 'plain-fw', '--type=merge', '-p', JSON.stringify({ spec: { policyRef: 'cra-file-declarations' } })]);
    for (const name of ['blocked-fw', 'plain-fw']) {
      const cm = await waitFor(`${name}'s CRA file`, () => getConfigMap(`${name}-cra-file`), { timeoutMs: 60_000 });
      assert.equal((JSON.parse(cm.data['dossier.json']!) as { verdict: { decision: string } }).verdict.decision, 'Approved');
    }
  });
});
