/**
 * The one shape of evidence (issue #15 item 7): what the collectors (operator/evidence/**) fill and the pure checks
 * (operator/checks/**) read. It lives in this shared types module so neither layer imports the other: checks never
 * import evidence/, and evidence/ imports from checks/ only `checks/types.ts` types (test: operator/layering.test.ts).
 *
 * Every field is optional so the product-declaration checks, which read only the release spec, run with `{}`.
 * Absent means "not collected"; a collection failure is an `errors` entry or the family's own `error` field, and the
 * checks needing it report Error (fail closed).
 */
import type { Reason } from '../errors.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import type { VulnFeedsEvidence } from '../vuln/evidence.ts';
import type { DisclosureEvidence } from '../disclosure/evidence.ts';
import type { UserInformationEvidence } from '../conformity/user-information.ts';
import type { SecureDefaultsEvidence } from '../secure-defaults/types.ts';

/** A failure to collect one piece of evidence. Checks needing it return result Error, EvidenceUnavailable. */
export interface EvidenceError {
  /** What was being collected, e.g. `sbom:firmware`, `securityTxt`. */
  readonly source: string;
  readonly reason: Reason;
  readonly message: string;
}

export interface SignerSeen {
  readonly signer: string;
  readonly kind: 'key' | 'keyless';
  readonly source: string;
  /** When the signature was logged (verified transparency-log integratedTime, RFC 3339), if it was. */
  readonly signedAt?: string;
}

export interface Rejection {
  readonly signer: string;
  readonly reason: 'SignatureInvalid' | 'UntrustedSigner' | 'SignedDigestMismatch';
  readonly message: string;
  readonly source: string;
}

/** What was found and verified for one artifact. */
export interface SignatureEvidence {
  readonly artifact: string;
  /** The image reference or URL. */
  readonly subject: string;
  /** `sha256:<hex>` of the image manifest (or the file) the signatures were checked against. */
  readonly digest?: string;
  readonly verified: readonly SignerSeen[];
  readonly rejected: readonly Rejection[];
  /** Attestations found and rejected (not counted), e.g. an SBOM altered after signing. */
  readonly rejectedAttestations: readonly Rejection[];
  /** Accepted SBOM attestations whose signature was logged: when (verified integratedTime, RFC 3339). */
  readonly attested?: readonly SignerSeen[];
  /** Collection failed (registry down, auth, tampered content): the check reports Error. */
  readonly error?: { readonly reason: Reason; readonly message: string };
}

/** Evidence gathered for one evaluation. */
export interface Evidence {
  /** Errors hit while collecting evidence. */
  readonly errors?: readonly EvidenceError[];
  /** SBOM documents per artifact (spec.sboms[], and registry-discovered ones). Absent: not collected. */
  readonly sboms?: readonly SbomEvidence[];
  /** Vulnerability feeds and VEX (collected). Absent: not collected. */
  readonly vulnFeeds?: VulnFeedsEvidence;
  /**
   * BOMs referenced by the release's SBOMs (externalReferences[type=bom], ../evidence/bomrefs.ts): matched
   * like the main SBOMs; an unreadable one makes the vulnerability checks end in Error naming it.
   */
  readonly referencedSboms?: readonly SbomEvidence[];
  /** Documents fetched for disclosure.security-txt, disclosure.cvd-policy and the update-channel probe. */
  readonly disclosure?: DisclosureEvidence;
  /** Fetched `spec.userInformation` documents (only when the policy runs userinfo.annex-ii). */
  readonly userInformation?: UserInformationEvidence;
  /** Shipped manifests and settings (spec.secureDefaults) and configuration rules, for config.secure-defaults. */
  readonly secureDefaults?: SecureDefaultsEvidence;
  /** Per artifact: signatures verified and rejected. Absent: not collected (no artifacts). */
  readonly signatures?: readonly SignatureEvidence[];
  /** The policy's signing configuration could not be loaded (keys, trusted root, pull secrets). */
  readonly signingConfigError?: { readonly reason: Reason; readonly message: string };
}
