/**
 * Tag → digest for admission, through the OCI registry client (../evidence/oci/client.ts) behind a bounded
 * TTL cache with in-flight de-duplication: a tag is asked for at most once per TTL, and an admission review
 * never waits longer than `timeoutMs` for a registry.
 */
import { RegistryClient, sharedCache, type RegistryClientOptions } from '../evidence/oci/client.ts';
import { formatReference, type ImageReference } from '../evidence/oci/reference.ts';
import { craError } from '../errors.ts';
import type { DigestResolver } from './gate.ts';

export interface CachingResolverOptions {
  registry: RegistryClientOptions;
  /** Per resolution, including the registry's token flow (default 2000 ms). */
  timeoutMs?: number;
  /** How long a resolved tag is trusted (default 5 min). */
  ttlMs?: number;
  /** How long a failure or unknown tag is remembered (default 30 s). */
  negativeTtlMs?: number;
  maxEntries?: number;
}

interface Entry {
  expires: number;
  value: Promise<string | undefined>;
}

export class CachingDigestResolver implements DigestResolver {
  private readonly client: RegistryClient;
  private readonly cache = new Map<string, Entry>();
  private readonly opts: Required<Omit<CachingResolverOptions, 'registry'>>;

  constructor(options: CachingResolverOptions) {
    this.opts = { timeoutMs: 2000, ttlMs: 5 * 60_000, negativeTtlMs: 30_000, maxEntries: 10_000, ...options };
    this.client = new RegistryClient({ cache: sharedCache, ...options.registry, timeoutMs: this.opts.timeoutMs, attempts: 1 });
  }

  close(): void {
    this.client.close();
  }

  resolve(ref: ImageReference): Promise<string | undefined> {
    if (ref.digest) return Promise.resolve(ref.digest);
    const key = formatReference(ref);
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.value;
    const entry: Entry = { expires: now + this.opts.ttlMs, value: Promise.resolve(undefined) };
    entry.value = this.fetch(ref).then(
      (d) => {
        if (!d) entry.expires = Date.now() + this.opts.negativeTtlMs;
        return d;
      },
      (err: unknown) => {
        entry.expires = Date.now() + this.opts.negativeTtlMs;
        throw err;
      },
    );
    entry.value.catch(() => undefined);
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > this.opts.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return entry.value;
  }

  private async fetch(ref: ImageReference): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(craError('RegistryUnavailable', `resolving ${formatReference(ref)} took longer than ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
    });
    try {
      return await Promise.race([this.client.resolve(ref), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
