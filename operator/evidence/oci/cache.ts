/**
 * A bounded LRU of immutable content keyed by digest (manifests, blobs, verification results). Shared by all
 * releases: content addressed by digest never changes, so a hit is always correct. Bounded by total bytes.
 */
export interface CacheEntry {
  readonly kind: 'manifest' | 'blob' | 'verdict';
  readonly value: unknown;
  /** Approximate bytes held. */
  readonly size: number;
}

export class DigestCache {
  readonly maxBytes: number;
  #bytes = 0;
  readonly #map = new Map<string, CacheEntry>();
  hits = 0;
  misses = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(key: string): CacheEntry | undefined {
    const e = this.#map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e;
  }

  set(key: string, entry: CacheEntry): void {
    if (entry.size > this.maxBytes / 4) return; // never let one item evict everything
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.size;
      this.#map.delete(key);
    }
    this.#map.set(key, entry);
    this.#bytes += entry.size;
    while (this.#bytes > this.maxBytes && this.#map.size > 0) {
      const [k, v] = this.#map.entries().next().value!;
      this.#map.delete(k);
      this.#bytes -= v.size;
    }
  }

  get size(): number {
    return this.#map.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
