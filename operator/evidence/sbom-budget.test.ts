/**
 * Issue 16: an SBOM whose estimated analysis cost exceeds the SBOM worker heap left by the memory budget is not
 * parsed: its check ends in Error (MemoryBudgetExceeded) with the budget named, instead of an OOM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeInWorker, makeSbomAnalyser, makeSbomCollector, overBudget } from './sbom.ts';
import { createEvidenceRuntime } from './runtime.ts';
import { collectEvidence } from './collect.ts';
import { checkRegistry } from '../checks/index.ts';
import { ctx, goodRelease } from '../checks/testkit.ts';
import { deriveMemoryBudget } from '../memory-budget.ts';
import { ANALYSIS_BYTES_PER_BYTE, DEFAULT_LIMITS } from '../sbom/parse.ts';
import type { ReleasePolicy } from '../api/types.ts';

const MiB = 1024 * 1024;

/** A valid CycloneDX document of about `bytes` bytes (padded with components). */
function bomOfSize(bytes: number, tag = ''): Buffer {
  const components: object[] = [];
  const doc = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components };
  let size = JSON.stringify(doc).length;
  for (let i = 0; size < bytes; i++) {
    const c = { type: 'library', name: `lib-${tag}${i}`, version: '1.0.0', 'bom-ref': `lib-${i}`, purl: `pkg:npm/lib-${i}@1.0.0` };
    components.push(c);
    size += JSON.stringify(c).length + 1;
  }
  return Buffer.from(JSON.stringify(doc));
}

test('overBudget: fits under the heap; over it (or with no worker) the message names the estimate and the budget', () => {
  assert.equal(overBudget(MiB, 64, 's'), undefined);
  const m = overBudget(10 * MiB, 64, 'limit 512 MiB (cgroup-v1) = …');
  assert.match(m ?? '', new RegExp(`10\\.0 MiB document needs about ${10 * ANALYSIS_BYTES_PER_BYTE} MiB .* SBOM worker heap of 64 MiB \\(limit 512 MiB \\(cgroup-v1\\)`));
  assert.match(m ?? '', /raise the operator's memory limit/);
  assert.match(overBudget(1024, 0, 's') ?? '', /leaves no room for an SBOM worker/);
});

test('a document over the worker budget ends the SBOM check in Error before any parsing; one within it is analysed', async () => {
  // A 384 MiB container whose main heap leaves one small worker (the derivation of config.ts).
  const b = deriveMemoryBudget(384 * MiB, 150 * MiB, 'cgroup-v1');
  assert.equal(b.workers, 1);
  // The budget reaches the analyser through the runtime the composition root builds (operator/main.ts).
  const runtime = createEvidenceRuntime({ network: 'deny', sbom: { workerThresholdBytes: 512 * 1024, budget: { heapMb: b.workerHeapMb, workers: b.workers, summary: b.summary } } });
  const bigBytes = Math.ceil(((b.workerHeapMb + 8) * MiB) / ANALYSIS_BYTES_PER_BYTE);
  const big = bomOfSize(bigBytes);
  const small = bomOfSize(600 * 1024);
  const data: Record<string, string> = { 'big.json': big.toString('utf8'), 'small.json': small.toString('utf8') };
  const policy: ReleasePolicy = { apiVersion: 'cra-gate.dev/v1alpha1', kind: 'ReleasePolicy', metadata: { name: 'p' }, spec: { checks: [{ id: 'sbom.present', enforcement: 'Block' }] } };
  const collector = makeSbomCollector();
  const check = checkRegistry.get('sbom.present')!;
  const sources = { readConfigMap: () => Promise.resolve(data) };

  const bigRelease = goodRelease({ artifacts: [{ name: 'firmware' }], sboms: [{ artifact: 'firmware', configMapRef: { name: 'fw', key: 'big.json' } }] });
  const ev = await collectEvidence({ release: bigRelease, policy, sources, runtime, now: new Date() }, [collector]);
  const a = ev.sboms?.[0]?.analysis;
  assert.ok(a && !a.ok && a.reason === 'MemoryBudgetExceeded', JSON.stringify(a));
  const out = check.run(ctx(bigRelease, {}, new Date('2028-02-01T00:00:00Z'), ev));
  assert.equal(out.result, 'Error', JSON.stringify(out).slice(0, 400));
  assert.equal(out.reason, 'MemoryBudgetExceeded');
  assert.match(out.message, /needs about \d+ MiB to analyse .* SBOM worker heap of \d+ MiB \(limit 384 MiB \(cgroup-v1\)/);

  // Within the budget: analysed in the worker, as before.
  const smallRelease = goodRelease({ artifacts: [{ name: 'firmware' }], sboms: [{ artifact: 'firmware', configMapRef: { name: 'fw', key: 'small.json' } }] });
  const ok = await collectEvidence({ release: smallRelease, policy, sources, runtime, now: new Date() }, [collector]);
  assert.equal(ok.sboms?.[0]?.analysis.ok, true, JSON.stringify(ok.sboms?.[0]?.analysis).slice(0, 300));
});

test('a budget with no room for a worker refuses every document that needs one', async () => {
  const r = await analyzeInWorker(bomOfSize(4096), DEFAULT_LIMITS, { heapMb: 0, budgetSummary: 'limit 256 MiB: no room' });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'MemoryBudgetExceeded');
  assert.match(!r.ok ? r.message : '', /no room for an SBOM worker \(limit 256 MiB: no room\)/);
  // The same through an analyser built with that budget.
  const analyse = makeSbomAnalyser({ workerThresholdBytes: 1024, budget: { heapMb: 0, workers: 0, summary: 'limit 256 MiB: no room' } });
  const a = await analyse(bomOfSize(4096), DEFAULT_LIMITS);
  assert.equal(!a.ok && a.reason, 'MemoryBudgetExceeded');
});

test('the analysis cache is bounded by the documents\' summed size: a document above the bound is analysed every time', async () => {
  const analyse = makeSbomAnalyser({ cacheBytes: 8 * 1024 });
  const small = bomOfSize(2048);
  const a1 = await analyse(small, DEFAULT_LIMITS);
  assert.equal(await analyse(small, DEFAULT_LIMITS), a1, 'small: cached');
  const big = bomOfSize(16 * 1024);
  const b1 = await analyse(big, DEFAULT_LIMITS);
  assert.equal(b1.ok, true);
  assert.notEqual(await analyse(big, DEFAULT_LIMITS), b1, 'above the bound: not cached');
  // Four more small documents push the first one out (4 × 2 KiB + 2 KiB > 8 KiB).
  for (let i = 0; i < 4; i++) await analyse(bomOfSize(2048, `t${i}-`), DEFAULT_LIMITS);
  assert.notEqual(await analyse(small, DEFAULT_LIMITS), a1, 'evicted by size');
});
