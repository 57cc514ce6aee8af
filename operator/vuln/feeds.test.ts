import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import type { EvidenceSources } from '../evidence/collect.ts';
import { FeedStore } from '../evidence/feeds.ts';
import { FeedRefresher } from './refresher.ts';

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
    const releases = [rel('r1', 'pa', waived), rel('r2', 'pb'), rel('r3', 'pa')];
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
  });
});
