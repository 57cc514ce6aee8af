/**
 * Vulnerability feeds (OSV, NVD CVE API 2.0 records, CISA KEV) from ConfigMaps, HTTPS URLs or OCI artifacts, shared by every release whose policy
 * names them. The store keeps the last GOOD content of each feed: a refresh that fails (network, malformed
 * data, digest mismatch) records the error and keeps the previous content in use. URLs are fetched through
 * the SSRF guard with If-None-Match / If-Modified-Since when the previous response gave an ETag /
 * Last-Modified; a 304 answer keeps the content in use without a download. OCI artifacts are read with the
 * registry client (manifest → the feed layer, both verified against their digests). `refresh()` reports whether the content changed (by SHA-256), which the operator uses to
 * re-evaluate the releases of the policies using the feed (../controller/feed-refresher.ts).
 */
import { createHash } from 'node:crypto';
import type { ReleasePolicy, VulnerabilityFeed } from '../api/types.ts';
import { craError, errorMessage, isCraGateError, reasonOf } from '../errors.ts';
import type { Reason } from '../errors.ts';
import { redactUrls } from '../util/redact.ts';
import { FeedFormatError } from '../vuln/errors.ts';
import type { FeedState } from '../vuln/evidence.ts';
import { parseKev } from '../vuln/kev.ts';
import type { KevCatalogue } from '../vuln/kev.ts';
import { OsvIndex } from '../vuln/match.ts';
import { indexOsvDocuments } from '../vuln/bundle.ts';
import { NvdIndex, parseNvdFeed } from '../vuln/nvd.ts';
import type { NvdRecord } from '../vuln/nvd.ts';
import type { EvidenceSources } from './collect.ts';
import { fetchBytes } from './https.ts';
import type { FetchOptions, FetchResult } from './https.ts';
import { RegistryClient } from './oci/client.ts';
import type { Descriptor, RegistryClientOptions } from './oci/client.ts';
import { parseImageReference } from './oci/reference.ts';

export type FeedKind = 'osv' | 'kev' | 'nvd';

export interface FeedRef {
  readonly kind: FeedKind;
  readonly url?: string;
  readonly digest?: string;
  /** OCI artifact reference (tag or digest). */
  readonly oci?: string;
  readonly configMapRef?: { readonly namespace: string; readonly name: string; readonly key?: string };
}

export function feedRefs(policy: ReleasePolicy | undefined): FeedRef[] {
  return (policy?.spec.vulnerabilityFeeds ?? []).flatMap((f: VulnerabilityFeed): FeedRef[] => {
    if (f.osv) return [{ kind: 'osv', ...f.osv }];
    if (f.kev) return [{ kind: 'kev', ...f.kev }];
    if (f.nvd) return [{ kind: 'nvd', ...f.nvd }];
    return [];
  });
}

export function feedKey(f: FeedRef): string {
  if (f.configMapRef) return `${f.kind}:ConfigMap ${f.configMapRef.namespace}/${f.configMapRef.name}${f.configMapRef.key ? `/${f.configMapRef.key}` : ''}`;
  if (f.oci) return `${f.kind}:oci://${f.oci}`;
  return `${f.kind}:${f.url ?? '?'}`;
}

/** The feed's name in status, logs and messages: URL credentials (userinfo, query values) redacted. */
export function feedSourceName(f: FeedRef): string {
  return redactUrls(feedKey(f).slice(f.kind.length + 1));
}

interface Entry {
  state: FeedState;
  /** OSV: the index built while the feed was read (the feed's records are not kept otherwise). */
  osv?: OsvIndex;
  nvd?: NvdRecord[];
  kev?: KevCatalogue;
  etag?: string;
  lastModified?: string;
  checkedAt: number;
}

export interface FeedStoreOptions {
  /** Content older than this is re-read on use (default 3600 s; the operator passes --feed-refresh). */
  readonly maxAgeMs?: number;
  readonly fetch?: (url: string, opts: FetchOptions) => Promise<FetchResult>;
  /** HTTPS options for `url` feeds, network capability included (absent: no network, every URL feed fails). */
  readonly fetchOptions?: FetchOptions;
  /** Registry client options for `oci` feeds, network capability included (absent: no network). */
  readonly registry?: RegistryClientOptions;
  /** Heap a feed may take while parsed (the memory budget's, feedBudgetFor); absent: no budget check. */
  readonly budget?: FeedBudget;
  /** Max bytes of one feed download (default 512 MiB). */
  readonly maxBytes?: number;
  readonly now?: () => number;
}

export interface RefreshResult {
  readonly key: string;
  readonly changed: boolean;
  readonly state: FeedState;
}

/** SHA-256 of the documents' concatenation, without copying them into one buffer. */
function sha256Of(docs: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const d of docs) h.update(d);
  return `sha256:${h.digest('hex')}`;
}

function digestOk(bytes: Uint8Array, declared: string): boolean {
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(declared);
  return m !== null && createHash(m[1]!).update(bytes).digest('hex') === m[2];
}

/** How long feed content is used before it is re-read, unless configured (CRA_GATE_FEED_REFRESH_SECONDS in config.ts). */
export const DEFAULT_FEED_MAX_AGE_MS = 3600_000;

export class FeedStore {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<RefreshResult>>();
  private readonly indexes = new Map<string, OsvIndex>();
  private readonly nvdIndexes = new Map<string, NvdIndex>();
  private readonly opts: FeedStoreOptions;

  constructor(opts: FeedStoreOptions = {}) {
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  state(ref: FeedRef): FeedState | undefined {
    return this.entries.get(feedKey(ref))?.state;
  }

  /** Feed content for evaluation: loads it when never loaded or older than maxAge (concurrent callers share one load). */
  async get(ref: FeedRef, sources: EvidenceSources, signal?: AbortSignal): Promise<{ state: FeedState; osv?: OsvIndex; nvd?: NvdRecord[]; kev?: KevCatalogue }> {
    const key = feedKey(ref);
    const e = this.entries.get(key);
    const maxAge = this.opts.maxAgeMs ?? DEFAULT_FEED_MAX_AGE_MS;
    if (!e || this.now() - e.checkedAt >= maxAge) await this.refresh(ref, sources, signal);
    const cur = this.entries.get(key)!;
    return { state: cur.state, ...(cur.osv ? { osv: cur.osv } : {}), ...(cur.nvd ? { nvd: cur.nvd } : {}), ...(cur.kev ? { kev: cur.kev } : {}) };
  }

  /** Re-read one feed; `changed` when the content in use changed. Never throws. */
  refresh(ref: FeedRef, sources: EvidenceSources, signal?: AbortSignal): Promise<RefreshResult> {
    const key = feedKey(ref);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.doRefresh(ref, key, sources, signal)
      .then((r) => {
        if (r.changed) this.emitChange(ref, r);
        return r;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private readonly listeners = new Set<(ref: FeedRef, result: RefreshResult) => void>();

  /**
   * Subscribes to content changes: called whenever a refresh — by the refresh loop or inside a reconcile
   * that found the feed stale — replaced the content in use. Returns the unsubscribe function.
   */
  onChange(listener: (ref: FeedRef, result: RefreshResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emitChange(ref: FeedRef, result: RefreshResult): void {
    for (const l of this.listeners) {
      try {
        l(ref, result);
      } catch {
        // A listener's failure must not break the refresh.
      }
    }
  }

  /** The OSV index over several feeds (their indexes merged; cached by their digests). */
  index(parts: readonly { state: FeedState; osv?: OsvIndex }[]): OsvIndex {
    const id = parts.map((p) => p.state.digest ?? '-').join('+');
    let idx = this.indexes.get(id);
    if (!idx) {
      idx = OsvIndex.merge(parts.flatMap((p) => (p.osv ? [p.osv] : [])));
      this.indexes.set(id, idx);
      while (this.indexes.size > 8) this.indexes.delete(this.indexes.keys().next().value!);
    }
    return idx;
  }

  /**
   * Drops the cached policy indexes built over replaced content, so a changed feed's previous index is not kept
   * alive by the cache (a 100k-record index is tens of MiB). Another feed with the same content just rebuilds.
   */
  private forgetIndexes(digest: string | undefined): void {
    if (!digest) return;
    for (const cache of [this.indexes, this.nvdIndexes] as Map<string, unknown>[]) {
      for (const id of [...cache.keys()]) if (id.split('+').includes(digest)) cache.delete(id);
    }
  }

  /** The NVD (CPE) index over several feeds' records (cached by their digests). */
  nvdIndex(parts: readonly { state: FeedState; nvd?: NvdRecord[] }[]): NvdIndex {
    const id = parts.map((p) => p.state.digest ?? '-').join('+');
    let idx = this.nvdIndexes.get(id);
    if (!idx) {
      idx = new NvdIndex(parts.flatMap((p) => p.nvd ?? []));
      this.nvdIndexes.set(id, idx);
      while (this.nvdIndexes.size > 8) this.nvdIndexes.delete(this.nvdIndexes.keys().next().value!);
    }
    return idx;
  }

  private async read(ref: FeedRef, prev: Entry | undefined, sources: EvidenceSources, signal?: AbortSignal): Promise<{ docs: { name: string; bytes: Uint8Array }[]; notModified?: boolean; etag?: string; lastModified?: string }> {
    if (ref.configMapRef) {
      const { namespace, name, key } = ref.configMapRef;
      const data = await sources.readConfigMap(namespace, name);
      if (!data) throw new FeedFormatError(`ConfigMap ${namespace}/${name} not found`);
      const keys = key ? [key] : Object.keys(data).sort();
      if (key && data[key] === undefined) throw new FeedFormatError(`ConfigMap ${namespace}/${name} has no key ${key}`);
      if (keys.length === 0) throw new FeedFormatError(`ConfigMap ${namespace}/${name} is empty`);
      return { docs: keys.map((k) => ({ name: `ConfigMap ${namespace}/${name} key ${k}`, bytes: Buffer.from(data[k]!, 'utf8') })) };
    }
    if (ref.oci) return this.readOci(ref.oci, signal);
    if (!ref.url) throw new FeedFormatError('feed has none of url, configMapRef or oci');
    const headers: Record<string, string> = {};
    if (prev?.etag) headers['if-none-match'] = prev.etag;
    if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
    const base: FetchOptions = this.opts.fetchOptions ?? {};
    const opts: FetchOptions = { maxBytes: this.opts.maxBytes ?? 512 * 1024 * 1024, timeoutMs: 120_000, ...base, headers: { ...base.headers, ...headers }, ...(signal ? { signal } : {}) };
    const r: FetchResult = await (this.opts.fetch ?? fetchBytes)(ref.url, opts);
    // A 304 is only returned as a result when validators were sent (i.e. there is previous content).
    if (r.notModified || r.status === 304) {
      if (prev?.state.digest) return { docs: [], notModified: true };
      throw new FeedFormatError(`${ref.url}: HTTP 304 without previous content`);
    }
    const h = r.headers;
    if (ref.digest && !digestOk(r.bytes, ref.digest)) throw new FeedFormatError(`${ref.url}: content does not have the declared digest ${ref.digest.slice(0, 20)}…`);
    return {
      docs: [{ name: ref.url, bytes: r.bytes }],
      ...(h?.etag ? { etag: h.etag } : {}),
      ...(h?.['last-modified'] ? { lastModified: h['last-modified'] } : {}),
    };
  }

  /** The feed layer of an OCI artifact: the single layer, or the one layer with a JSON / ZIP media type. */
  private async readOci(raw: string, signal?: AbortSignal): Promise<{ docs: { name: string; bytes: Uint8Array }[] }> {
    let ref;
    try {
      ref = parseImageReference(raw);
    } catch (err) {
      throw new FeedFormatError(`oci ${raw.slice(0, 120)}: ${errorMessage(err, 160)}`);
    }
    const client = new RegistryClient({ ...this.opts.registry, ...(signal ? { signal } : {}) });
    try {
      return await this.readOciLayer(client, ref, raw);
    } finally {
      client.close();
    }
  }

  private async readOciLayer(client: RegistryClient, ref: ReturnType<typeof parseImageReference>, raw: string): Promise<{ docs: { name: string; bytes: Uint8Array }[] }> {
    const m = await client.manifest(ref);
    if (!m) throw new FeedFormatError(`oci ${raw.slice(0, 120)}: artifact not found`);
    const layers = m.manifest.layers ?? [];
    if (m.manifest.manifests || layers.length === 0) throw new FeedFormatError(`oci ${raw.slice(0, 120)}: not a single-artifact manifest with layers (an index or an empty manifest)`);
    let layer: Descriptor | undefined = layers.length === 1 ? layers[0] : undefined;
    if (!layer) {
      const fit = layers.filter((l) => /(^|[/+.])(json|zip)($|[+;])/i.test(l.mediaType));
      if (fit.length !== 1) throw new FeedFormatError(`oci ${raw.slice(0, 120)}: ${layers.length} layers and ${fit.length} with a JSON/ZIP media type; cannot tell which is the feed`);
      layer = fit[0];
    }
    const max = this.opts.maxBytes ?? 512 * 1024 * 1024;
    if (layer!.size > max) throw new FeedFormatError(`oci ${raw.slice(0, 120)}: layer of ${layer!.size} bytes exceeds the limit of ${max} bytes`);
    const bytes = await client.blob(ref.registry, ref.repository, layer!.digest, max);
    if (!bytes) throw new FeedFormatError(`oci ${raw.slice(0, 120)}: layer ${layer!.digest.slice(0, 19)}… not found`);
    return { docs: [{ name: `oci ${raw} (manifest ${m.digest})`, bytes }] };
  }

  private async doRefresh(ref: FeedRef, key: string, sources: EvidenceSources, signal?: AbortSignal): Promise<RefreshResult> {
    const prev = this.entries.get(key);
    const source = feedSourceName(ref);
    const now = this.now();
    try {
      const got = await this.read(ref, prev, sources, signal);
      if (got.notModified && prev) {
        prev.checkedAt = now;
        const { error: _e, ...rest } = prev.state;
        prev.state = rest;
        return { key, changed: false, state: prev.state };
      }
      const digest = sha256Of(got.docs.map((d) => d.bytes));
      if (prev && prev.state.digest === digest) {
        prev.checkedAt = now;
        const { error: _e, ...rest } = prev.state;
        prev.state = rest;
        return { key, changed: false, state: prev.state };
      }
      // Refused before parsing when its estimated heap does not fit the budget: an Error naming it, never an OOM.
      const over = feedOverBudget(got.docs.reduce((n, d) => n + d.bytes.byteLength, 0), this.opts.budget);
      if (over) throw craError('MemoryBudgetExceeded', over);
      const entry: Entry = { state: { kind: ref.kind, source, digest, records: 0, loadedAt: new Date(now).toISOString() }, checkedAt: now };
      if (got.etag) entry.etag = got.etag;
      if (got.lastModified) entry.lastModified = got.lastModified;
      if (ref.kind === 'osv') {
        entry.osv = await indexOsvDocuments(got.docs);
        entry.state = { ...entry.state, records: entry.osv.recordCount };
      } else if (ref.kind === 'nvd') {
        entry.nvd = got.docs.flatMap((d) => parseNvdFeed(d.bytes, d.name));
        const unconfigured = entry.nvd.filter((r) => r.matches.length === 0).length;
        entry.state = { ...entry.state, records: entry.nvd.length, ...(unconfigured > 0 ? { unconfigured } : {}) };
      } else {
        const cats = got.docs.map((d) => parseKev(d.bytes, d.name));
        const entries = new Map(cats.flatMap((c) => [...c.entries]));
        entry.kev = { catalogVersion: cats.map((c) => c.catalogVersion).join('+'), entries };
        entry.state = { ...entry.state, records: entries.size };
      }
      this.entries.set(key, entry);
      this.forgetIndexes(prev?.state.digest);
      return { key, changed: true, state: entry.state };
    } catch (err) {
      const reason: Reason = err instanceof FeedFormatError ? 'FeedInvalid' : isCraGateError(err) ? reasonOf(err) : 'FeedInvalid';
      const error = { reason, message: errorMessage(err, 240) };
      if (prev) {
        prev.checkedAt = now;
        prev.state = { ...prev.state, error };
        return { key, changed: false, state: prev.state };
      }
      const state: FeedState = { kind: ref.kind, source, records: 0, error };
      // Remember the failure briefly so a broken feed is not re-read by every reconcile.
      this.entries.set(key, { state, checkedAt: now - Math.max(0, (this.opts.maxAgeMs ?? DEFAULT_FEED_MAX_AGE_MS) - 30_000) });
      return { key, changed: false, state };
    }
  }
}

// ---- memory budget (issue 16) ------------------------------------------------------------------------------

/**
 * Main-heap bytes per feed byte while a feed is parsed and indexed, rounded up from measurement: 100,000 OSV records
 * from a 31 MiB ZIP bundle hold 31 MiB of heap after GC as their compact index (1.0×; 72 MiB, 2.3×, before the
 * compact index entries of issue #16; records with OSV's usual details/references keep less per byte), and records
 * are indexed one at a time, so what is in flight is one record's garbage; 4× is kept as a conservative margin
 * (records with long `versions` lists cost more per byte). (Before records were indexed while read: 132 MiB after GC.) Feeds are parsed on the main thread, so they are bounded by its heap.
 */
export const FEED_HEAP_BYTES_PER_BYTE = 4;
/** The share of the main heap one feed may take (the rest holds the caches and the reconciles). */
export const FEED_HEAP_SHARE = 0.6;

/** How much main heap one feed may take while parsed; passed to the FeedStore by the composition root. */
export interface FeedBudget {
  readonly maxHeapBytes: number;
  readonly summary: string;
}

/** The feed budget for a main heap of `mainHeapMb` (the memory budget, ../memory-budget.ts); undefined: none. */
export function feedBudgetFor(mainHeapMb: number | undefined, summary = ''): FeedBudget | undefined {
  return mainHeapMb === undefined ? undefined : { maxHeapBytes: Math.floor(mainHeapMb * FEED_HEAP_SHARE * 1024 * 1024), summary };
}

/** Why a feed of `sizeBytes` cannot be parsed within the budget (before parsing), or undefined when it fits. */
export function feedOverBudget(sizeBytes: number, budget: FeedBudget | undefined): string | undefined {
  if (!budget) return undefined;
  const estimate = sizeBytes * FEED_HEAP_BYTES_PER_BYTE;
  if (estimate <= budget.maxHeapBytes) return undefined;
  const mib = (b: number): string => (b / 1024 / 1024).toFixed(0);
  return (
    `not loaded: a ${(sizeBytes / 1024 / 1024).toFixed(1)} MiB feed needs about ${mib(estimate)} MiB of heap to parse and index (${FEED_HEAP_BYTES_PER_BYTE} × its size), ` +
    `more than the ${mib(budget.maxHeapBytes)} MiB feeds may use (${FEED_HEAP_SHARE * 100} % of the main heap; ${budget.summary}); raise the operator's memory limit (Helm value resources.limits.memory)`
  );
}
