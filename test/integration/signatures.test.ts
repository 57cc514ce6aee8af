/**
 * End to end on the real control plane: the operator reads signatures and SBOM attestations of two images
 * from a real registry (made with real cosign), verifies them against the policy's key held in a Secret and
 * approves the release; after one image is re-signed with an untrusted key the release is blocked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Cosign } from '../harness/cosign.ts';
import type { KeyPair } from '../harness/cosign.ts';
import { baselinePolicy, compliantRelease, startCluster, waitForDecision } from '../harness/fixture.ts';
import type { Cluster } from '../harness/fixture.ts';
import { startOperator } from '../harness/operator-process.ts';
import type { OperatorProcess } from '../harness/operator-process.ts';
import { Pusher, startRegistry } from '../harness/registry.ts';
import type { TestRegistry } from '../harness/registry.ts';
import { cyclonedxFor } from '../fixtures/oci/sbom.ts';

const work = mkdtempSync(join(tmpdir(), 'cra-gate-sig-e2e-'));
let cluster: Cluster;
let reg: TestRegistry;
let op: OperatorProcess | undefined;
let cosign: Cosign;
let trusted: KeyPair;
let untrusted: KeyPair;

before(async () => {
  [cluster, reg] = await Promise.all([startCluster(), startRegistry()]);
  cosign = new Cosign({ workDir: join(work, 'cosign'), registry: reg });
  trusted = await cosign.generateKeyPair('trusted');
  untrusted = await cosign.generateKeyPair('untrusted');
});

after(async () => {
  await op?.stop();
  await Promise.all([cluster?.stop(), reg?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

it('two signed and attested images ⇒ Approved; one re-signed with an untrusted key ⇒ Blocked', async () => {
  const push = new Pusher(reg);
  const images: Record<string, string> = {};
  for (const name of ['router', 'ui']) {
    const digest = await push.image(`acme/${name}`, '2.4.0');
    const ref = `${reg.host}/acme/${name}@${digest}`;
    await cosign.sign(ref, trusted, 'legacy');
    const f = join(work, `${name}.cdx.json`);
    writeFileSync(f, JSON.stringify(cyclonedxFor(name, digest, '2.4.0')));
    await cosign.attest(ref, trusted, f, 'cyclonedx');
    images[name] = ref;
  }

  const ns = await cluster.namespace('sig');
  await cluster.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'acme-cosign-pub', namespace: 'cra-gate' }, stringData: { 'cosign.pub': trusted.pubPem } });
  const pol = baselinePolicy('signed') as { spec: { checks: { id: string; enforcement: string }[]; signing?: unknown } };
  pol.spec.checks.push({ id: 'signature.valid', enforcement: 'Block' }, { id: 'sbom.present', enforcement: 'Block' });
  pol.spec.signing = { keys: [{ secretRef: { namespace: 'cra-gate', name: 'acme-cosign-pub', key: 'cosign.pub' } }] };
  await cluster.apply(pol);
  await cluster.apply(
    compliantRelease(ns, 'acme-router-2-4-0', {
      spec: { policyRef: 'signed', artifacts: Object.entries(images).map(([name, image]) => ({ name, image })) },
    }),
  );

  op = startOperator({
    kubeconfig: cluster.cp.kubeconfigPath,
    identity: 'sig-e2e',
    env: { CRA_GATE_REGISTRY_ALLOW_HOSTS: '127.0.0.1', CRA_GATE_REGISTRY_INSECURE_HOSTS: reg.host },
  });

  const approved = await waitForDecision(cluster, ns, 'acme-router-2-4-0', (r) => r.status?.decision === 'Approved' || r.status?.decision === 'Blocked', 90_000);
  const sig = approved.status?.checks?.find((c) => c.id === 'signature.valid');
  const sbom = approved.status?.checks?.find((c) => c.id === 'sbom.present');
  assert.equal(approved.status?.decision, 'Approved', JSON.stringify(approved.status?.checks, null, 1));
  assert.equal(sig?.result, 'Pass');
  assert.equal(sbom?.result, 'Pass');

  // Re-sign the UI image: its trusted signature is removed and an untrusted key signs it.
  const uiDigest = images.ui!.split('@')[1]!;
  assert.ok(await push.deleteManifest('acme/ui', `${uiDigest.replace(':', '-')}.sig`));
  await cosign.sign(images.ui!, untrusted, 'legacy');
  // A label change re-evaluates the release (the operator does not poll registries).
  await cluster.kubectl(['label', 'productrelease', '-n', ns, 'acme-router-2-4-0', 'resigned=true']);

  const blocked = await waitForDecision(cluster, ns, 'acme-router-2-4-0', (r) => r.status?.decision === 'Blocked', 90_000);
  const failed = blocked.status?.checks?.find((c) => c.id === 'signature.valid');
  assert.equal(failed?.result, 'Fail');
  assert.equal(failed?.reason, 'UntrustedSigner');
  assert.match(failed?.message ?? '', /^ui \(/);
});
