/**
 * Attaches signed in-toto statements (DSSE envelopes) to an image the way cosign stores attestations: the tag
 * `sha256-<hex>.att` of the image's repository holds an OCI image manifest whose layers are the envelopes
 * (media type application/vnd.dsse.envelope.v1+json, annotations `dev.cosignproject.cosign/signature: ""` and
 * `predicateType`). Existing layers of other predicate types (e.g. an SBOM attestation cosign attached) are kept;
 * ours replace earlier ones of the same predicate type. `cosign verify-attestation --key <public key> --type
 * <predicate type>` then verifies them.
 */
import { craError } from '../errors.ts';
import { MEDIA, type Descriptor, type RegistryClient } from '../evidence/oci/client.ts';
import { digestTag, type ImageReference } from '../evidence/oci/reference.ts';
import type { DsseEnvelope } from './vsa.ts';

export const DSSE_LAYER_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** The most layers an attestation manifest may end up with (bounded; cosign keeps one per attestation). */
const MAX_LAYERS = 64;

export interface Attestation {
  readonly predicateType: string;
  readonly envelope: DsseEnvelope;
}

export async function attachAttestations(client: RegistryClient, image: ImageReference, attestations: readonly Attestation[]): Promise<{ tag: string; digest: string }> {
  if (!image.digest) throw craError('ImageReferenceInvalid', `${image.registry}/${image.repository}: attestations attach to an image by digest only`);
  const tag = digestTag(image.digest, '.att');
  const existing = await client.manifest({ registry: image.registry, repository: image.repository, tag });
  const ours = new Set(attestations.map((a) => a.predicateType));
  const kept = (existing?.manifest.layers ?? []).filter((l) => l.mediaType === DSSE_LAYER_MEDIA_TYPE && !ours.has(l.annotations?.predicateType ?? ''));
  const added: Descriptor[] = [];
  for (const a of attestations) {
    const bytes = Buffer.from(JSON.stringify(a.envelope));
    const digest = await client.pushBlob(image.registry, image.repository, bytes);
    added.push({ mediaType: DSSE_LAYER_MEDIA_TYPE, size: bytes.length, digest, annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: a.predicateType } });
  }
  const layers = [...kept, ...added];
  if (layers.length > MAX_LAYERS) throw craError('RegistryContentInvalid', `${tag}: more than ${MAX_LAYERS} attestation layers`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDigest = await client.pushBlob(image.registry, image.repository, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: OCI_CONFIG, size: config.length, digest: configDigest }, layers }));
  const digest = await client.pushManifest(image.registry, image.repository, tag, manifest, MEDIA.ociManifest);
  return { tag, digest };
}
