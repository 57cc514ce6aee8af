/**
 * Evidence collector for `spec.sboms[]`: reads each SBOM (ConfigMap key through EvidenceSources, or an
 * https URL through the SSRF-guarded fetcher), checks the declared digest, and analyses it (parse, schema,
 * model). Documents above `workerThresholdBytes` are analysed in a worker thread with its own heap limit and
 * a timeout, at most `maxWorkers` at a time, so one huge SBOM neither blocks the event loop nor exhausts the
 * operator's memory. Analyses are cached by the bytes' SHA-256 (bounded LRU).
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { errorMessage, isCraGateError, reasonOf } from '../errors.ts';
import { analyzeSbom, analyzeSbomAsync, sha256Hex } from '../sbom/analyze.ts';
import type { SbomAnalysis } from '../sbom/analyze.ts';
import type { SbomEvidence, SbomUnavailable } from '../sbom/evidence.ts';
import { ANALYSIS_BYTES_PER_BYTE, DEFAULT_LIMITS, WORKER_HEAP_MB, limitsForPolicy, sizeLimitHint } from '../sbom/parse.ts';
import type { SbomLimits } from '../sbom/parse.ts';
import type { Collector, CollectContext } from './collect.ts';
import { fetchBytes, fetchOptionsFromEnv } from './https.ts';
import { siblingModuleUrl } from '../util/package-root.ts';
import type { FetchOptions, FetchResult } from './https.ts';
import { collectReferencedBoms } from './bomrefs.ts';
import type { ReadSbom } from './bomrefs.ts';

export interface SbomCollectorOptions {
  readonly limits?: SbomLimits;
  /** Analyse in a worker thread above this size (default 512 KiB). */
  readonly workerThresholdBytes?: number;
  readonly maxWorkers?: number;
  /** Worker heap limit (default: the memory budget's, configureSbomWorkers; 1536 MiB without one). */
  readonly workerHeapMb?: number;
  readonly workerTimeoutMs?: number;
  /** How URLs are fetched (default: fetchBytes with CRA_GATE_HTTP_* from the environment). */
  readonly fetch?: (url: string, opts: FetchOptions) => Promise<FetchResult>;
  readonly fetchOptions?: FetchOptions;
  readonly cacheEntries?: number;
  /**
   * Bound on the summed size of the documents whose analyses are cached (default 16 MiB): a cached analysis holds
   * the whole model, about 5× its document in the main heap, so the bound keeps the cache inside the main heap's budget.
   */
  readonly cacheBytes?: number;
}

// ---- worker pool (a semaphore over short-lived workers) -------------------------------------------------

/** How many workers may run at once and with which heap: set once by the composition root from the memory budget. */
export interface SbomWorkerBudget {
  /** Heap limit of one worker (MiB); 0 = no worker fits the budget. */
  readonly heapMb: number;
  readonly workers: number;
  /** Where the numbers come from (named in the Error of an SBOM over the budget). */
  readonly summary: string;
}

let budget: SbomWorkerBudget = { heapMb: WORKER_HEAP_MB, workers: 2, summary: `default: 2 workers of ${WORKER_HEAP_MB} MiB` };

/** Applies the memory budget (../memory-budget.ts) to every SBOM analysis of this process. */
export function configureSbomWorkers(b: SbomWorkerBudget): void {
  budget = b;
}

export function sbomWorkerBudget(): SbomWorkerBudget {
  return budget;
}

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

let running = 0;
const waiting: (() => void)[] = [];
async function acquire(max: number): Promise<void> {
  if (running < max) {
    running++;
    return;
  }
  await new Promise<void>((r) => waiting.push(r));
}
function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

const WORKER_URL = siblingModuleUrl('../sbom/worker', import.meta.url);

export async function analyzeInWorker(
  bytes: Uint8Array,
  limits: SbomLimits = DEFAULT_LIMITS,
  opts: { heapMb?: number; timeoutMs?: number; maxWorkers?: number } = {},
): Promise<SbomAnalysis> {
  const heapMb = opts.heapMb ?? budget.heapMb;
  const digest = `sha256:${sha256Hex(bytes)}`;
  const failed = (reason: 'SbomTooLarge' | 'SbomUnparseable' | 'MemoryBudgetExceeded', message: string): SbomAnalysis => ({ ok: false, digest, sizeBytes: bytes.byteLength, reason, message });
  // Refused before parsing when the estimate does not fit: an Error naming the budget, never an OOM.
  const over = overBudget(bytes.byteLength, heapMb, opts.heapMb !== undefined ? `worker heap set to ${heapMb} MiB` : budget.summary);
  if (over) return failed('MemoryBudgetExceeded', over);
  await acquire(Math.max(1, opts.maxWorkers ?? budget.workers));
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
      w.once('message', (a: SbomAnalysis) => done(a));
      w.once('error', (err: Error) => {
        const oom = /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(`${(err as { code?: string }).code ?? ''} ${err.message}`);
        done(failed(oom ? 'MemoryBudgetExceeded' : 'SbomUnparseable', oom ? `not analysed: the analysis exceeded the SBOM worker heap of ${heapMb} MiB` : `analysis failed: ${errorMessage(err, 160)}`));
      });
      w.once('exit', (code) => done(failed('SbomUnparseable', `analysis worker exited with code ${code}`)));
    });
  } finally {
    release();
  }
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
export function makeSbomAnalyser(options: Pick<SbomCollectorOptions, 'workerThresholdBytes' | 'maxWorkers' | 'workerHeapMb' | 'workerTimeoutMs' | 'cacheEntries' | 'cacheBytes'> = {}): SbomAnalyser {
  const threshold = options.workerThresholdBytes ?? 512 * 1024;
  const cache = new Map<string, { a: SbomAnalysis; size: number }>();
  const cacheMax = options.cacheEntries ?? 8;
  const cacheBytesMax = options.cacheBytes ?? 16 * MiB;
  let cachedBytes = 0;
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
              ...(options.workerHeapMb ? { heapMb: options.workerHeapMb } : {}),
              ...(options.workerTimeoutMs ? { timeoutMs: options.workerTimeoutMs } : {}),
              ...(options.maxWorkers ? { maxWorkers: options.maxWorkers } : {}),
            })
          : await analyzeSbomAsync(bytes, limits);
    if (bytes.byteLength <= cacheBytesMax) {
      cache.set(key, { a, size: bytes.byteLength });
      cachedBytes += bytes.byteLength;
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

  const analyse = makeSbomAnalyser(options);

  return async function sbomCollector(ctx: CollectContext) {
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
          const fetchOpts: FetchOptions = { maxBytes: limits.maxBytes + 1, ...fetchOptionsFromEnv(), ...options.fetchOptions, ...(ctx.signal ? { signal: ctx.signal } : {}) };
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
      fetchOptions: { maxBytes: limits.maxBytes + 1, ...fetchOptionsFromEnv(), ...options.fetchOptions },
      analyse: (b) => analyse(b, limits),
    });
    return { sboms: out, ...(referencedSboms.length > 0 ? { referencedSboms } : {}) };
  };
}

/** The collector registered in ./collect.ts. */
export const collectSboms: Collector = makeSbomCollector();
