import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import type { EvidenceSources } from '../evidence/collect.ts';
import { FeedStore } from '../evidence/feeds.ts';
import { FeedRefresher } from '../controller/feed-refresher.ts';

const FX = new URL('../../test/fixtures/vuln/', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, FX), 'utf8');

/** ConfigMaps held in memory (the same interface the CLI backs with files). */
function memorySources(data: Record<string, Record<string, string>>): EvidenceSources {
  return { readConfigMap: (ns, name) => Promise.resolve(data[`${ns}/${name}`]) };
}

describe('FeedStore', () => {
  it('keeps the previous good feed when an update is malformed, and reports content changes', async () => {
    const cms: Record<string, Record<string, string>> = { 'cra-gate/kev': { 'kev.json': read('kev/kev-subset-without-log4shell.json') } };
    const store = new FeedStore({ maxAgeMs: 60_000 });
    const ref = { kind: 'kev' as const, configMapRef: { namespace: 'cra-gate', name: 'kev' } };
    const first = await store.refresh(ref, memorySources(cms));
    assert.equal(first.changed, true);
    assert.equal(first.state.records, 2);
    assert.equal((await store.refresh(ref, memorySources(cms))).changed, false);
    cms['cra-gate/kev'] = { 'kev.json': '{"vulnerabilities": [' };
    const bad = await store.refresh(ref, memorySources(cms));
    assert.equal(bad.changed, false);
    assert.equal(bad.state.error?.reason, 'FeedInvalid');
    assert.match(bad.state.error?.message ?? '', /not valid JSON/);
    assert.equal(bad.state.records, 2, 'previous good content stays in use');
    assert.equal((await store.get(ref, memorySources(cms))).kev?.entries.size, 2);
    cms['cra-gate/kev'] = { 'kev.json': read('kev/kev-subset-with-log4shell.json') };
    const good = await store.refresh(ref, memorySources(cms));
    assert.equal(good.changed, true);
    assert.equal(good.state.error, undefined);
    assert.ok((await store.get(ref, memorySources(cms))).kev?.entries.has('CVE-2021-44228'));
  });

  it('a missing feed is an error without previous content; multi-key ConfigMaps merge', async () => {
    const store = new FeedStore();
    const r = await store.refresh({ kind: 'osv', configMapRef: { namespace: 'x', name: 'nope' } }, memorySources({}));
    assert.match(r.state.error!.message, /ConfigMap x\/nope not found/);
    const osv = { 'a.json': read('osv/GHSA-6fc8-4gx4-v693.json'), 'b.json': read('osv/GHSA-xvch-5gv4-984h.json') };
    const ok = await store.refresh({ kind: 'osv', configMapRef: { namespace: 'x', name: 'osv' } }, memorySources({ 'x/osv': osv }));
    assert.equal(ok.state.records, 2);
  });

  it('an OSV feed is kept as its index (built while read); the policy index merges its feeds\' indexes', async () => {
    const store = new FeedStore();
    const cms = {
      'x/a': { 'a.json': read('osv/GHSA-jfh8-c2jp-5v3q.json') },
      'x/b': { 'b.json': `[${read('osv/GHSA-6fc8-4gx4-v693.json')},${read('osv/GHSA-xvch-5gv4-984h.json')}]` },
    };
    const a = await store.get({ kind: 'osv', configMapRef: { namespace: 'x', name: 'a' } }, memorySources(cms));
    const b = await store.get({ kind: 'osv', configMapRef: { namespace: 'x', name: 'b' } }, memorySources(cms));
    assert.equal(a.osv?.recordCount, 1);
    assert.equal(b.osv?.recordCount, 2);
    assert.equal(store.index([a]), a.osv, 'one feed: its own index');
    const both = store.index([a, b]);
    assert.equal(both.recordCount, 3);
    assert.equal(store.index([a, b]), both, 'cached by the feeds\' digests');
    assert.deepEqual(both.match('pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1').map((h) => h.record.id), ['GHSA-jfh8-c2jp-5v3q']);
    assert.deepEqual(both.match('pkg:npm/ws@6.2.1').map((h) => h.record.id), ['GHSA-6fc8-4gx4-v693']);
    // A changed feed: the cached indexes over its previous content are dropped (not kept alive by the cache).
    cms['x/a'] = { 'a.json': read('osv/GHSA-f8q6-p94x-37v3.json') };
    const changed = await store.refresh({ kind: 'osv', configMapRef: { namespace: 'x', name: 'a' } }, memorySources(cms));
    assert.equal(changed.changed, true);
    assert.notEqual(store.index([a, b]), both, 'rebuilt: the old entry was evicted');
  });
});

describe('FeedStore: the nvd feed kind', () => {
  it('loads NVD CVE API 2.0 records, counts records without CPE configuration, and indexes them by CPE', async () => {
    const cms = { 'cra-gate/nvd': { 'page-1.json': read('nvd/nvd-demo-subset.json') } };
    const store = new FeedStore();
    const ref = { kind: 'nvd' as const, configMapRef: { namespace: 'cra-gate', name: 'nvd' } };
    const got = await store.get(ref, memorySources(cms));
    assert.deepEqual({ kind: got.state.kind, records: got.state.records, unconfigured: got.state.unconfigured }, { kind: 'nvd', records: 4, unconfigured: 1 });
    const idx = store.nvdIndex([got]);
    assert.deepEqual(idx.assess('cpe:2.3:a:zlib:zlib:1.2.13:*:*:*:*:*:*:*').hits.map((h) => h.record.id), ['CVE-2023-45853']);
    assert.equal(store.nvdIndex([got]), idx, 'cached by digest');
    const bad = await store.refresh({ kind: 'nvd', configMapRef: { namespace: 'cra-gate', name: 'bad' } }, memorySources({ 'cra-gate/bad': { x: '{"vulnerabilities":[{"cve":{"id":"CVE-1"}}]}' } }));
    assert.equal(bad.state.error?.reason, 'FeedInvalid');
    assert.match(bad.state.error.message, /a CVE id is required/);
  });
});

describe('FeedStore over HTTPS (conditional GET)', () => {
  it('a second refresh with an unchanged ETag does not re-download; a new ETag does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cra-feeds-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 30_000 });
    const ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
    let content = read('kev/kev-subset-without-log4shell.json');
    let etag = '"a"';
    let full = 0;
    let notModified = 0;
    const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
      if (req.headers['if-none-match'] === etag) {
        notModified++;
        return res.writeHead(304, { etag }).end();
      }
      full++;
      res.writeHead(200, { etag, 'content-type': 'application/json' }).end(content);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const store = new FeedStore({ maxAgeMs: 60_000, fetchOptions: { network: 'allow', allowHosts: [host], ca } });
      const ref = { kind: 'kev' as const, url: `https://${host}/kev.json` };
      const first = await store.refresh(ref, memorySources({}));
      assert.equal(first.changed, true);
      assert.equal(first.state.records, 2);
      assert.equal(full, 1);
      const second = await store.refresh(ref, memorySources({}));
      assert.equal(second.changed, false);
      assert.equal(second.state.error, undefined);
      assert.equal(second.state.digest, first.state.digest);
      assert.equal(full, 1, 'unchanged ETag: no second full response');
      assert.equal(notModified, 1);
      assert.equal((await store.get(ref, memorySources({}))).kev?.entries.size, 2, 'content still in use');
      content = read('kev/kev-subset-with-log4shell.json');
      etag = '"b"';
      const third = await store.refresh(ref, memorySources({}));
      assert.equal(third.changed, true);
      assert.equal(full, 2);
      assert.ok((await store.get(ref, memorySources({}))).kev?.entries.has('CVE-2021-44228'));
    } finally {
      server.closeAllConnections();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FeedRefresher', () => {
  const policy = (name: string, kev: string): ReleasePolicy => ({
    apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ReleasePolicy', metadata: { name },
    spec: { checks: [{ id: 'vuln.no-known-exploited', enforcement: 'Block' }], vulnerabilityFeeds: [{ kev: { configMapRef: { namespace: 'cra-gate', name: kev } } }],
      waivers: [{ check: 'vuln.no-known-exploited', justification: 'j', ticket: 'SEC-9', approvedBy: 'jane', expires: '2028-02-03' }] },
  });
  const rel = (name: string, pol: string, status?: ProductRelease['status']): ProductRelease => ({
    apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ProductRelease', metadata: { name, namespace: 'acme', uid: name },
    spec: { product: { name }, version: '1.0.0', policyRef: pol }, ...(status ? { status } : {}),
  });

  it('enqueues only the releases whose policy uses a changed feed; warns once about expiring waivers; exports metrics', async () => {
    const cms: Record<string, Record<string, string>> = {
      'cra-gate/kev-a': { k: read('kev/kev-subset-without-log4shell.json') },
      'cra-gate/kev-b': { k: read('kev/kev-subset-without-log4shell.json') },
    };
    const enqueued: string[] = [];
    const events: string[] = [];
    const registry = new Registry();
    const waived = { decision: 'Approved' as const, checks: [{ id: 'vuln.no-known-exploited', result: 'Waived' as const, enforcement: 'Block' as const, waivers: [{ justification: 'j', ticket: 'SEC-9', approvedBy: 'jane', expires: '2028-02-03' }] }],
      exploited: [{ vulnerability: 'CVE-2021-44228', knownSince: '2028-02-01T00:00:00Z', earlyWarningDue: '2028-02-02T00:00:00Z', notificationDue: '2028-02-04T00:00:00Z' }] };
    const gaps = { decision: 'Blocked' as const, vulnerabilityCoverage: { assessed: 3, total: 7, unassessed: [{ component: 'pkg:generic/x@1', reason: 'purl: purl type "generic" has no OSV ecosystem' }] } };
    const full = { decision: 'Approved' as const, vulnerabilityCoverage: { assessed: 5, total: 5 } };
    const releases = [rel('r1', 'pa', waived), rel('r2', 'pb', gaps), rel('r3', 'pa', full)];
    const r = new FeedRefresher({
      listPolicies: () => [policy('pa', 'kev-a'), policy('pb', 'kev-b')],
      listReleases: () => releases,
      defaultPolicy: 'pa',
      sources: memorySources(cms),
      enqueue: (k) => enqueued.push(k),
      log: pino({ level: 'silent' }),
      events: { event: (_r: unknown, e: { reason: string }) => events.push(e.reason) } as never,
      registry,
      store: new FeedStore(),
      now: () => new Date('2028-02-01T12:00:00Z'),
    });
    await r.tick(); // first load: both feeds "changed"
    enqueued.length = 0;
    cms['cra-gate/kev-a'] = { k: read('kev/kev-subset-with-log4shell.json') };
    const t = await r.tick();
    assert.deepEqual(t.changed, ['kev:ConfigMap cra-gate/kev-a']);
    assert.deepEqual(enqueued.sort(), ['acme/r1', 'acme/r3']);
    assert.deepEqual(events, ['WaiverExpiringSoon'], 'warned once across ticks');
    const text = await registry.metrics();
    assert.match(text, /cra_gate_waiver_expiry_timestamp_seconds\{policy="pa",check="vuln.no-known-exploited"\} 1833235200/);
    assert.match(text, /cra_gate_exploited_vulnerabilities\{deadline_state="early_warning_pending"\} 1/);
    assert.match(text, /cra_gate_art14_next_deadline_timestamp_seconds\{deadline="notification"\} 1833235200/);
    assert.match(text, /cra_gate_unassessed_components\{decision="Blocked"\} 4/);
    assert.match(text, /cra_gate_unassessed_components\{decision="Approved"\} 0/);
    assert.match(text, /cra_gate_releases_with_unassessed_components\{decision="Blocked"\} 1/);
  });
});
