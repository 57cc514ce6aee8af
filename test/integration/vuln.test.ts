/**
 * Vulnerabilities, VEX, disclosure and waivers end to end on a real kube-apiserver with the operator process:
 *
 *  - real OSV records and the real KEV entry for CVE-2021-44228 (test/fixtures/vuln/SOURCES.md) in ConfigMaps;
 *    a KEV update while two releases are Approved flips the affected one (NewlyExploitedVulnerability, an
 *    Event, the Art. 14 clock in status) and only that one; a malformed update keeps the previous feed;
 *  - a waiver with a short expiry (a date-time) approves the release, which flips back at the expiry;
 *  - security.txt and the CVD policy from a local HTTPS server on loopback (valid, expired, missing Contact,
 *    redirect to plain http, redirect to a private address, 404).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, compliantRelease, waitForDecision, type Cluster } from '../harness/fixture.ts';
import { startOperator, type OperatorProcess } from '../harness/operator-process.ts';
import { waitFor } from '../harness/wait.ts';

const FX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vuln');
const fx = (p: string) => readFileSync(path.join(FX, p), 'utf8');
const OSV = ['GHSA-6fc8-4gx4-v693', 'GHSA-f8q6-p94x-37v3', 'GHSA-jfh8-c2jp-5v3q', 'GHSA-xvch-5gv4-984h', 'GO-2020-0017'];

function configMap(namespace: string, name: string, data: Record<string, string>): unknown {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name }, data };
}

function vulnPolicy(waivers: unknown[] = []): unknown {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'vuln-gate' },
    spec: {
      checks: [
        { id: 'vuln.no-known-exploited', enforcement: 'Block' },
        { id: 'vuln.no-known-exploitable', enforcement: 'Warn' },
      ],
      vulnerabilityFeeds: [
        { osv: { configMapRef: { namespace: 'cra-gate', name: 'osv-feed' } } },
        { kev: { configMapRef: { namespace: 'cra-gate', name: 'kev-feed', key: 'kev.json' } } },
      ],
      waivers,
      reevaluateEvery: '6h',
    },
  };
}

function withSbom(ns: string, name: string, sbomCm: string, labels: Record<string, string>): unknown {
  const r = compliantRelease(ns, name, { spec: { policyRef: 'vuln-gate', sboms: [{ artifact: 'router', configMapRef: { name: sbomCm, key: 'bom.json' } }] } });
  return { ...r, metadata: { ...r.metadata, labels } };
}

interface EventList { items: { reason: string; type: string; note?: string; regarding: { name: string } }[] }

describe('vulnerability feeds, waivers and disclosure on a real control plane', () => {
  let cluster: Cluster;
  let op: OperatorProcess;
  let ns: string;
  let server: Server;
  let origin: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'cra-vuln-it-'));

  before(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
    const future = new Date(Date.now() + 90 * 86_400_000).toISOString();
    const pages: Record<string, string> = {
      '/valid.txt': `Contact: mailto:psirt@acme.example\nExpires: ${future}\nPolicy: https://acme.example/cvd\n`,
      '/expired.txt': 'Contact: mailto:psirt@acme.example\nExpires: 2025-01-01T00:00:00Z\nPolicy: https://acme.example/cvd\n',
      '/nocontact.txt': `Expires: ${future}\nPolicy: https://acme.example/cvd\n`,
      '/cvd': '<html><body><h1>Coordinated vulnerability disclosure policy</h1><p>Report vulnerabilities to <a href="mailto:psirt@acme.example">psirt@acme.example</a>.</p></body></html>',
      '/home': '<html><body><h1>ACME routers</h1><p>Fast and secure. <a href="/products">Products</a></p></body></html>',
    };
    server = createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      const page = pages[req.url ?? ''];
      if (page) return res.writeHead(200, { 'content-type': req.url!.endsWith('.txt') ? 'text/plain; charset=utf-8' : 'text/html; charset=utf-8' }).end(page);
      if (req.url === '/to-private') return res.writeHead(302, { location: 'https://10.0.0.1/.well-known/security.txt' }).end();
      if (req.url === '/to-http') return res.writeHead(301, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/valid.txt` }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    origin = `https://${host}`;

    cluster = await startCluster();
    await cluster.apply(configMap('cra-gate', 'osv-feed', Object.fromEntries(OSV.map((id) => [`${id}.json`, fx(`osv/${id}.json`)]))));
    await cluster.apply(configMap('cra-gate', 'kev-feed', { 'kev.json': fx('kev/kev-subset-without-log4shell.json') }));
    await cluster.apply(vulnPolicy());
    ns = await cluster.namespace('acme');
    await cluster.apply(configMap(ns, 'sbom-log4j', { 'bom.json': fx('sbom/synthetic-log4j-app.cdx.json') }));
    await cluster.apply(configMap(ns, 'sbom-npm', { 'bom.json': fx('sbom/cern-lhc-vdm-editor.cdx.json') }));
    op = startOperator({
      kubeconfig: cluster.cp.kubeconfigPath,
      identity: 'op-vuln',
      args: ['--leader-elect', 'false'],
      env: { CRA_GATE_HTTP_ALLOW_HOSTS: host, CRA_GATE_HTTP_CA_FILE: path.join(dir, 'cert.pem'), CRA_GATE_FEED_REFRESH_SECONDS: '2' },
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

  it('a KEV update flips only the affected Approved release, with an Event and the Art. 14 clock', async () => {
    await cluster.apply(withSbom(ns, 'logger-1-0-0', 'sbom-log4j', { product: 'acme-logger' }));
    await cluster.apply(withSbom(ns, 'editor-1-0-0', 'sbom-npm', { product: 'acme-editor' }));
    const logger = await waitForDecision(cluster, ns, 'logger-1-0-0', (r) => r.status?.decision !== 'Pending', 90_000);
    const editor = await waitForDecision(cluster, ns, 'editor-1-0-0', (r) => r.status?.decision !== 'Pending', 90_000);
    assert.equal(logger.status?.decision, 'Approved', JSON.stringify(logger.status?.checks));
    assert.equal(editor.status?.decision, 'Approved', JSON.stringify(editor.status?.checks));
    // coverage is part of the status the API server stores (schema-validated, not pruned)
    assert.deepEqual(logger.status?.vulnerabilityCoverage, { assessed: 2, total: 2 });
    assert.deepEqual(editor.status?.vulnerabilityCoverage, { assessed: 43, total: 43 });
    // the npm release has real, unresolved advisories: reported (Warn), listing components and advisories
    const exploitable = editor.status?.checks?.find((c) => c.id === 'vuln.no-known-exploitable');
    assert.equal(exploitable?.result, 'Fail');
    assert.match(exploitable?.message ?? '', /3 unresolved known vulnerabilities.*GHSA-/);

    const before = Date.now();
    await cluster.apply(configMap('cra-gate', 'kev-feed', { 'kev.json': fx('kev/kev-subset-with-log4shell.json') }));
    const flipped = await waitForDecision(cluster, ns, 'logger-1-0-0', (r) => r.status?.decision === 'Blocked', 30_000);
    const approved = flipped.status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(approved?.reason, 'NewlyExploitedVulnerability');
    const kevCheck = flipped.status?.checks?.find((c) => c.id === 'vuln.no-known-exploited');
    assert.equal(kevCheck?.reason, 'KnownExploitedVulnerability');
    assert.match(kevCheck?.message ?? '', /GHSA-jfh8-c2jp-5v3q \(CVE-2021-44228\) in pkg:maven\/org\.apache\.logging\.log4j\/log4j-core@2\.14\.1/);
    const clock = flipped.status?.exploited?.[0];
    assert.equal(clock?.vulnerability, 'CVE-2021-44228');
    const since = Date.parse(clock?.knownSince ?? '');
    assert.ok(since >= before - 1000 && since <= Date.now(), 'knownSince is when the operator saw it');
    assert.equal(Date.parse(clock?.earlyWarningDue ?? '') - since, 24 * 3600_000);
    assert.equal(Date.parse(clock?.notificationDue ?? '') - since, 72 * 3600_000);
    await waitFor('a NewlyExploitedVulnerability Event', async () => {
      const ev = JSON.parse(await cluster.kubectl(['get', 'events.events.k8s.io', '-n', ns, '-o', 'json'])) as EventList;
      return ev.items.find((e) => e.regarding.name === 'logger-1-0-0' && e.reason === 'NewlyExploitedVulnerability' && e.type === 'Warning');
    }, { timeoutMs: 20_000 });
    assert.equal(await op.metric('cra_gate_exploited_vulnerabilities', { deadline_state: 'early_warning_pending' }), 1);
    // only the affected release flipped
    const other = await cluster.getRelease(ns, 'editor-1-0-0');
    assert.equal(other.status?.decision, 'Approved');
    assert.equal(other.status?.exploited, undefined);

    // knownSince stays stable across later evaluations (a label change re-evaluates; the status is unchanged)
    const evaluations = () => op.logs.filter((l) => l.object === 'logger-1-0-0' && (l.msg === 'status current' || l.decision !== undefined)).length;
    const seen = evaluations();
    await cluster.kubectl(['label', '-n', ns, 'productrelease/logger-1-0-0', 'touched=yes']);
    await waitFor('re-evaluation after the label change', () => Promise.resolve(evaluations() > seen || undefined), { timeoutMs: 20_000, intervalMs: 250 });
    const again = await cluster.getRelease(ns, 'logger-1-0-0');
    assert.equal(again.status?.exploited?.[0]?.knownSince, clock?.knownSince);
    assert.equal(again.status?.decision, 'Blocked');
  });

  it('a malformed feed update is reported and the previous good feed stays in use', async () => {
    await cluster.apply(configMap('cra-gate', 'kev-feed', { 'kev.json': '{"vulnerabilities": [' }));
    await waitFor('the operator to log the failed refresh', () => Promise.resolve(op.logs.find((l) => l.msg === 'feed refresh failed; previous content stays in use' && /not valid JSON/.test(String(l.err)))), { timeoutMs: 20_000 });
    // re-evaluate: still blocked on the previously loaded catalogue
    await cluster.kubectl(['label', '-n', ns, 'productrelease/logger-1-0-0', 'touched=again', '--overwrite']);
    await new Promise((r) => setTimeout(r, 2000));
    const r = await waitForDecision(cluster, ns, 'logger-1-0-0', (x) => x.status?.decision === 'Blocked', 20_000);
    assert.match(r.status?.checks?.find((c) => c.id === 'vuln.no-known-exploited')?.message ?? '', /CVE-2021-44228/);
    await cluster.apply(configMap('cra-gate', 'kev-feed', { 'kev.json': fx('kev/kev-subset-with-log4shell.json') }));
  });

  it('a waiver with a short expiry approves the release, which flips back at the expiry', async () => {
    const expires = new Date(Date.now() + 25_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await cluster.apply(vulnPolicy([{
      check: 'vuln.no-known-exploited', vulnerability: 'CVE-2021-44228', releases: { matchLabels: { product: 'acme-logger' } },
      justification: 'JndiLookup removed from the shipped jar; upgrade scheduled', ticket: 'https://jira.acme.example/SEC-42',
      approvedBy: 'jane@acme.example', expires,
    }]));
    const waived = await waitForDecision(cluster, ns, 'logger-1-0-0', (r) => r.status?.decision === 'Approved', 20_000);
    const c = waived.status?.checks?.find((x) => x.id === 'vuln.no-known-exploited');
    assert.equal(c?.result, 'Waived');
    assert.equal(c?.waivers?.[0]?.ticket, 'https://jira.acme.example/SEC-42');
    assert.equal(c?.waivers?.[0]?.expires, expires);
    assert.equal(waived.status?.summary?.waived, 1);
    assert.ok(await op.metric('cra_gate_waiver_expiry_timestamp_seconds', { policy: 'vuln-gate', check: 'vuln.no-known-exploited' }) > 0);
    // at expiry (not at the next periodic pass, which is 6 h away) the waiver stops applying
    const back = await waitForDecision(cluster, ns, 'logger-1-0-0', (r) => r.status?.decision === 'Blocked', 60_000);
    assert.ok(Date.now() >= Date.parse(expires), 'not before the expiry');
    assert.equal(back.status?.checks?.find((x) => x.id === 'vuln.no-known-exploited')?.result, 'Fail');
  });

  it('NVD feed: a CPE-only log4j is blocked through KEV; an unassessed component is listed in status and counted in the metric', async () => {
    await cluster.apply(configMap('cra-gate', 'nvd-feed', { 'nvd.json': fx('nvd/nvd-demo-subset.json') }));
    await cluster.apply(configMap('cra-gate', 'kev-full', { 'kev.json': fx('kev/kev-subset-with-log4shell.json') }));
    await cluster.apply({
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'nvd-gate' },
      spec: {
        checks: [
          { id: 'vuln.no-known-exploited', enforcement: 'Block' },
          { id: 'vuln.no-known-exploitable', enforcement: 'Block', params: { unassessed: 'Warn' } },
        ],
        vulnerabilityFeeds: [
          { nvd: { configMapRef: { namespace: 'cra-gate', name: 'nvd-feed' } } },
          { kev: { configMapRef: { namespace: 'cra-gate', name: 'kev-full' } } },
        ],
      },
    });
    const bom = (components: unknown[]) => JSON.stringify({
      bomFormat: 'CycloneDX', specVersion: '1.6', version: 1,
      metadata: { timestamp: '2028-01-01T00:00:00Z', component: { type: 'firmware', name: 'cam', version: '1.0.0', 'bom-ref': 'cam' } },
      components,
    });
    await cluster.apply(configMap(ns, 'sbom-cam', { 'bom.json': bom([
      { type: 'library', name: 'log4j', 'bom-ref': 'log4j', version: '2.14.1', cpe: 'cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*' },
      { type: 'library', name: 'busybox', 'bom-ref': 'busybox', version: '1.36.1', purl: 'pkg:generic/busybox@1.36.1' },
    ]) }));
    await cluster.apply(configMap(ns, 'sbom-zlib', { 'bom.json': bom([
      { type: 'library', name: 'zlib', 'bom-ref': 'zlib', version: '1.3.1', cpe: 'cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*' },
    ]) }));
    const rel = (name: string, sbomCm: string) => compliantRelease(ns, name, { spec: { policyRef: 'nvd-gate', sboms: [{ artifact: 'router', configMapRef: { name: sbomCm, key: 'bom.json' } }] } });
    await cluster.apply(rel('cam-1-0-0', 'sbom-cam'));
    await cluster.apply(rel('zlib-1-0-0', 'sbom-zlib'));
    const cam = await waitForDecision(cluster, ns, 'cam-1-0-0', (r) => r.status?.decision !== 'Pending', 60_000);
    assert.equal(cam.status?.decision, 'Blocked', JSON.stringify(cam.status?.checks));
    const kev = cam.status?.checks?.find((c) => c.id === 'vuln.no-known-exploited');
    assert.equal(kev?.reason, 'KnownExploitedVulnerability');
    assert.match(kev?.message ?? '', /CVE-2021-44228 in cpe:2\.3:a:apache:log4j:2\.14\.1/);
    assert.equal(cam.status?.exploited?.[0]?.vulnerability, 'CVE-2021-44228');
    assert.deepEqual(cam.status?.vulnerabilityCoverage, {
      assessed: 1,
      total: 2,
      unassessed: [{ component: 'pkg:generic/busybox@1.36.1', pointer: '/sboms/router/components/1', reason: 'purl: purl type "generic" has no OSV ecosystem; no CPE' }],
    });
    const zlib = await waitForDecision(cluster, ns, 'zlib-1-0-0', (r) => r.status?.decision !== 'Pending', 60_000);
    assert.equal(zlib.status?.decision, 'Approved', JSON.stringify(zlib.status?.checks));
    assert.match(zlib.status?.checks?.find((c) => c.id === 'vuln.no-known-exploitable')?.message ?? '', /^1 of 1 components assessed against 4 advisories/);
    await waitFor('the unassessed-components metric', async () => ((await op.metric('cra_gate_unassessed_components', { decision: 'Blocked' })) >= 1 ? true : undefined), { timeoutMs: 20_000 });
  });

  it('security.txt and the CVD policy are fetched over HTTPS through the SSRF guard', async () => {
    await cluster.apply({
      apiVersion: 'cra-gate.dev/v1alpha1',
      kind: 'ReleasePolicy',
      metadata: { name: 'disclosure-gate' },
      spec: { checks: [{ id: 'disclosure.security-txt', enforcement: 'Block' }, { id: 'disclosure.cvd-policy', enforcement: 'Block' }] },
    });
    const cases: [string, string, string, string, string][] = [
      // name, security.txt path, policy path, expected security-txt reason, expected cvd reason
      ['valid', '/valid.txt', '/cvd', 'Compliant', 'Compliant'],
      ['expired', '/expired.txt', '/cvd', 'SecurityTxtExpired', 'Compliant'],
      ['no-contact', '/nocontact.txt', '/missing', 'SecurityTxtInvalid', 'DisclosurePolicyUnreachable'],
      ['homepage-as-policy', '/valid.txt', '/home', 'Compliant', 'DisclosurePolicyNotAPolicy'],
      ['to-private', '/to-private', '/cvd', 'UrlNotAllowed', 'Compliant'],
      ['to-http', '/to-http', '/cvd', 'UrlNotAllowed', 'Compliant'],
    ];
    for (const [name, txt, pol] of cases) {
      await cluster.apply(compliantRelease(ns, `disc-${name}`, {
        spec: { policyRef: 'disclosure-gate', vulnerabilityHandling: { contact: 'mailto:psirt@acme.example', securityTxt: `${origin}${txt}`, disclosurePolicy: `${origin}${pol}` } },
      }));
    }
    for (const [name, , , txtReason, cvdReason] of cases) {
      const r = await waitForDecision(cluster, ns, `disc-${name}`, (x) => x.status?.decision !== 'Pending', 60_000);
      const byId = new Map((r.status?.checks ?? []).map((c) => [c.id, c]));
      assert.equal(byId.get('disclosure.security-txt')?.reason, txtReason, `${name}: ${byId.get('disclosure.security-txt')?.message}`);
      assert.equal(byId.get('disclosure.cvd-policy')?.reason, cvdReason, `${name}: ${byId.get('disclosure.cvd-policy')?.message}`);
      assert.equal(r.status?.decision, txtReason === 'Compliant' && cvdReason === 'Compliant' ? 'Approved' : 'Blocked', name);
    }
  });
});
