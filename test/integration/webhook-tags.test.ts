/**
 * Issue 14, item 1: tag resolution through the real kube-apiserver. A release covers repository AND digest; a
 * tag is resolved only from a registry the policy trusts (spec.admission.tags: ResolveFromTrusted), by GETting
 * the manifest and hashing its bytes — never by believing Docker-Content-Digest. A hostile registry on loopback
 * that claims an Approved digest in the header gets nothing admitted; the real registry (CNCF distribution)
 * resolves honestly; the same manifest under another repository is not the release's image.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startCluster, compliantRelease, baselinePolicy, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { Pusher, startRegistry, type TestRegistry } from '../harness/registry.ts';
import { waitFor } from '../harness/wait.ts';
import { deployment, freeLoopbackPort, webhookConfiguration } from '../harness/webhook.ts';

const APPROVED_DIGEST = `sha256:${'a'.repeat(64)}`;

/** A registry that lies: every manifest it serves claims APPROVED_DIGEST in Docker-Content-Digest. */
async function hostileRegistry(): Promise<{ host: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'f'.repeat(64)}`, size: 2 }, layers: [] });
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (/^\/v2\/.+\/manifests\/[^/]+$/.test(req.url ?? '')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': APPROVED_DIGEST, 'content-length': String(Buffer.byteLength(body)) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404).end();
  });
  const port = await freeLoopbackPort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${port}`, requests, server };
}

describe('admission: tags and repositories (issue 14, item 1)', () => {
  let cluster: Cluster;
  let op: OperatorProcess | undefined;
  let reg: TestRegistry;
  let hostile: Awaited<ReturnType<typeof hostileRegistry>>;
  let ns: string;
  let appDigest: string;
  const apply = (doc: unknown) => cluster.cp.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(doc) });

  before(async () => {
    reg = await startRegistry();
    hostile = await hostileRegistry();
    const push = new Pusher(reg);
    appDigest = await push.image('acme/app', 'v1');
    // The very same manifest (same digest) under another repository.
    const m = await push.getManifest('acme/app', 'v1');
    const parsed = JSON.parse(m.body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [parsed.config.digest, ...parsed.layers.map((l) => l.digest)]) await push.blob('evil/app', await push.getBlob('acme/app', d));
    assert.equal(await push.manifest('evil/app', 'v1', m.body.toString()), appDigest);

    cluster = await startCluster();
    const port = await freeLoopbackPort();
    await cluster.apply(webhookConfiguration(port));
    ns = await cluster.namespace('tags');
    await cluster.kubectl(['label', 'namespace', ns, 'cra-gate.dev/admission=enforce', 'cra-gate.dev/admission-strict=true']);
    const policy = baselinePolicy() as { spec: Record<string, unknown> };
    policy.spec.admission = { tags: 'ResolveFromTrusted', trustedRegistries: [reg.host, hostile.host] };
    await cluster.apply(policy);
    await cluster.apply(compliantRelease(ns, 'router', { spec: { artifacts: [{ name: 'router', image: `registry.acme.example/router@${APPROVED_DIGEST}` }, { name: 'app', image: `${reg.host}/acme/app@${appDigest}` }] } }));
    const hosts = [reg.host, hostile.host].join(',');
    op = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity: 'op-tags',
      args: ['--leader-elect', 'false', '--webhook', 'true', '--webhook-bind', `127.0.0.1:${port}`, '--webhook-ip-addresses', '127.0.0.1'],
      env: { CRA_GATE_REGISTRY_ALLOW_HOSTS: hosts, CRA_GATE_REGISTRY_INSECURE_HOSTS: hosts },
    });
    await op.port();
    await waitForDecision(cluster, ns, 'router', (r) => r.status?.decision === 'Approved');
    await waitFor('the webhook to answer', async () => (await apply(deployment(ns, 'probe', `${reg.host}/acme/app@${appDigest}`))).code === 0, { timeoutMs: 60_000, intervalMs: 500 });
  });

  after(async () => {
    await op?.stop();
    await cluster?.stop();
    await reg?.stop();
    hostile?.server.close();
  });

  it('a hostile registry claiming an Approved digest in its header gets its tag denied (the body is hashed)', async () => {
    const r = await apply(deployment(ns, 'evil', `${hostile.host}/router:latest`));
    assert.notEqual(r.code, 0, 'denied');
    assert.match(r.stderr, /could not be resolved to a digest/);
    assert.match(r.stderr, /does not match its digest|hashes to/);
    assert.ok(hostile.requests.some((q) => q.startsWith('GET /v2/router/manifests/latest')), `the manifest was downloaded: ${hostile.requests.join(', ')}`);
  });

  it('a tag of the real registry resolves by hashing the manifest and is admitted for the release repository only', async () => {
    const ok = await apply(deployment(ns, 'app', `${reg.host}/acme/app:v1`));
    assert.equal(ok.code, 0, ok.stderr);
    // Same bytes, same digest, another repository: not the release's image (strict namespace: denied).
    const other = await apply(deployment(ns, 'other', `${reg.host}/evil/app:v1`));
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /belongs to no Approved ProductRelease that covers namespace/);
    const pinned = await apply(deployment(ns, 'other', `${reg.host}/evil/app@${appDigest}`));
    assert.notEqual(pinned.code, 0, 'a digest under another repository is not covered either');
  });

  it('tags of registries the policy does not trust are denied without asking them', async () => {
    const r = await apply(deployment(ns, 'untrusted', 'registry.other.example/tool:1.0'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /registry\.other\.example is not in spec\.admission\.trustedRegistries/);
  });
});
