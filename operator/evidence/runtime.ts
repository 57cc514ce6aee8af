/**
 * What evidence collection needs besides the release and its sources: the network capability with its settings,
 * and the shared caches and limits. Created ONCE by a composition root — operator/main.ts for the operator, the
 * CLI's evaluation (operator/cli/evaluate-files.ts) for `cra-gate evaluate` / `dossier` — and passed to every
 * collector in `CollectContext.runtime`. Nothing here is a module singleton, and nothing reads the environment:
 * the roots parse it (operator/config.ts, operator/network-config.ts).
 *
 * `network: 'deny'` (the CLI's --offline) reaches the lowest layer: every HTTPS request (https.ts fetchBytes)
 * and every registry request (oci/client.ts) is refused with EvidenceUnavailable naming the URL. Options
 * built without the capability are refused too, so a call site that forgets it cannot go online.
 */
import { FeedStore, DEFAULT_FEED_MAX_AGE_MS } from './feeds.ts';
import type { FeedBudget } from './feeds.ts';
import type { FetchOptions, NetworkAccess } from './https.ts';
import { DigestCache } from './oci/cache.ts';
import { DEFAULT_CACHE_BYTES } from './oci/client.ts';
import type { RegistryClientOptions } from './oci/client.ts';
import { makeSbomAnalyser } from './sbom.ts';
import type { SbomAnalyser, SbomAnalyserOptions } from './sbom.ts';

export interface EvidenceRuntime {
  /** The network capability every client below was built with. */
  readonly network: NetworkAccess;
  /** Base options of every HTTPS fetch (network, allow-list, CA); collectors add size, time and signal. */
  readonly http: FetchOptions;
  /** Base options of every registry client (network, allow-list, insecure hosts, CA, the shared digest cache). */
  readonly registry: RegistryClientOptions;
  /** Vulnerability feeds: last good content per feed, shared by every release. */
  readonly feeds: FeedStore;
  /** The one SBOM analysis path (LRU by digest, worker threads under a concurrency limit). */
  readonly analyseSbom: SbomAnalyser;
}

/** Network settings parsed from the environment or flags by a composition root (operator/network-config.ts). */
export interface NetworkSettings {
  readonly http?: Pick<FetchOptions, 'allowHosts' | 'ca'>;
  readonly registry?: Pick<RegistryClientOptions, 'allowHosts' | 'insecureHosts' | 'ca' | 'timeoutMs'>;
}

export interface EvidenceRuntimeOptions extends NetworkSettings {
  readonly network: NetworkAccess;
  /** How long feed content is used before it is re-read (default 1 h). */
  readonly feedMaxAgeMs?: number;
  /** SBOM analysis: the memory budget's worker heap and count, cache bounds (default DEFAULT_SBOM_WORKER_BUDGET). */
  readonly sbom?: SbomAnalyserOptions;
  /** Heap one feed may take while parsed (the memory budget's); absent: no budget check. */
  readonly feedBudget?: FeedBudget;
  /** Bytes of the registry content cache (default 64 MiB). */
  readonly digestCacheBytes?: number;
}

export function createEvidenceRuntime(opts: EvidenceRuntimeOptions): EvidenceRuntime {
  const network = opts.network;
  const http: FetchOptions = { ...opts.http, network };
  const registry: RegistryClientOptions = { ...opts.registry, network, cache: new DigestCache(opts.digestCacheBytes ?? DEFAULT_CACHE_BYTES) };
  return {
    network,
    http,
    registry,
    feeds: new FeedStore({ maxAgeMs: opts.feedMaxAgeMs ?? DEFAULT_FEED_MAX_AGE_MS, fetchOptions: http, registry, ...(opts.feedBudget ? { budget: opts.feedBudget } : {}) }),
    analyseSbom: makeSbomAnalyser(opts.sbom),
  };
}
