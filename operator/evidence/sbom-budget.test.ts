/**
 * Issue 16: an SBOM whose estimated analysis cost exceeds the SBOM worker heap left by the memory budget is not
 * parsed: its check ends in Error (MemoryBudgetExceeded) with the budget named, instead of an OOM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MainHeapGate, analyzeInWorker, makeSbomAnalyser, makeSbomCollector, overBudget } from './sbom.ts';
import { createEvidenceRuntime } from './runtime.ts';
import { collectEvidence } from './collect.ts';
import { checkRegistry } from '../checks/index.ts';
import { ctx, goodRelease } from '../checks/testkit.ts';
import { deriveMemoryBudget, resultBytesEstimate } from '../memory-budget.ts';
import { ANALYSIS_BYTES_PER_BYTE, DEFAULT_LIMITS } from '../sbom/parse.ts';
import { analyzeSbom, analyzeSbomAsync } from '../sbom/analyze.ts';
import type { SbomAnalysis, SbomAnalysisOk } from '../sbom/analyze.ts';
import { compactAnalysis, componentChars } from '../sbom/compact.ts';
import { reasonEntry } from '../errors.ts';
import { generate } from '../../bench/lib/sbom-gen.ts';
import type { ReleasePolicy } from '../api/types.ts';

const MiB = 1024 * 1024;

function ok(a: SbomAnalysis): SbomAnalysisOk {
  assert.ok(a.ok, JSON.stringify(a).slice(0, 300));
  return a;
}

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

test('the analysis cache is bounded by its results\' estimated main-heap bytes: a result above the bound is analysed every time', async () => {
  const small = bomOfSize(2048);
  const smallCost = (() => {
    const { components, chars } = componentChars(ok(compactAnalysis(ok(analyzeSbom(small)))));
    return resultBytesEstimate(components, chars);
  })();
  const analyse = makeSbomAnalyser({ cacheBytes: 4 * smallCost + 100 });
  const a1 = await analyse(small, DEFAULT_LIMITS);
  assert.equal(await analyse(small, DEFAULT_LIMITS), a1, 'small: cached');
  const big = bomOfSize(16 * 1024);
  const b1 = await analyse(big, DEFAULT_LIMITS);
  assert.equal(b1.ok, true);
  assert.notEqual(await analyse(big, DEFAULT_LIMITS), b1, 'above the bound: not cached');
  // Four more small documents push the first one out (5 × its cost > the bound).
  for (let i = 0; i < 4; i++) await analyse(bomOfSize(2048, `t${i}-`), DEFAULT_LIMITS);
  assert.notEqual(await analyse(small, DEFAULT_LIMITS), a1, 'evicted by size');
});

test('without room on the main heap an analysis does not start: Error MemoryBudgetBusy (transient, named numbers), not cached, analysed once there is room', async () => {
  let used = 0;
  const limit = 100 * MiB;
  const analyse = makeSbomAnalyser({ workerThresholdBytes: 1024, mainHeap: () => ({ usedBytes: used, limitBytes: limit }) });
  const doc = bomOfSize(64 * 1024);
  used = 89.9 * MiB; // room: 100 − 89.9 − 10 (reserve) = 0.1 MiB < 64 KiB × RESULT_BYTES_PER_BYTE
  const busy = await analyse(doc, DEFAULT_LIMITS);
  assert.equal(!busy.ok && busy.reason, 'MemoryBudgetBusy', JSON.stringify(busy).slice(0, 300));
  assert.match(!busy.ok ? busy.message : '', /a typical result of this 0\.1 MiB document needs about 1 MiB of the operator's main heap, which has 1 MiB free \(limit 100 MiB, used 90 MiB, reserve 10 MiB/);
  assert.equal(reasonEntry('MemoryBudgetBusy').retryable, true);
  // The check says what could not be assessed: Error, the release retried (level-triggered).
  const ev = { sboms: [{ artifact: 'firmware', source: 'ConfigMap x', analysis: busy }] };
  const out = checkRegistry.get('sbom.present')!.run(ctx(goodRelease({ artifacts: [{ name: 'firmware' }], sboms: [{ artifact: 'firmware', configMapRef: { name: 'x', key: 'k' } }] }), {}, new Date('2028-02-01T00:00:00Z'), ev));
  assert.equal(out.result, 'Error');
  assert.equal(out.reason, 'MemoryBudgetBusy');
  // Room again: the same bytes are analysed (the refusal was not cached).
  used = 10 * MiB;
  const a = await analyse(doc, DEFAULT_LIMITS);
  assert.equal(a.ok, true, JSON.stringify(a).slice(0, 300));
  // In one thread (below the worker threshold) too.
  used = 90 * MiB;
  const inline = makeSbomAnalyser({ mainHeap: () => ({ usedBytes: used, limitBytes: limit }) });
  const r = await inline(bomOfSize(32 * 1024, 'i'), DEFAULT_LIMITS);
  assert.equal(!r.ok && r.reason, 'MemoryBudgetBusy');
});

test('a result that can never fit the main heap is MemoryBudgetExceeded (terminal)', async () => {
  const analyse = makeSbomAnalyser({ workerThresholdBytes: 1024, mainHeap: () => ({ usedBytes: 0, limitBytes: 2 * MiB }) });
  const r = await analyse(bomOfSize(512 * 1024), DEFAULT_LIMITS);
  assert.equal(!r.ok && r.reason, 'MemoryBudgetExceeded');
  assert.match(!r.ok ? r.message : '', /more than the 2 MiB it can ever give \(heap limit 2 MiB − reserve 1 MiB\)/);
});

test('the worker\'s exact estimate is admitted against the main heap before its result is sent: no room → Busy, nothing cloned', async () => {
  // ~16 bytes per component: a typical result (RESULT_BYTES_PER_BYTE × its size) fits, its actual one does not.
  const comps = Array.from({ length: 40_000 }, (_, i) => ({ name: `c${i}` }));
  const bytes = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: comps }));
  const heap = { usedBytes: 80 * MiB, limitBytes: 100 * MiB }; // room: 100 − 80 − 10 (reserve) = 10 MiB
  const gate = new MainHeapGate(() => heap);
  const r = await analyzeInWorker(bytes, DEFAULT_LIMITS, { heapMb: 512, gate });
  assert.equal(!r.ok && r.reason, 'MemoryBudgetBusy', JSON.stringify(r).slice(0, 300));
  assert.match(!r.ok ? r.message : '', /the result of its 40000 components needs about \d+ MiB of the operator's main heap, which has 10 MiB free \(limit 100 MiB, used 80 MiB, reserve 10 MiB, analyses in flight 0 MiB\); retried/);
  assert.equal(gate.inFlightBytes, 0, 'nothing held after a refusal');
  // With room, the same document is analysed and the room it held is given back.
  heap.usedBytes = 10 * MiB;
  const a = await analyzeInWorker(bytes, DEFAULT_LIMITS, { heapMb: 512, gate });
  assert.equal(a.ok && a.model.components.length, 40_000);
  assert.equal(gate.inFlightBytes, 0);
});

test('the worker path and the in-process path give the same compact result and the same check outcomes (generated SBOMs)', async () => {
  const policyChecks = ['sbom.format-valid', 'sbom.format-version', 'sbom.bsi-tr-03183-fields', 'sbom.top-level-deps', 'sbom.complete', 'sbom.licence-ids', 'sbom.no-vuln-data', 'sbom.per-version', 'sbom.present'];
  for (const [n, defects] of [[300, false], [3000, true]] as const) {
    const bytes = Buffer.from(generate(n, { defects }));
    const full = ok(await analyzeSbomAsync(bytes)); // the full model, as before issue 16
    const worker = ok(await analyzeInWorker(bytes, DEFAULT_LIMITS, { heapMb: 512 }));
    const inProcess = ok(await makeSbomAnalyser()(bytes, DEFAULT_LIMITS));
    assert.ok(worker.findings && inProcess.findings, 'both compact');
    assert.deepEqual(worker, inProcess);
    // What vulnerability matching and VEX binding read is kept for every component.
    const id = (a: SbomAnalysisOk) => a.model.components.map((c) => [c.pointer, c.ref, c.primary, c.type, c.group, c.name, c.version, c.purl, c.cpe]);
    assert.deepEqual(id(worker), id(full));
    assert.deepEqual(worker.model.components.find((c) => c.primary), full.model.components.find((c) => c.primary));
    for (const profile of ['bsi-2.1', 'bsi-2.0', 'ntia']) {
      for (const check of policyChecks) {
        const rel = goodRelease({ artifacts: [{ name: 'firmware' }], sboms: [{ artifact: 'firmware', configMapRef: { name: 'x', key: 'k' } }] });
        const run = (a: SbomAnalysisOk) => checkRegistry.get(check)!.run(ctx(rel, { profile }, new Date('2028-02-01T00:00:00Z'), { sboms: [{ artifact: 'firmware', source: 's', analysis: a }] }));
        const expected = run(full);
        assert.deepEqual(run(worker), expected, `${check} ${profile} n=${n}`);
        assert.deepEqual(run(inProcess), expected, `${check} ${profile} n=${n}`);
      }
    }
    // A fraction of the full model: far fewer fields per component survive.
    assert.ok(JSON.stringify(worker).length < JSON.stringify(full).length / 2);
  }
});
