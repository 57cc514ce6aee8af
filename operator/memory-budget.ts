/**
 * The operator's memory model (issue 16): how the container's memory limit is shared between the main V8 heap,
 * the SBOM analysis workers (each a V8 isolate with its own heap limit) and what Node.js uses outside any heap.
 * Pure: the composition root (./config.ts) reads the limit (cgroup v2 `memory.max`, cgroup v1
 * `memory.limit_in_bytes`, or the chart's downward-API variable) and the main heap's actual limit (set by the image
 * from the cgroup limit, `--max-old-space-size-percentage`), and passes them here.
 *
 * Invariant when a limit is known: main heap + workers × WORKER_RSS_PER_HEAP_MB × worker heap + process overhead +
 * margin ≤ limit. An SBOM whose estimated analysis cost exceeds the worker heap is refused before parsing
 * (SbomTooLarge, naming the budget) instead of pushing the process into the kernel's OOM killer.
 */

const MiB = 1024 * 1024;

/** What Node.js itself uses outside the V8 heap limit: code, native modules, libuv and TLS buffers (measured, rounded up). */
export const PROCESS_OVERHEAD_MB = 80;
/**
 * What one worker costs in resident memory per MiB of its old-generation limit: its young generation, code space,
 * the document's bytes and decoded text outside the old generation, and the structured clone of its result on the
 * way back. Measured (docs/operations.md#memory): a 12 MiB SBOM analysed under a 153 MiB worker heap raised the
 * process's anonymous RSS by 309 MiB at its peak, ≈ 2 × the heap.
 */
export const WORKER_RSS_PER_HEAP_MB = 2;
/** A worker heap below this analyses too little to be worth a second worker: the budget then runs one. */
export const MIN_WORKER_HEAP_MB = 128;
/** Below this no worker is run at all: SBOMs above the in-process threshold are refused with the budget named. */
export const MIN_SINGLE_WORKER_HEAP_MB = 32;
/** Without a known limit: today's defaults (two workers of 1536 MiB each). */
export const UNLIMITED_WORKER_HEAP_MB = 1536;
export const MAX_WORKERS = 2;
/** A cgroup limit at or above this means "no limit" (v1 reports 2^63 rounded down to the page size). */
export const NO_LIMIT_THRESHOLD_BYTES = 2 ** 60;

export type MemoryLimitSource = 'cgroup-v2' | 'cgroup-v1' | 'declared' | 'none';

export interface MemoryBudget {
  /** The container's memory limit in bytes, or undefined when none is set (or it is unreadable). */
  readonly limitBytes: number | undefined;
  readonly limitSource: MemoryLimitSource;
  /** The main thread's V8 heap limit (MiB), as V8 reports it. */
  readonly mainHeapMb: number;
  /** Heap limit of one SBOM analysis worker (MiB); 0 = no worker fits the budget. */
  readonly workerHeapMb: number;
  /** SBOM analyses in worker threads at once (0, 1 or 2). */
  readonly workers: number;
  /** Reserved for allocations no limit governs (bytes read from the network, feed buffers). */
  readonly marginMb: number;
  /** One sentence for logs and Error messages: where the numbers come from. */
  readonly summary: string;
}

/** The safety margin under a limit: 5 % of it, at least 32 MiB. */
export function marginMbFor(limitMb: number): number {
  return Math.max(32, Math.ceil(limitMb * 0.05));
}

/**
 * Derives the worker budget from the container's memory limit and the main heap's limit. Never throws: a limit too
 * small for any worker yields `workers: 0` (and the SBOM check then ends in Error for documents needing a worker).
 */
export function deriveMemoryBudget(limitBytes: number | undefined, mainHeapBytes: number, limitSource: MemoryLimitSource = 'none'): MemoryBudget {
  const mainHeapMb = Math.ceil(mainHeapBytes / MiB);
  if (limitBytes === undefined || !Number.isFinite(limitBytes) || limitBytes <= 0 || limitBytes >= NO_LIMIT_THRESHOLD_BYTES) {
    return {
      limitBytes: undefined,
      limitSource: 'none',
      mainHeapMb,
      workerHeapMb: UNLIMITED_WORKER_HEAP_MB,
      workers: MAX_WORKERS,
      marginMb: 0,
      summary: `no container memory limit: main heap ${mainHeapMb} MiB, ${MAX_WORKERS} SBOM workers of ${UNLIMITED_WORKER_HEAP_MB} MiB (defaults)`,
    };
  }
  const limitMb = Math.floor(limitBytes / MiB);
  const marginMb = marginMbFor(limitMb);
  const available = limitMb - mainHeapMb - PROCESS_OVERHEAD_MB - marginMb;
  let workers = 0;
  let workerHeapMb = 0;
  for (const n of [MAX_WORKERS, 1]) {
    const heap = Math.min(UNLIMITED_WORKER_HEAP_MB, Math.floor(available / n / WORKER_RSS_PER_HEAP_MB));
    if (heap >= (n > 1 ? MIN_WORKER_HEAP_MB : MIN_SINGLE_WORKER_HEAP_MB)) {
      workers = n;
      workerHeapMb = heap;
      break;
    }
  }
  const parts = `limit ${limitMb} MiB (${limitSource}) = main heap ${mainHeapMb} + process ${PROCESS_OVERHEAD_MB} + margin ${marginMb}`;
  return {
    limitBytes,
    limitSource,
    mainHeapMb,
    workerHeapMb,
    workers,
    marginMb,
    summary:
      workers > 0
        ? `${parts} + ${workers} SBOM worker(s) × ${WORKER_RSS_PER_HEAP_MB} × ${workerHeapMb} MiB heap`
        : `${parts}: no room for an SBOM worker (${Math.max(0, available)} MiB left)`,
  };
}

/** Parses a cgroup memory limit file's content: bytes, or undefined for `max` / absurdly large / unreadable. */
export function parseCgroupLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || t === 'max') return undefined;
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && n < NO_LIMIT_THRESHOLD_BYTES ? n : undefined;
}

/** Parses a Kubernetes quantity or a plain byte count (`536870912`, `512Mi`, `1G`) into bytes. */
export function parseMemoryQuantity(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(raw.trim());
  if (!m) return undefined;
  const unit: Record<string, number> = { Ki: 1024, Mi: MiB, Gi: 1024 * MiB, Ti: 1024 * 1024 * MiB, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  const n = Math.floor(Number(m[1]) * (m[2] ? unit[m[2]]! : 1));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

// ---- the main heap's share of an SBOM analysis (issue 16) --------------------------------------------------------

/**
 * Main-heap bytes a typical SBOM analysis result takes per byte of its document, from its arrival (the structured
 * clone from the worker, then the compact result rebuilt from it) until it is cached. Measured
 * (docs/operations.md#memory): the 11.6 MiB generated CycloneDX document of bench/memory.ts (55,541 components) peaks
 * at about 30 MB while it arrives and keeps about 15 MB once cached. Used before an analysis starts (not started
 * when even this has no room) and to size the cache; the exact admission uses the worker's `resultBytesEstimate`.
 */
export const RESULT_BYTES_PER_BYTE = 2;
/**
 * Main-heap bytes per non-primary component of a compact result at its peak while it arrives, besides its strings'
 * characters (counted twice: the clone's copy and the kept one): the received identity object and the rebuilt
 * component (9 fields), their list slots and string headers. Measured: 88 bytes per rebuilt component, 104 for its
 * three own strings, ~150 for the received identity.
 */
export const RESULT_BYTES_PER_COMPONENT = 360;
/** Share of the main heap kept free of SBOM results for the release cache's growth and reconcile work. */
export const MAIN_HEAP_RESERVE_FRACTION = 0.1;
/** Share of the main heap the SBOM analysis cache may hold (estimated result bytes, `RESULT_BYTES_PER_BYTE`). */
export const SBOM_CACHE_HEAP_FRACTION = 0.1;

/** What V8 reports about the main heap (`v8.getHeapStatistics()`), injected so the decision stays pure. */
export interface MainHeapNumbers {
  readonly usedBytes: number;
  readonly limitBytes: number;
}

export type MainHeapAdmission =
  | { readonly admitted: true; readonly needBytes: number }
  /** `transient`: it would fit on this heap, just not now (others in flight, or the heap's use); retry later. */
  | { readonly admitted: false; readonly transient: boolean; readonly needBytes: number; readonly message: string };

const mib = (b: number) => `${Math.ceil(b / MiB)} MiB`;

/**
 * Whether an analysis whose result needs `needBytes` on the main heap may start: the heap's room (limit − used −
 * the reserve of MAIN_HEAP_RESERVE_FRACTION − what admitted analyses in flight hold) must cover it. A result larger
 * than the whole heap minus the reserve can never fit (terminal); otherwise a refusal is transient. Never throws.
 */
export function admitOnMainHeap(heap: MainHeapNumbers, needBytes: number, inFlightBytes: number, what = 'its result'): MainHeapAdmission {
  const reserve = Math.ceil(heap.limitBytes * MAIN_HEAP_RESERVE_FRACTION);
  const room = heap.limitBytes - heap.usedBytes - reserve - inFlightBytes;
  if (Number.isFinite(needBytes) && needBytes >= 0 && needBytes <= room) return { admitted: true, needBytes };
  const ever = heap.limitBytes - reserve;
  if (!(needBytes <= ever)) {
    return {
      admitted: false,
      transient: false,
      needBytes,
      message: `not analysed: ${what} needs about ${mib(needBytes)} of the operator's main heap, more than the ${mib(ever)} it can ever give (heap limit ${mib(heap.limitBytes)} − reserve ${mib(reserve)}); raise the operator's memory limit (Helm value resources.limits.memory)`,
    };
  }
  return {
    admitted: false,
    transient: true,
    needBytes,
    message: `not analysed now: ${what} needs about ${mib(needBytes)} of the operator's main heap, which has ${mib(Math.max(0, room))} free (limit ${mib(heap.limitBytes)}, used ${mib(heap.usedBytes)}, reserve ${mib(reserve)}, analyses in flight ${mib(inFlightBytes)}); retried`,
  };
}

/** The main-heap bytes the compact result of `components` non-primary components with `stringChars` characters in their identity strings takes, at its peak while it arrives. */
export function resultBytesEstimate(components: number, stringChars: number): number {
  return components * RESULT_BYTES_PER_COMPONENT + 2 * stringChars;
}
