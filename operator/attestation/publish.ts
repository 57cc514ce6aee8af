/**
 * Attaches signed in-toto statements (DSSE envelopes) to an image as OCI 1.1 referrers, the way cosign v3 stores
 * attestations in its bundle format: per statement, a Sigstore bundle (v0.3: the DSSE envelope, the signing key as
 * a public-key hint, no transparency-log entry) is the single layer of an artifact manifest whose `subject` is the
 * image. On a registry without the referrers API (it answers a pushed subject without an `OCI-Subject` header) the
 * referrers tag `sha256-<hex>` (an index of the referrers) is updated as the OCI distribution spec prescribes;
 * entries of other artifact types or predicate types (cosign's own signatures and attestations) are kept, earlier
 * ones of the same predicate type from cra-gate are replaced. `cosign verify-attestation --key <public key>
 * --new-bundle-format --type <predicate type>` verifies them.
 */
import { createHash } from 'node:crypto';
import { craError } from '../errors.ts';
import { MEDIA, type Descriptor, type RegistryClient } from '../evidence/oci/client.ts';
import { digestTag, type ImageReference } from '../evidence/oci/reference.ts';
import type { DsseEnvelope } from './vsa.ts';

export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
const CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
const CREATOR_ANNOTATION = 'dev.cra-gate.attestation';
/** The most entries a referrers tag index may end up with (bounded). */
const MAX_REFERRERS = 256;

export interface Attestation {
  readonly predicateType: string;
  readonly envelope: DsseEnvelope;
}

/** A Sigstore bundle v0.3 for a key-signed DSSE envelope (no log entry, no timestamp: verified by key). */
export function sigstoreBundle(envelope: DsseEnvelope): object {
  const keyid = envelope.signatures[0]?.keyid ?? '';
  return {
    mediaType: SIGSTORE_BUNDLE_V03,
    verificationMaterial: { publicKey: { hint: keyid }, tlogEntries: [], timestampVerificationData: {} },
    dsseEnvelope: { payload: envelope.payload, payloadType: envelope.payloadType, signatures: envelope.signatures.map((x) => ({ sig: x.sig, keyid: '' })) },
  };
}

export async function attachAttestations(client: RegistryClient, image: ImageReference, attestations: readonly Attestation[]): Promise<{ referrers: string[]; fallbackTag?: string }> {
  if (!image.digest) throw craError('ImageReferenceInvalid', `${image.registry}/${image.repository}: attestations attach to an image by digest only`);
  const { registry, repository, digest } = image;
  const subjectManifest = await client.manifest({ registry, repository, digest });
  if (!subjectManifest) throw craError('RegistryContentInvalid', `${registry}/${repository}@${digest.slice(0, 19)}… does not exist`);
  const subject: Descriptor = { mediaType: subjectManifest.mediaType, digest, size: subjectManifest.bytes.length };
  const empty = Buffer.from('{}');
  const emptyDigest = await client.pushBlob(registry, repository, empty);
  const pushed: Descriptor[] = [];
  let needsFallback = false;
  for (const a of attestations) {
    const bundle = Buffer.from(JSON.stringify(sigstoreBundle(a.envelope)));
    const layerDigest = await client.pushBlob(registry, repository, bundle);
    const annotations = { [CONTENT_ANNOTATION]: 'dsse-envelope', [PREDICATE_ANNOTATION]: a.predicateType, [CREATOR_ANNOTATION]: 'cra-gate' };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.ociManifest,
        artifactType: SIGSTORE_BUNDLE_V03,
        config: { mediaType: MEDIA.ociEmpty, digest: emptyDigest, size: empty.length },
        layers: [{ mediaType: SIGSTORE_BUNDLE_V03, digest: layerDigest, size: bundle.length }],
        subject,
        annotations,
      }),
    );
    const { digest: m, subjectProcessed } = await client.pushManifest(registry, repository, digestOf(manifest), manifest, MEDIA.ociManifest);
    if (!subjectProcessed) needsFallback = true;
    pushed.push({ mediaType: MEDIA.ociManifest, digest: m, size: manifest.length, artifactType: SIGSTORE_BUNDLE_V03, annotations });
  }
  if (!needsFallback) return { referrers: pushed.map((d) => d.digest) };
  // The referrers tag schema: keep every entry that is not an earlier cra-gate statement of the same predicate type.
  const tag = digestTag(digest);
  const existing = await client.manifest({ registry, repository, tag });
  const ours = new Set(attestations.map((a) => a.predicateType));
  const kept = (existing?.manifest.manifests ?? []).filter(
    (d) => !(d.annotations?.[CREATOR_ANNOTATION] === 'cra-gate' && ours.has(d.annotations[PREDICATE_ANNOTATION] ?? '')) && !pushed.some((p) => p.digest === d.digest),
  );
  const manifests = [...kept, ...pushed];
  if (manifests.length > MAX_REFERRERS) throw craError('RegistryContentInvalid', `${tag}: more than ${MAX_REFERRERS} referrers`);
  await client.pushManifest(registry, repository, tag, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests })), MEDIA.ociIndex);
  return { referrers: pushed.map((d) => d.digest), fallbackTag: tag };
}

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
