/**
 * Evidence collector for `spec.sboms[]`: reads each SBOM (ConfigMap key through EvidenceSources, or an
 * https URL through the SSRF-guarded fetcher), checks the declared digest, and analyses it (parse, schema,
 * model). Documents above `workerThresholdBytes` are analysed in a worker thread with its own heap limit and
 * a timeout, at most `maxWorkers` at a time, so one huge SBOM neither blocks the event loop nor exhausts the
 * operator's memory. Before an analysis starts, the main heap must have room for its result (MainHeapGate), and
 * only the compact result (../sbom/compact.ts) comes back and is cached, by the bytes' SHA-256 (LRU bounded by its
 * estimated main-heap bytes). The analyser (cache, worker limit, main-heap gate) is created once by the composition
 * root and reaches the collectors through `ctx.runtime`.
 */
import { createHash } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { errorMessage, isCraGateError, reasonOf } from '../errors.ts';
import { analyzeSbom, analyzeSbomAsync, sha256Hex } from '../sbom/analyze.ts';
import type { SbomAnalysis } from '../sbom/analyze.ts';
import { compactAnalysis, componentChars, fromCompactWire, isCompactWire } from '../sbom/compact.ts';
import type { ResultEstimate } from '../sbom/compact.ts';
import { RESULT_BYTES_PER_BYTE, SBOM_CACHE_HEAP_FRACTION, admitOnMainHeap, resultBytesEstimate } from '../memory-budget.ts';
import type { MainHeapNumbers } from '../memory-budget.ts';
import type { SbomEvidence, SbomUnavailable } from '../sbom/evidence.ts';
import { ANALYSIS_BYTES_PER_BYTE, DEFAULT_LIMITS, WORKER_HEAP_MB, limitsForPolicy, sizeLimitHint } from '../sbom/parse.ts';
import type { SbomLimits } from '../sbom/parse.ts';
import type { Collector, CollectContext } from './collect.ts';
import { fetchBytes } from './https.ts';
import { siblingModuleUrl } from '../util/package-root.ts';
import type { FetchOptions, FetchResult } from './https.ts';
import { collectReferencedBoms } from './bomrefs.ts';
import type { ReadSbom } from './bomrefs.ts';

export interface SbomAnalyserOptions {
  /** Analyse in a worker thread above this size (default 512 KiB). */
  readonly workerThresholdBytes?: number;
  /** The memory budget's worker heap and count (the operator's, from config.ts; default DEFAULT_SBOM_WORKER_BUDGET). */
  readonly budget?: SbomWorkerBudget;
  /** Workers at a time (default: the budget's). */
  readonly maxWorkers?: number;
  /** Worker heap limit (default: the budget's). */
  readonly workerHeapMb?: number;
  readonly workerTimeoutMs?: number;
  readonly cacheEntries?: number;
  /**
   * Bound on the main-heap bytes of the cached analyses (their compact results, estimated from their components;
   * default SBOM_CACHE_HEAP_FRACTION of the main heap's limit).
   */
  readonly cacheBytes?: number;
  /** The main heap's numbers (default `v8.getHeapStatistics()`; tests inject them). */
  readonly mainHeap?: () => MainHeapNumbers;
}

export interface SbomCollectorOptions {
  readonly limits?: SbomLimits;
  /** How URLs are fetched (default: fetchBytes with the runtime's network options). */
  readonly fetch?: (url: string, opts: FetchOptions) => Promise<FetchResult>;
  /** Merged over `ctx.runtime.http` (tests: a loopback server's allow-list and CA). */
  readonly fetchOptions?: FetchOptions;
}

// ---- worker pool (a semaphore over short-lived workers) -------------------------------------------------

/** How many workers may run at once and with which heap: from the memory budget, by the composition root. */
export interface SbomWorkerBudget {
  /** Heap limit of one worker (MiB); 0 = no worker fits the budget. */
  readonly heapMb: number;
  readonly workers: number;
  /** Where the numbers come from (named in the Error of an SBOM over the budget). */
  readonly summary: string;
}

/** Without a memory budget (tests, one-off calls): 2 workers of WORKER_HEAP_MB. */
export const DEFAULT_SBOM_WORKER_BUDGET: SbomWorkerBudget = { heapMb: WORKER_HEAP_MB, workers: 2, summary: `default: 2 workers of ${WORKER_HEAP_MB} MiB` };

const MiB = 1024 * 1024;

/**
 * Why a document cannot be analysed within a worker heap of `heapMb`, before any parsing: its estimated cost
 * (bytes × the measured memory per byte) exceeds it. Undefined when it fits.
 */
export function overBudget(sizeBytes: number, heapMb: number, summary: string): string | undefined {
  const estimate = sizeBytes * ANALYSIS_BYTES_PER_BYTE;
  if (heapMb > 0 && estimate <= heapMb * MiB) return undefined;
  const est = Math.ceil(estimate / MiB);
  const what = heapMb > 0 ? `the SBOM worker heap of ${heapMb} MiB` : 'the memory budget, which leaves no room for an SBOM worker';
  return (
    `not analysed: a ${(sizeBytes / MiB).toFixed(1)} MiB document needs about ${est} MiB to analyse (${ANALYSIS_BYTES_PER_BYTE} × its size), ` +
    `more than ${what} (${summary}); raise the operator's memory limit (Helm value resources.limits.memory)`
  );
}

/** The main heap as V8 reports it. */
export function v8MainHeap(): MainHeapNumbers {
  const h = getHeapStatistics();
  return { usedBytes: h.used_heap_size, limitBytes: h.heap_size_limit };
}

/**
 * Admits analyses against the main heap (issue 16): an analysis starts only when the heap has room for its result
 * (`admitOnMainHeap`), and holds that room until its result is received (and cached). One per analyser.
 */
export class MainHeapGate {
  readonly #heap: () => MainHeapNumbers;
  #inFlight = 0;

  constructor(heap: () => MainHeapNumbers = v8MainHeap) {
    this.#heap = heap;
  }

  /** Whether `needBytes` would be admitted now (nothing reserved). */
  check(needBytes: number, what?: string): ReturnType<typeof admitOnMainHeap> {
    return admitOnMainHeap(this.#heap(), needBytes, this.#inFlight, what);
  }

  /** Reserves `needBytes` when admitted; the caller then calls `leave(needBytes)`. */
  enter(needBytes: number, what?: string): ReturnType<typeof admitOnMainHeap> {
    const a = admitOnMainHeap(this.#heap(), needBytes, this.#inFlight, what);
    if (a.admitted) this.#inFlight += needBytes;
    return a;
  }

  leave(needBytes: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - needBytes);
  }

  get inFlightBytes(): number {
    return this.#inFlight;
  }

  get limitBytes(): number {
    return this.#heap().limitBytes;
  }
}

/** At most `max` holders at a time; the others wait in order. One per analyser (no process-wide state). */
export class WorkerLimiter {
  readonly max: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  async acquire(): Promise<void> {
    if (this.#running < this.max) {
      this.#running++;
      return;
    }
    await new Promise<void>((r) => this.#waiting.push(r));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}

const WORKER_URL = siblingModuleUrl('../sbom/worker', import.meta.url);

export async function analyzeInWorker(
  bytes: Uint8Array,
  limits: SbomLimits = DEFAULT_LIMITS,
  opts: { heapMb?: number; timeoutMs?: number; limiter?: WorkerLimiter; budgetSummary?: string; gate?: MainHeapGate } = {},
): Promise<SbomAnalysis> {
  const heapMb = opts.heapMb ?? DEFAULT_SBOM_WORKER_BUDGET.heapMb;
  const digest = `sha256:${sha256Hex(bytes)}`;
  const failed = (reason: 'SbomTooLarge' | 'SbomUnparseable' | 'MemoryBudgetExceeded' | 'MemoryBudgetBusy', message: string): SbomAnalysis => ({ ok: false, digest, sizeBytes: bytes.byteLength, reason, message });
  // Refused before parsing when the estimate does not fit: an Error naming the budget, never an OOM.
  const over = overBudget(bytes.byteLength, heapMb, opts.budgetSummary ?? (opts.heapMb !== undefined ? `worker heap set to ${heapMb} MiB` : DEFAULT_SBOM_WORKER_BUDGET.summary));
  if (over) return failed('MemoryBudgetExceeded', over);
  // Without a limiter (a one-off call) this one worker is the only one.
  const limiter = opts.limiter ?? new WorkerLimiter(1);
  await limiter.acquire();
  // Then the main heap: not started when even a typical result has no room now (the exact check follows).
  const gate = opts.gate ?? new MainHeapGate();
  const pre = gate.check(bytes.byteLength * RESULT_BYTES_PER_BYTE, `a typical result of this ${(bytes.byteLength / MiB).toFixed(1)} MiB document`);
  if (!pre.admitted) {
    limiter.release();
    return failed(pre.transient ? 'MemoryBudgetBusy' : 'MemoryBudgetExceeded', pre.message);
  }
  let reserved = 0;
  try {
    return await new Promise<SbomAnalysis>((resolve) => {
      const copy = new Uint8Array(bytes); // a private copy we can transfer
      const w = new Worker(WORKER_URL, {
        workerData: { bytes: copy, limits },
        transferList: [copy.buffer],
        resourceLimits: { maxOldGenerationSizeMb: heapMb, stackSizeMb: 8 },
        stdout: false,
        stderr: false,
      });
      let settled = false;
      const done = (a: SbomAnalysis) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void w.terminate();
        resolve(a);
      };
      const timer = setTimeout(() => done(failed('SbomTooLarge', `analysis took longer than ${opts.timeoutMs ?? 60_000} ms`)), opts.timeoutMs ?? 60_000);
      w.on('message', (m: unknown) => {
        if (isResultEstimate(m)) {
          // The exact admission, before anything is cloned onto the main heap: its room is held until it is here.
          const admission = gate.enter(m.needBytes, `the result of its ${m.components} components`);
          if (!admission.admitted) {
            w.postMessage('drop');
            done(failed(admission.transient ? 'MemoryBudgetBusy' : 'MemoryBudgetExceeded', admission.message));
            return;
          }
          reserved = m.needBytes;
          w.postMessage('send');
          return;
        }
        // The compact result (../sbom/compact.ts), rebuilt here with shared constants; or why it failed.
        done(isCompactWire(m) ? fromCompactWire(m) : (m as SbomAnalysis));
      });
      w.once('error', (err: Error) => {
        const oom = /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(err as { code?: string }).code ?? ''} ${err.message}`);
        done(failed(oom ? 'MemoryBudgetExceeded' : 'SbomUnparseable', oom ? `not analysed: the analysis exceeded the SBOM worker heap of ${heapMb} MiB` : `analysis failed: ${errorMessage(err, 160)}`));
      });
      w.once('exit', (code) => done(failed('SbomUnparseable', `analysis worker exited with code ${code}`)));
    });
  } finally {
    gate.leave(reserved);
    limiter.release();
  }
}

function isResultEstimate(m: unknown): m is ResultEstimate {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'estimate' && typeof (m as { needBytes?: unknown }).needBytes === 'number';
}

// ---- collector ------------------------------------------------------------------------------------------

function unavailable(reason: SbomUnavailable['reason'], message: string): SbomUnavailable {
  return { ok: false, unavailable: true, reason, message };
}

function digestMatches(bytes: Uint8Array, declared: string): boolean | undefined {
  const m = /^(sha256|sha384|sha512):([0-9a-fA-F]+)$/.exec(declared);
  if (!m) return undefined;
  return createHash(m[1]!).update(bytes).digest('hex') === m[2]!.toLowerCase();
}

/** Analyses SBOM bytes under `limits`. */
export type SbomAnalyser = (bytes: Uint8Array, limits: SbomLimits) => Promise<SbomAnalysis>;

/**
 * The one SBOM analysis path for every source (spec.sboms[], registry attestations and attached SBOMs, referenced
 * BOMs): size pre-check before any parsing, a worker thread above the threshold, a bounded LRU cache by SHA-256.
 */
export function makeSbomAnalyser(options: SbomAnalyserOptions = {}): SbomAnalyser {
  const threshold = options.workerThresholdBytes ?? 512 * 1024;
  const budget = options.budget ?? DEFAULT_SBOM_WORKER_BUDGET;
  const heapMb = options.workerHeapMb ?? budget.heapMb;
  const budgetSummary = options.workerHeapMb !== undefined ? `worker heap set to ${heapMb} MiB` : budget.summary;
  const limiter = new WorkerLimiter(options.maxWorkers ?? budget.workers);
  const gate = new MainHeapGate(options.mainHeap);
  const cache = new Map<string, { a: SbomAnalysis; size: number }>();
  const cacheMax = options.cacheEntries ?? 8;
  const cacheBytesMax = options.cacheBytes ?? Math.floor(gate.limitBytes * SBOM_CACHE_HEAP_FRACTION);
  let cachedBytes = 0;
  /** In one thread: the full model is built on the main heap (admitted for it), then only its compact form kept. */
  const inProcess = async (bytes: Uint8Array, limits: SbomLimits): Promise<SbomAnalysis> => {
    const need = bytes.byteLength * ANALYSIS_BYTES_PER_BYTE;
    const admission = gate.enter(need, `its analysis in the operator's thread (${ANALYSIS_BYTES_PER_BYTE} × its size)`);
    if (!admission.admitted) {
      return { ok: false, digest: `sha256:${sha256Hex(bytes)}`, sizeBytes: bytes.byteLength, reason: admission.transient ? 'MemoryBudgetBusy' : 'MemoryBudgetExceeded', message: admission.message };
    }
    try {
      const a = await analyzeSbomAsync(bytes, limits);
      return a.ok ? compactAnalysis(a) : a;
    } finally {
      gate.leave(need);
    }
  };
  return async (bytes: Uint8Array, limits: SbomLimits): Promise<SbomAnalysis> => {
    // The limit is part of the key: the same bytes under a larger limit are analysed anew.
    const key = `${sha256Hex(bytes)}:${limits.maxBytes}`;
    const hit = cache.get(key);
    if (hit) {
      // Most recently used last: eviction takes the first.
      cache.delete(key);
      cache.set(key, hit);
      return hit.a;
    }
    const a =
      bytes.byteLength > limits.maxBytes
        ? analyzeSbom(bytes, limits) // rejected on size before any parsing
        : bytes.byteLength > threshold
          ? await analyzeInWorker(bytes, limits, {
              heapMb,
              budgetSummary,
              ...(options.workerTimeoutMs ? { timeoutMs: options.workerTimeoutMs } : {}),
              limiter,
              gate,
            })
          : await inProcess(bytes, limits);
    // Cost in the cache: the compact result's estimated main-heap bytes. "Not now" is never cached (retried).
    const size = a.ok ? (({ components, chars }) => resultBytesEstimate(components, chars))(componentChars(a)) : 1024;
    if (size <= cacheBytesMax && !(!a.ok && a.reason === 'MemoryBudgetBusy')) {
      cache.set(key, { a, size });
      cachedBytes += size;
      while (cache.size > cacheMax || cachedBytes > cacheBytesMax) {
        const [k, old] = cache.entries().next().value!;
        cache.delete(k);
        cachedBytes -= old.size;
      }
    }
    return a;
  };
}

export function makeSbomCollector(options: SbomCollectorOptions = {}): Collector {
  const baseLimits = options.limits ?? DEFAULT_LIMITS;

  return async function sbomCollector(ctx: CollectContext) {
    const analyse = ctx.runtime.analyseSbom;
    const spec = ctx.release.spec;
    const ns = ctx.release.metadata?.namespace ?? 'default';
    // The size limit is a policy parameter (spec.limits.sbomMaxBytes), bounded by the worker heap.
    const limits = limitsForPolicy(ctx.policy?.spec, baseLimits);
    const entries = spec.sboms ?? [];
    const out: SbomEvidence[] = [];
    const read: ReadSbom[] = [];
    for (const [i, s] of entries.entries()) {
      const specPointer = `/spec/sboms/${i}`;
      let bytes: Uint8Array;
      let source: string;
      try {
        if (s.configMapRef) {
          source = `ConfigMap ${ns}/${s.configMapRef.name} key ${s.configMapRef.key}`;
          const data = await ctx.sources.readConfigMap(ns, s.configMapRef.name);
          if (!data) {
            out.push({ artifact: s.artifact, source, specPointer, analysis: unavailable('EvidenceUnavailable', `ConfigMap ${ns}/${s.configMapRef.name} not found`) });
            continue;
          }
          const text = data[s.configMapRef.key];
          if (text === undefined) {
            out.push({ artifact: s.artifact, source, specPointer, analysis: unavailable('EvidenceUnavailable', `ConfigMap ${ns}/${s.configMapRef.name} has no key ${s.configMapRef.key}`) });
            continue;
          }
          bytes = Buffer.from(text, 'utf8');
        } else if (s.url) {
          source = s.url;
          const fetchOpts: FetchOptions = { maxBytes: limits.maxBytes + 1, ...ctx.runtime.http, ...options.fetchOptions, ...(ctx.signal ? { signal: ctx.signal } : {}) };
          const r = await (options.fetch ?? fetchBytes)(s.url, fetchOpts);
          bytes = r.bytes;
        } else {
          out.push({ artifact: s.artifact, source: specPointer, specPointer, analysis: unavailable('InvalidSpec', 'sboms entry has neither url nor configMapRef') });
          continue;
        }
      } catch (err) {
        const tooLarge = isCraGateError(err) && err.details?.tooLarge === true;
        const src = s.url ?? s.configMapRef?.name ?? specPointer;
        if (tooLarge) {
          out.push({
            artifact: s.artifact,
            source: src,
            specPointer,
            analysis: { ok: false, digest: 'sha256:unknown', sizeBytes: limits.maxBytes + 1, reason: 'SbomTooLarge', message: `${errorMessage(err)}; above ${sizeLimitHint(limits.maxBytes)}` },
          });
        } else {
          const reason = reasonOf(err);
          out.push({ artifact: s.artifact, source: src, specPointer, analysis: unavailable(reason === 'Internal' ? 'EvidenceUnavailable' : reason, errorMessage(err)) });
        }
        continue;
      }
      if (s.digest) {
        const ok = digestMatches(bytes, s.digest);
        if (ok !== true) {
          out.push({
            artifact: s.artifact,
            source,
            specPointer,
            analysis: {
              ok: false,
              digest: `sha256:${sha256Hex(bytes)}`,
              sizeBytes: bytes.byteLength,
              reason: 'SbomDigestMismatch',
              message: ok === undefined ? `unusable digest ${s.digest.slice(0, 20)}` : `the document read does not have digest ${s.digest.slice(0, 20)}…`,
            },
          });
          continue;
        }
      }
      const analysis = await analyse(bytes, limits);
      out.push({ artifact: s.artifact, source, specPointer, analysis });
      if (analysis.ok) read.push({ artifact: s.artifact, source, bytes });
    }
    // External BOM references (issue 13): assessed for vulnerabilities like the main SBOM, or an Error naming them.
    const referencedSboms = await collectReferencedBoms(read, {
      fetch: options.fetch ?? fetchBytes,
      fetchOptions: { maxBytes: limits.maxBytes + 1, ...ctx.runtime.http, ...options.fetchOptions, ...(ctx.signal ? { signal: ctx.signal } : {}) },
      analyse: (b) => analyse(b, limits),
    });
    return { sboms: out, ...(referencedSboms.length > 0 ? { referencedSboms } : {}) };
  };
}

/** The collector registered in ./collect.ts. */
export const collectSboms: Collector = makeSbomCollector();
