/**
 * Finds what lives next to an image in its registry — signatures, attestations, SBOMs — without trusting any
 * of it yet (verification happens in ../signatures.ts):
 *
 * - cosign tags: `sha256-<hex>.sig` (simple-signing payload layers with the signature in the
 *   `dev.cosignproject.cosign/signature` annotation), `sha256-<hex>.att` (DSSE envelope layers),
 *   `sha256-<hex>.sbom` (`cosign attach sbom`).
 * - OCI 1.1 referrers (API, else the `sha256-<hex>` tag index): Sigstore bundles (cosign v3 `sign`/`attest`
 *   with the new bundle format) and artifacts with SBOM artifact types.
 *
 * An attached artifact (referrer or `.sbom` tag) is only taken when its own manifest's `subject.digest` is the
 * image's digest: a referrers answer, the tag index and the `.sbom` tag are all written by whoever can push to
 * the repository (or served by the registry), and a trusted-signed SBOM manifest whose subject is another
 * (older) image must not become this image's SBOM. Artifacts passed over are listed in `foreign`.
 */
import { craError } from '../../errors.ts';
import type { Descriptor, RegistryClient } from './client.ts';
import { MEDIA, parseRegistryJson } from './client.ts';
import { digestTag } from './reference.ts';

export const COSIGN = {
  simpleSigning: 'application/vnd.dev.cosign.simplesigning.v1+json',
  signatureAnnotation: 'dev.cosignproject.cosign/signature',
  certificateAnnotation: 'dev.sigstore.cosign/certificate',
  dsse: 'application/vnd.dsse.envelope.v1+json',
  bundleV03: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  bundlePrefix: 'application/vnd.dev.sigstore.bundle',
} as const;

/** Media / artifact types of SBOM documents (CycloneDX, SPDX; JSON only). */
export const SBOM_TYPES: readonly string[] = [
  'application/vnd.cyclonedx+json',
  'application/vnd.cyclonedx',
  'application/spdx+json',
  'text/spdx+json',
  'application/vnd.spdx+json',
];

export function isSbomType(t: string | undefined): boolean {
  if (!t) return false;
  const base = t.split(';')[0]!.trim().toLowerCase();
  return SBOM_TYPES.includes(base);
}

export interface FoundSignature {
  readonly source: string;
  readonly payload: Buffer;
  readonly signature: Buffer;
  readonly certificate?: string;
}

export interface FoundBundle {
  readonly source: string;
  readonly json: unknown;
}

export interface FoundEnvelope {
  readonly source: string;
  readonly json: unknown;
}

export interface FoundSbom {
  readonly source: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
  /** The manifest that carries the SBOM (its own signatures are looked up by this digest). */
  readonly manifestDigest: string;
}

/** An attached artifact passed over because its manifest's subject is not the image. */
export interface ForeignArtifact {
  readonly source: string;
  /** The manifest's `subject.digest`, or undefined when it has none. */
  readonly subject: string | undefined;
}

export interface Discovered {
  readonly signatures: FoundSignature[];
  readonly bundles: FoundBundle[];
  readonly envelopes: FoundEnvelope[];
  readonly sboms: FoundSbom[];
  readonly foreign: ForeignArtifact[];
}

export interface DiscoverLimits {
  /** Max layers read per signature/attestation manifest (default 16). */
  readonly maxLayers?: number;
  /** Max referrers followed (default 32). */
  readonly maxReferrers?: number;
  /** Max bytes of one signature payload / envelope / bundle (default 4 MiB). */
  readonly maxItemBytes?: number;
  /** Max bytes of one SBOM (default 32 MiB). */
  readonly maxSbomBytes?: number;
}

/** Discovers signatures, attestations and SBOMs of `digest` in `registry/repository`. */
export async function discover(client: RegistryClient, registry: string, repository: string, digest: string, limits: DiscoverLimits = {}): Promise<Discovered> {
  const maxLayers = limits.maxLayers ?? 16;
  const maxItem = limits.maxItemBytes ?? 4 * 1024 * 1024;
  const maxSbom = limits.maxSbomBytes ?? 32 * 1024 * 1024;
  const out: Discovered = { signatures: [], bundles: [], envelopes: [], sboms: [], foreign: [] };
  const repo = `${registry}/${repository}`;

  // The three cosign tags and the referrers are independent: fetch them concurrently.
  const [sig, att, sbom, referrers] = await Promise.all([
    client.manifest({ registry, repository, tag: digestTag(digest, '.sig') }),
    client.manifest({ registry, repository, tag: digestTag(digest, '.att') }),
    client.manifest({ registry, repository, tag: digestTag(digest, '.sbom') }),
    client.referrers(registry, repository, digest),
  ]);

  if (sig) {
    for (const layer of (sig.manifest.layers ?? []).slice(0, maxLayers)) {
      if (layer.mediaType !== COSIGN.simpleSigning) continue;
      const b64 = layer.annotations?.[COSIGN.signatureAnnotation];
      if (!b64) continue;
      const payload = await client.blob(registry, repository, layer.digest, maxItem);
      if (!payload) throw craError('RegistryContentInvalid', `${repo}:${digestTag(digest, '.sig')} refers to a missing payload blob ${layer.digest.slice(0, 19)}…`);
      const cert = layer.annotations?.[COSIGN.certificateAnnotation];
      out.signatures.push({ source: `${repo}:${digestTag(digest, '.sig')}`, payload, signature: Buffer.from(b64, 'base64'), ...(cert ? { certificate: cert } : {}) });
    }
  }
  if (att) {
    for (const layer of (att.manifest.layers ?? []).slice(0, maxLayers)) {
      if (layer.mediaType !== COSIGN.dsse) continue;
      const bytes = await client.blob(registry, repository, layer.digest, maxItem);
      if (!bytes) throw craError('RegistryContentInvalid', `${repo}:${digestTag(digest, '.att')} refers to a missing envelope blob`);
      out.envelopes.push({ source: `${repo}:${digestTag(digest, '.att')}`, json: parseRegistryJson(bytes, `attestation in ${repo}:${digestTag(digest, '.att')}`) });
    }
  }
  if (sbom && sbom.manifest.subject?.digest !== digest) {
    out.foreign.push({ source: `${repo}:${digestTag(digest, '.sbom')}`, subject: sbom.manifest.subject?.digest });
  } else if (sbom) {
    for (const layer of (sbom.manifest.layers ?? []).slice(0, maxLayers)) {
      if (!isSbomType(layer.mediaType)) continue;
      const bytes = await client.blob(registry, repository, layer.digest, maxSbom);
      if (!bytes) continue;
      out.sboms.push({ source: `${repo}:${digestTag(digest, '.sbom')}`, mediaType: layer.mediaType, bytes, manifestDigest: sbom.digest });
    }
  }
  for (const ref of referrers.slice(0, limits.maxReferrers ?? 32)) {
    await readReferrer(client, registry, repository, digest, ref, maxLayers, maxItem, maxSbom, out);
  }
  return out;
}

async function readReferrer(client: RegistryClient, registry: string, repository: string, digest: string, ref: Descriptor, maxLayers: number, maxItem: number, maxSbom: number, out: Discovered): Promise<void> {
  if (ref.mediaType !== MEDIA.ociManifest) return;
  // The index entry should carry the artifactType; some writers leave it out, then the manifest says.
  let m = ref.artifactType ? undefined : await client.manifest({ registry, repository, digest: ref.digest });
  const at = ref.artifactType ?? m?.manifest.artifactType ?? m?.manifest.config?.mediaType ?? '';
  const isBundle = at.startsWith(COSIGN.bundlePrefix);
  const isSbom = isSbomType(at);
  if (!isBundle && !isSbom) return;
  m ??= await client.manifest({ registry, repository, digest: ref.digest });
  if (!m) return;
  const source = `${registry}/${repository}@${ref.digest.slice(0, 19)}… (referrer ${at})`;
  if (m.manifest.subject?.digest !== digest) {
    out.foreign.push({ source, subject: m.manifest.subject?.digest });
    return;
  }
  for (const layer of (m.manifest.layers ?? []).slice(0, maxLayers)) {
    if (isBundle && layer.mediaType.startsWith(COSIGN.bundlePrefix)) {
      const bytes = await client.blob(registry, repository, layer.digest, maxItem);
      if (bytes) out.bundles.push({ source, json: parseRegistryJson(bytes, `bundle ${source}`) });
    } else if (isSbom && (isSbomType(layer.mediaType) || layer.mediaType === 'application/json')) {
      const bytes = await client.blob(registry, repository, layer.digest, maxSbom);
      if (bytes) out.sboms.push({ source, mediaType: layer.mediaType, bytes, manifestDigest: m.digest });
    }
  }
}
