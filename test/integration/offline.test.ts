/**
 * `cra-gate evaluate --offline` reaches no network (issue #15 item 10), proven server-side: a release whose
 * evidence and policy point at a real loopback HTTPS server (SBOM, security.txt, VEX, KEV feed) and at the real
 * registry (the image artifact, an OSV feed as an OCI artifact, behind a counting proxy) is evaluated by the CLI
 * process twice:
 *  - with --offline: not one request reaches either server; every check that needed them ends in Error with the
 *    "not fetched (offline …)" message naming the URL; the verdict is not Approved and the exit code says so (2);
 *  - without --offline (the control, same files and environment): both servers are asked, so the offline run's
 *    silence is the capability at work, not a setup that could not reach them anyway.
 * The capability is passed in (the CLI's EvidenceRuntime); nothing is set in the process environment.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../harness/cli.ts';
import { makePki, Pusher, startFaultProxy, startRegistry, type FaultProxy, type TestRegistry } from '../harness/registry.ts';
import { createAuthority } from '../fixtures/oci/keyless.ts';
import { dumpYaml } from '../../operator/validation/yaml.ts';

const NOW = '2028-02-01T12:00:00Z';


interface Item {
  status: { decision: string; checks: { id: string; result: string; reason: string; message: string }[] };
  evidenceErrors?: { source: string; reason: string; message: string }[];
}

void describe('cra-gate evaluate --offline: no request reaches the HTTPS server or the registry', { timeout: 600_000 }, () => {
  let work: string;
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let https: Server;
  /** Paths the HTTPS server was asked for (server-side count). */
  const served: string[] = [];
  let files: string[];
  let env: Record<string, string>;
  let base: string;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cra-gate-offline-'));
    const pki = makePki(path.join(work, 'pki'));
    const sbom = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] });
    const kev = JSON.stringify({ title: 'CISA KEV', catalogVersion: '2028.01.01', dateReleased: '2028-01-01T00:00:00Z', count: 0, vulnerabilities: [] });
    const vex = JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', '@id': 'https://acme.example/vex/1', author: 'Acme', timestamp: '2028-01-01T00:00:00Z', version: 1, statements: [] });
    https = createServer({ cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) }, (req, res) => {
      served.push(req.url ?? '/');
      const u = req.url ?? '/';
      if (u === '/sbom.cdx.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(sbom);
      if (u === '/kev.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(kev);
      if (u === '/vex.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(vex);
      if (u === '/.well-known/security.txt') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('Contact: mailto:sec@acme.example\nExpires: 2030-01-01T00:00:00Z\n');
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(https.address() as AddressInfo).port}`;

    reg = await startRegistry();
    proxy = await startFaultProxy(reg);
    const digest = await new Pusher(reg).image('acme/fw', '1.0.0');
    const authority = createAuthority(path.join(work, 'fulcio'));

    const policy = {
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'needs-network' },
      spec: {
        checks: [
          { id: 'sbom.present', enforcement: 'Block' },
          { id: 'disclosure.security-txt', enforcement: 'Block' },
          { id: 'signature.valid', enforcement: 'Block' },
          { id: 'vuln.no-known-exploited', enforcement: 'Block' },
          { id: 'vex.valid', enforcement: 'Block' },
        ],
        signing: {
          keyless: [{ issuer: 'https://issuer.acme.example', subject: 'release@acme.example' }],
          trustedRoot: { configMapRef: { namespace: 'cra-gate', name: 'sigstore-root', key: 'trusted_root.json' } },
        },
        vulnerabilityFeeds: [{ kev: { url: `${base}/kev.json` } }, { osv: { oci: `${proxy.host}/feeds/osv:latest` } }],
      },
    };
    const release = {
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ProductRelease',
      metadata: { name: 'fw-1-0-0', namespace: 'acme' },
      spec: {
        product: { name: 'fw', manufacturer: { name: 'Acme', email: 'sec@acme.example', address: 'Main St 1, Dublin, IE' } },
        version: '1.0.0',
        policyRef: 'needs-network',
        artifacts: [{ name: 'fw', image: `${proxy.host}/acme/fw@${digest}` }],
        sboms: [{ artifact: 'fw', url: `${base}/sbom.cdx.json` }],
        vulnerabilityHandling: { contact: 'mailto:sec@acme.example', securityTxt: `${base}/.well-known/security.txt`, vex: { url: `${base}/vex.json` } },
      },
    };
    // A second release whose SBOM is local: its vulnerability checks then report the feeds they could not load.
    const feedsPolicy = {
      ...policy,
      metadata: { name: 'feeds-over-network' },
      spec: { checks: [{ id: 'vuln.no-known-exploited', enforcement: 'Block' }, { id: 'vuln.no-known-exploitable', enforcement: 'Block' }], vulnerabilityFeeds: policy.spec.vulnerabilityFeeds },
    };
    const feedsRelease = {
      ...release,
      metadata: { name: 'fw-feeds', namespace: 'acme' },
      spec: { product: release.spec.product, version: '1.0.0', policyRef: 'feeds-over-network', artifacts: release.spec.artifacts, sboms: [{ artifact: 'fw', configMapRef: { name: 'fw-sbom', key: 'bom.json' } }] },
    };
    const configMaps = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sigstore-root', namespace: 'cra-gate' }, data: { 'trusted_root.json': authority.trustedRoot } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fw-sbom', namespace: 'acme' }, data: { 'bom.json': sbom } },
    ];
    files = [path.join(work, 'release.yaml'), path.join(work, 'policy.yaml'), path.join(work, 'configmaps.yaml')];
    writeFileSync(files[0]!, [release, feedsRelease].map((d) => dumpYaml(d)).join('---\n'));
    writeFileSync(files[1]!, [policy, feedsPolicy].map((d) => dumpYaml(d)).join('---\n'));
    writeFileSync(files[2]!, configMaps.map((d) => dumpYaml(d)).join('---\n'));
    env = {
      CRA_GATE_HTTP_ALLOW_HOSTS: base.slice('https://'.length),
      CRA_GATE_HTTP_CA_FILE: pki.caFile,
      CRA_GATE_REGISTRY_ALLOW_HOSTS: '127.0.0.1',
      CRA_GATE_REGISTRY_INSECURE_HOSTS: proxy.host,
    };
  });

  after(async () => {
    https?.closeAllConnections();
    await new Promise<void>((r) => (https ? https.close(() => r()) : r()));
    await proxy?.stop();
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  void it('--offline: zero requests server-side, the checks that needed the network end in Error, not Approved, exit 2', async () => {
    served.length = 0;
    proxy.seen.length = 0;
    const r = await runCli(['evaluate', files[0]!, '--policy', files[1]!, '--configmap', files[2]!, '--offline', '--now', NOW, '--output', 'json'], { env, timeoutMs: 240_000 });
    assert.deepEqual(served, [], 'no request reached the HTTPS server');
    assert.deepEqual(proxy.seen, [], 'no request reached the registry');
    assert.equal(r.code, 2, `${r.stderr}\n${r.stdout.slice(0, 2000)}`);
    assert.ok(r.stdout.startsWith('{'), `no report (input refused?): ${r.stderr}`);
    const [item, feeds] = (JSON.parse(r.stdout) as { items: Item[] }).items;
    assert.ok(item && feeds);
    for (const i of [item, feeds]) {
      assert.notEqual(i.status.decision, 'Approved');
      for (const c of i.status.checks) {
        assert.equal(c.result, 'Error', `${c.id}: ${JSON.stringify(c)}`);
        // The status says what could not be assessed and why: the URL, refused offline.
        assert.match(c.message, /not fetched \(offline: this evaluation has no network access\)/, `${c.id}: ${c.message}`);
      }
    }
    const check = (i: Item, id: string) => i.status.checks.find((c) => c.id === id)!.message;
    assert.ok(check(item, 'sbom.present').includes(`${base}/sbom.cdx.json`));
    assert.ok(check(item, 'disclosure.security-txt').includes(`${base}/.well-known/security.txt`));
    assert.ok(check(item, 'vex.valid').includes(`${base}/vex.json`));
    assert.ok(check(item, 'signature.valid').includes(`http://${proxy.host}/v2/acme/fw/`));
    assert.equal(item.status.checks.length, 5);
    assert.ok(check(feeds, 'vuln.no-known-exploited').includes(`${base}/kev.json`));
    assert.ok(check(feeds, 'vuln.no-known-exploitable').includes(`http://${proxy.host}/v2/feeds/osv/`));
  });

  void it('control: the same files without --offline do reach both servers', async () => {
    served.length = 0;
    proxy.seen.length = 0;
    await runCli(['evaluate', files[0]!, '--policy', files[1]!, '--configmap', files[2]!, '--now', NOW, '--output', 'json'], { env, timeoutMs: 240_000 });
    for (const p of ['/sbom.cdx.json', '/.well-known/security.txt', '/kev.json', '/vex.json']) assert.ok(served.includes(p), `${p} was fetched (${served.join(', ')})`);
    assert.ok(proxy.seen.some((s) => s.includes('/v2/acme/fw/')), `the image was looked up (${proxy.seen.join(', ')})`);
    assert.ok(proxy.seen.some((s) => s.includes('/v2/feeds/osv/')), 'the OSV feed artifact was looked up');
  });
});
