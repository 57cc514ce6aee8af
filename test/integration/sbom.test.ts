/**
 * SBOM checks end to end on a real kube-apiserver, with the real operator process: SBOMs read from a
 * ConfigMap (compliant ⇒ Approved, non-compliant ⇒ Blocked naming the check and reason) and over HTTPS from
 * 127.0.0.1 (allowed explicitly through CRA_GATE_HTTP_ALLOW_HOSTS, trusted through CRA_GATE_HTTP_CA_FILE).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCluster, compliantRelease, waitForDecision, repoRoot, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'sbom', 'handmade');
const SBOM_CHECKS = ['sbom.present', 'sbom.format-valid', 'sbom.format-version', 'sbom.bsi-tr-03183-fields', 'sbom.top-level-deps', 'sbom.complete', 'sbom.licence-ids', 'sbom.no-vuln-data', 'sbom.per-version', 'artifact.hash-matches-sbom'];

describe('SBOM checks on a real control plane', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns: string;
  let server: Server;
  let origin: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'cra-sbom-it-'));

  before(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
    server = createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      if (req.url === '/fw.cdx.json') return res.end(readFileSync(path.join(fixtures, 'compliant.cdx.json')));
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    origin = `https://${host}`;

    cluster = await startCluster();
    await cluster.apply({
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'sbom-gate' },
      spec: { checks: SBOM_CHECKS.map((id) => ({ id, enforcement: 'Block', ...(id === 'sbom.bsi-tr-03183-fields' ? { params: { profile: 'bsi-2.1' } } : {}) })) },
    });
    ns = await cluster.namespace('acme');
    op = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity: 'op-sbom',
      args: ['--leader-elect', 'false'],
      env: { CRA_GATE_HTTP_ALLOW_HOSTS: host, CRA_GATE_HTTP_CA_FILE: path.join(dir, 'cert.pem') },
    });
    await op.port();
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
    server?.closeAllConnections();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const release = (name: string, sbom: Record<string, unknown>) =>
    compliantRelease(ns, name, {
      spec: {
        policyRef: 'sbom-gate',
        artifacts: [{ name: 'firmware', url: 'https://downloads.acme.example/router/2.4.0/fw.bin', digest: `sha512:${'a'.repeat(128)}` }],
        sboms: [{ artifact: 'firmware', ...sbom }],
      },
    });
  const configMap = (name: string, file: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns },
    data: { 'bom.json': readFileSync(path.join(fixtures, file), 'utf8') },
  });

  it('approves a release whose ConfigMap SBOM is compliant', async () => {
    await cluster.apply(configMap('fw-sbom-good', 'compliant.cdx.json'));
    await cluster.apply(release('fw-good', { configMapRef: { name: 'fw-sbom-good', key: 'bom.json' } }));
    const r = await waitForDecision(cluster, ns, 'fw-good', (x) => x.status?.decision !== 'Pending', 90_000);
    assert.equal(r.status?.decision, 'Approved', JSON.stringify(r.status?.checks));
    const fields = r.status?.checks?.find((c) => c.id === 'sbom.bsi-tr-03183-fields');
    assert.equal(fields?.result, 'Pass');
    assert.match(fields?.evidence ?? '', /^sha256:[0-9a-f]{64}$/);
  });

  it('blocks a release whose SBOM lacks the SHA-512 deployable hash, naming check and reason', async () => {
    await cluster.apply(configMap('fw-sbom-bad', 'missing-hash.cdx.json'));
    await cluster.apply(release('fw-bad', { configMapRef: { name: 'fw-sbom-bad', key: 'bom.json' } }));
    const r = await waitForDecision(cluster, ns, 'fw-bad', (x) => x.status?.decision === 'Blocked', 90_000);
    const c = r.status?.checks?.find((x) => x.id === 'sbom.bsi-tr-03183-fields');
    assert.equal(c?.result, 'Fail');
    assert.equal(c?.reason, 'MissingDeployableHash');
    assert.match(c?.message ?? '', /SHA-512 deployable hash \(\/components\/0\)/);
    // What the result rests on is in the status: guidance (the TR), not the CRA text (issue #13 item 14).
    assert.equal(c?.basis, 'Guidance');
    assert.deepEqual(c?.cra, []);
    assert.ok(c?.guidance?.includes('BSI TR-03183-2 v2.1.0 §5.2.2'), JSON.stringify(c));
    const top = r.status?.checks?.find((x) => x.id === 'sbom.top-level-deps');
    assert.equal(top?.basis, 'CRA');
    assert.deepEqual(top?.cra, ['Annex I Part II(1)']);
  });

  it('approves a release whose SBOM is CycloneDX XML valid against the official XSD (issue #13 item 8)', async () => {
    await cluster.apply(configMap('fw-sbom-xml', 'xml-compliant.cdx.xml'));
    await cluster.apply(release('fw-xml', { configMapRef: { name: 'fw-sbom-xml', key: 'bom.json' } }));
    const r = await waitForDecision(cluster, ns, 'fw-xml', (x) => x.status?.decision !== 'Pending', 90_000);
    assert.equal(r.status?.decision, 'Approved', JSON.stringify(r.status?.checks));
    assert.match(r.status?.checks?.find((c) => c.id === 'sbom.format-valid')?.message ?? '', /CycloneDX 1\.6/);
  });

  it('blocks an XML SBOM that the XSD rejects, naming the element', async () => {
    await cluster.apply(configMap('fw-sbom-xml-bad', 'xml-schema-invalid.cdx.xml'));
    await cluster.apply(release('fw-xml-bad', { configMapRef: { name: 'fw-sbom-xml-bad', key: 'bom.json' } }));
    const r = await waitForDecision(cluster, ns, 'fw-xml-bad', (x) => x.status?.decision === 'Blocked', 90_000);
    const c = r.status?.checks?.find((x) => x.id === 'sbom.format-valid');
    assert.equal(c?.reason, 'SbomSchemaInvalid');
    assert.match(c?.message ?? '', /Element 'nme'/);
  });

  it('reads an SBOM over HTTPS from an allow-listed 127.0.0.1 server', async () => {
    await cluster.apply(release('fw-https', { url: `${origin}/fw.cdx.json` }));
    const r = await waitForDecision(cluster, ns, 'fw-https', (x) => x.status?.decision !== 'Pending', 90_000);
    assert.equal(r.status?.decision, 'Approved', JSON.stringify(r.status?.checks));
  });
});
