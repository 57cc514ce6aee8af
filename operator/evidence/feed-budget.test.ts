/**
 * Issue 16: a vulnerability feed whose estimated heap (its size × the measured factor) exceeds what the memory
 * budget gives feeds is not parsed: the feed state carries MemoryBudgetExceeded and the vulnerability check ends in
 * Error naming the budget — never a heap exhaustion of the operator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FEED_HEAP_BYTES_PER_BYTE, FEED_HEAP_SHARE, FeedStore, feedBudgetFor, feedOverBudget } from './feeds.ts';
import { createEvidenceRuntime } from './runtime.ts';
import { makeVulnCollector } from './vuln.ts';
import { makeSbomCollector } from './sbom.ts';
import { collectEvidence, type EvidenceSources } from './collect.ts';
import { checkRegistry } from '../checks/index.ts';
import { ctx, goodRelease } from '../checks/testkit.ts';
import type { ReleasePolicy } from '../api/types.ts';

const MiB = 1024 * 1024;
const bom = readFileSync(new URL('../../test/fixtures/sbom/handmade/compliant.cdx.json', import.meta.url), 'utf8');
const osv = readFileSync(new URL('../../test/fixtures/vuln/osv/GHSA-6fc8-4gx4-v693.json', import.meta.url), 'utf8');
const sources = (data: Record<string, Record<string, string>>): EvidenceSources => ({ readConfigMap: (ns, name) => Promise.resolve(data[`${ns}/${name}`]) });

test('feedOverBudget: within the share of the main heap fits; above it the message names the estimate and the budget', () => {
  const budget = { maxHeapBytes: 100 * MiB, summary: 'limit 512 MiB (cgroup-v1)' };
  assert.equal(feedOverBudget(25 * MiB, budget), undefined);
  const m = feedOverBudget(30 * MiB, budget);
  assert.match(m ?? '', new RegExp(`30\\.0 MiB feed needs about ${30 * FEED_HEAP_BYTES_PER_BYTE} MiB .* more than the 100 MiB feeds may use \\(${FEED_HEAP_SHARE * 100} % of the main heap; limit 512 MiB \\(cgroup-v1\\)\\)`));
  assert.equal(feedOverBudget(10 ** 12, undefined), undefined, 'no budget configured: no refusal');
});

test('a feed over the budget is not parsed: its state says MemoryBudgetExceeded and the vulnerability check ends in Error', async () => {
  // A main heap so small that 60 % of it is below 4 × the feed's size (the budget is passed to the store, not set globally).
  const tight = feedBudgetFor((osv.length * FEED_HEAP_BYTES_PER_BYTE) / MiB / FEED_HEAP_SHARE / 2, 'limit 64 MiB (declared)');
  const store = new FeedStore({ ...(tight ? { budget: tight } : {}) });
  const data = { 'cra-gate/osv': { 'a.json': osv }, 'acme/fw-sbom': { 'bom.json': bom } };
  const r = await store.refresh({ kind: 'osv', configMapRef: { namespace: 'cra-gate', name: 'osv' } }, sources(data));
  assert.equal(r.state.error?.reason, 'MemoryBudgetExceeded');
  assert.equal(r.state.records, 0);
  assert.match(r.state.error.message, /needs about \d+ MiB of heap .* limit 64 MiB \(declared\)/);

  const policy: ReleasePolicy = {
    apiVersion: 'cra-gate.dev/v1alpha1',
    kind: 'ReleasePolicy',
    metadata: { name: 'p' },
    spec: { checks: [{ id: 'vuln.no-known-exploitable', enforcement: 'Block' }], vulnerabilityFeeds: [{ osv: { configMapRef: { namespace: 'cra-gate', name: 'osv' } } }] },
  };
  const release = goodRelease({ artifacts: [{ name: 'firmware' }], sboms: [{ artifact: 'firmware', configMapRef: { name: 'fw-sbom', key: 'bom.json' } }] });
  release.metadata.namespace = 'acme';
  const runtime = createEvidenceRuntime({ network: 'deny', ...(tight ? { feedBudget: tight } : {}) });
  const ev = await collectEvidence({ release, policy, sources: sources(data), runtime, now: new Date() }, [makeSbomCollector(), makeVulnCollector()]);
  assert.equal(ev.sboms?.[0]?.analysis.ok, true);
  const out = checkRegistry.get('vuln.no-known-exploitable')!.run(ctx(release, {}, new Date('2028-02-01T00:00:00Z'), ev));
  assert.equal(out.result, 'Error', JSON.stringify(out).slice(0, 300));
  assert.equal(out.reason, 'MemoryBudgetExceeded', out.message);

  // Within the budget: loaded.
  const roomy = feedBudgetFor(256, 'limit 1 GiB');
  const ok = await new FeedStore({ ...(roomy ? { budget: roomy } : {}) }).refresh({ kind: 'osv', configMapRef: { namespace: 'cra-gate', name: 'osv' } }, sources(data));
  assert.equal(ok.state.error, undefined);
  assert.equal(ok.state.records, 1);
});
