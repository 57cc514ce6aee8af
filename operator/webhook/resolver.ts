/**
 * Tag → digest for admission (only for registries the policy trusts, see ./gate.ts): the manifest the tag points
 * to is downloaded through a ManifestSource (./registry.ts) and its bytes are hashed here; the digest used is the
 * sha256 of those bytes, and a registry whose Docker-Content-Digest claims something else is an error. Behind a
 * bounded TTL cache with in-flight de-duplication: a tag is asked for at most once per TTL, and an admission
 * review never waits longer than `timeoutMs` for a registry.
 */
import { createHash } from 'node:crypto';
import { formatReference, type ImageReference } from './registry.ts';
import { craError } from '../errors.ts';
import type { DigestResolver } from './gate.ts';
import type { ManifestSource } from './registry.ts';

export interface CachingResolverOptions {
  source: ManifestSource;
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

/** The digest of manifest bytes as served: sha256 of the body; a claimed sha256 digest must agree with it. */
export function digestOfManifest(ref: ImageReference, body: Buffer, claimed: string | undefined): string {
  const own = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (claimed !== undefined && claimed.startsWith('sha256:') && claimed !== own) {
    throw craError('RegistryContentInvalid', `${formatReference(ref)}: the registry claims ${claimed.slice(0, 19)}… but the manifest it served hashes to ${own.slice(0, 19)}…`);
  }
  return own;
}

export class CachingDigestResolver implements DigestResolver {
  private readonly source: ManifestSource;
  private readonly cache = new Map<string, Entry>();
  private readonly opts: Required<Omit<CachingResolverOptions, 'source'>>;

  constructor(options: CachingResolverOptions) {
    this.opts = { timeoutMs: 2000, ttlMs: 5 * 60_000, negativeTtlMs: 30_000, maxEntries: 10_000, ...options };
    this.source = options.source;
  }

  close(): void {
    this.source.close();
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
      const got = await Promise.race([this.source.manifestByTag({ ...ref, tag: ref.tag ?? 'latest' }), timeout]);
      return got ? digestOfManifest(ref, got.body, got.claimedDigest) : undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
