/**
 * How the webhook reaches a registry: one narrow interface (GET a manifest by tag, raw bytes), so the
 * admission code never depends on evidence internals and tests can put a hostile registry behind it. The
 * production source is the project's OCI Distribution client (../evidence/oci/client.ts: SSRF guard, TLS,
 * token auth flow, size limit), used only for that one GET.
 */
import { RegistryClient, type RegistryClientOptions } from '../evidence/oci/client.ts';
import type { ImageReference } from '../evidence/oci/reference.ts';

// The webhook's only door into evidence/ (operator/layering.test.ts): image references and the registry client
// options type, re-exported for the admission code.
export { formatReference, parseImageReference, type ImageReference } from '../evidence/oci/reference.ts';
export type { RegistryClientOptions } from '../evidence/oci/client.ts';

export interface FetchedTagManifest {
  /** The manifest bytes exactly as served (bounded by the client's manifest size limit). */
  readonly body: Buffer;
  /** What the registry claimed the digest is (Docker-Content-Digest), if anything; never trusted on its own. */
  readonly claimedDigest?: string;
}

export interface ManifestSource {
  /** GETs the manifest (or index) a tag points to; undefined when the registry says it does not exist. */
  manifestByTag(ref: ImageReference & { tag: string }): Promise<FetchedTagManifest | undefined>;
  close(): void;
}

/** The OCI client behind the ManifestSource interface (one attempt, the review's time budget). */
export class OciManifestSource implements ManifestSource {
  private readonly client: RegistryClient;

  /** `options`: the composition root's registry options (network capability, allow-list, CA, shared cache). */
  constructor(options: RegistryClientOptions, timeoutMs: number) {
    this.client = new RegistryClient({ ...options, timeoutMs, attempts: 1 });
  }

  async manifestByTag(ref: ImageReference & { tag: string }): Promise<FetchedTagManifest | undefined> {
    // GET (never HEAD): the client verifies the body against a claimed digest and otherwise reports the body's
    // own sha256; the caller hashes the bytes again and uses only its own hash.
    const m = await this.client.manifest({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
    return m ? { body: m.bytes, claimedDigest: m.digest } : undefined;
  }

  close(): void {
    this.client.close();
  }
}
