import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ProductRelease } from './api/types.ts';
import { registerReleaseMetrics } from './metrics-release.ts';

function release(ns: string, name: string, patch: { decision?: string; version?: string; supportEnd?: string; checks?: unknown[]; exploited?: unknown[] } = {}): ProductRelease {
  return {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ProductRelease',
    metadata: { namespace: ns, name },
    spec: { product: { name: 'ACME Router' }, version: patch.version ?? '2.4.0', updates: { supportEnd: patch.supportEnd ?? '2031-12' } },
    ...(patch.decision ? { status: { decision: patch.decision, checks: patch.checks ?? [], exploited: patch.exploited ?? [] } } : {}),
  } as unknown as ProductRelease;
}

async function scrape(reg: Registry): Promise<string[]> {
  return (await reg.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
}

test('one info series per release, failing blocking checks with CRA references, support end, waiver expiry, exploited count', async () => {
  const reg = new Registry();
  const releases = new Map<string, ProductRelease>();
  releases.set('a', release('acme', 'router-2-4-0', { decision: 'Approved', checks: [{ id: 'update.support-period', result: 'Pass', enforcement: 'Block' }] }));
  releases.set(
    'b',
    release('acme', 'camera-1-0-0', {
      decision: 'Blocked',
      supportEnd: '2029-01-15',
      checks: [
        { id: 'vuln.no-known-exploited', result: 'Fail', enforcement: 'Block', cra: ['Annex I Part I(2)(a)', 'Art. 14(1)'] },
        { id: 'sbom.present', result: 'Error', enforcement: 'Block', cra: ['Annex I Part II(1)'] },
        { id: 'disclosure.security-txt', result: 'Fail', enforcement: 'Warn', cra: ['Annex I Part II(5)'] },
        { id: 'vuln.no-known-exploitable', result: 'Waived', enforcement: 'Block', waivers: [{ expires: '2027-03-01' }, { expires: '2027-02-01T12:00:00Z' }] },
      ],
      exploited: [{ vulnerability: 'CVE-2021-44228' }],
    }),
  );
  releases.set('c', release('other', 'new-1-0-0'));
  registerReleaseMetrics({ registry: reg, releases: () => releases.values() });
  const lines = await scrape(reg);
  assert.ok(lines.includes('cra_gate_release_info{namespace="acme",name="router-2-4-0",product="ACME Router",version="2.4.0",decision="Approved"} 1'), lines.join('\n'));
  assert.ok(lines.includes('cra_gate_release_info{namespace="acme",name="camera-1-0-0",product="ACME Router",version="2.4.0",decision="Blocked"} 1'));
  assert.ok(lines.includes('cra_gate_release_info{namespace="other",name="new-1-0-0",product="ACME Router",version="2.4.0",decision="Pending"} 1'));
  const failed = lines.filter((l) => l.startsWith('cra_gate_release_check_failed'));
  assert.deepEqual(failed.sort(), [
    'cra_gate_release_check_failed{namespace="acme",name="camera-1-0-0",check="sbom.present",cra="Annex I Part II(1)"} 1',
    'cra_gate_release_check_failed{namespace="acme",name="camera-1-0-0",check="vuln.no-known-exploited",cra="Annex I Part I(2)(a); Art. 14(1)"} 1',
  ]);
  // 2031-12 → support through 2031-12-31, ends 2032-01-01T00:00Z; 2029-01-15 → ends 2029-01-16T00:00Z.
  assert.ok(lines.includes(`cra_gate_release_support_end_timestamp_seconds{namespace="acme",name="router-2-4-0"} ${Date.UTC(2032, 0, 1) / 1000}`));
  assert.ok(lines.includes(`cra_gate_release_support_end_timestamp_seconds{namespace="acme",name="camera-1-0-0"} ${Date.UTC(2029, 0, 16) / 1000}`));
  assert.ok(lines.includes(`cra_gate_release_waiver_expiry_timestamp_seconds{namespace="acme",name="camera-1-0-0",check="vuln.no-known-exploitable"} ${Date.UTC(2027, 1, 1, 12) / 1000}`));
  assert.ok(lines.includes('cra_gate_release_exploited_vulnerabilities{namespace="acme",name="camera-1-0-0"} 1'));
  assert.ok(!lines.some((l) => l.startsWith('cra_gate_release_exploited_vulnerabilities{namespace="acme",name="router-2-4-0"')), 'no series for none');

  // A changed decision and version replace the series; a deleted release leaves none behind.
  releases.set('a', release('acme', 'router-2-4-0', { decision: 'Blocked', version: '2.4.1' }));
  releases.delete('b');
  const after = await scrape(reg);
  assert.ok(after.includes('cra_gate_release_info{namespace="acme",name="router-2-4-0",product="ACME Router",version="2.4.1",decision="Blocked"} 1'));
  assert.ok(!after.some((l) => l.includes('decision="Approved"')));
  assert.ok(!after.some((l) => l.includes('camera-1-0-0')), after.join('\n'));
});

test('no series while not active (a standby replica), and none for an unparseable support end', async () => {
  const reg = new Registry();
  let leading = false;
  registerReleaseMetrics({ registry: reg, releases: () => [release('acme', 'x', { decision: 'Approved', supportEnd: '2031-13' })], active: () => leading });
  assert.deepEqual(await scrape(reg), []);
  leading = true;
  const lines = await scrape(reg);
  assert.ok(lines.some((l) => l.startsWith('cra_gate_release_info{')));
  assert.ok(!lines.some((l) => l.startsWith('cra_gate_release_support_end_timestamp_seconds')));
});

test('series exist only for the scrape: none held between scrapes, a bounded number per release', async () => {
  const reg = new Registry();
  const releases = Array.from({ length: 1000 }, (_, i) =>
    release('acme', `r-${i}`, { decision: 'Blocked', checks: [{ id: 'sbom.present', result: 'Fail', enforcement: 'Block', cra: ['Annex I Part II(1)'] }, { id: 'a', result: 'Pass', enforcement: 'Block' }] }),
  );
  registerReleaseMetrics({ registry: reg, releases: () => releases });
  const first = await scrape(reg);
  // info + support end + one failing check per release; no exploited series for none.
  assert.equal(first.length, 3 * releases.length);
  for (const name of ['cra_gate_release_info', 'cra_gate_release_check_failed', 'cra_gate_release_support_end_timestamp_seconds', 'cra_gate_release_waiver_expiry_timestamp_seconds', 'cra_gate_release_exploited_vulnerabilities']) {
    const g = reg.getSingleMetric(name) as unknown as { hashMap: Record<string, unknown> };
    assert.equal(Object.keys(g.hashMap).length, 0, `${name} holds no series between scrapes`);
  }
  assert.deepEqual(await scrape(reg), first, 'the next scrape rebuilds the same series');
});
