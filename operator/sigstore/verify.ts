/**
 * Signature verification through Sigstore's own libraries — no hand-rolled crypto:
 *
 * - Sigstore bundles v0.1–v0.3 (`@sigstore/bundle` parses and validates them, `@sigstore/verify`'s Verifier
 *   checks them): with a public key (cosign `--key`), or keyless (Fulcio-style certificate chaining to a CA of
 *   the policy's trusted root, transparency-log inclusion proven against the root's log keys, SCTs when the
 *   root lists CT logs), then the signer identity is matched against the policy here.
 * - cosign's legacy formats: a simple-signing payload signed with a key (`.sig` tags) is checked with
 *   `@sigstore/core`'s crypto; a DSSE envelope (`.att` tags) is wrapped in a v0.3 bundle and checked by the
 *   Verifier like any other.
 * - Ed25519 keys: cosign signs with Ed25519ph (RFC 8032 §5.1, pre-hashed: SHA-512 of the signed bytes, empty
 *   context — sigstore/sigstore `pkg/signature/ed25519ph.go`), which Node's crypto cannot check. A signature
 *   under a trusted Ed25519 key is accepted when it verifies as pure Ed25519 (node:crypto) or as Ed25519ph
 *   (`@noble/curves`) over the very same bytes: the simple-signing payload, a message signature's artifact, or
 *   a DSSE envelope's PAE. For bundles only the signature primitive is swapped: `@sigstore/verify` still does
 *   every other check (key, transparency-log entries and their binding to the signature and digest).
 *
 * What was signed (the image digest in the payload, the in-toto subject) is checked by the caller: a valid
 * signature over another digest is not a signature of this artifact.
 */
import type { KeyObject } from 'node:crypto';
import { createHash, createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import type { Bundle } from '@sigstore/bundle';
import { crypto as score, dsse, X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import type { SignedEntity, Signer } from '@sigstore/verify';
import { craError, errorMessage } from '../errors.ts';

export interface TrustedKey {
  /** Where it came from, e.g. `Secret cra-gate/acme-cosign-pub key cosign.pub`. */
  readonly source: string;
  readonly key: KeyObject;
  /** SHA-256 of the SPKI DER, hex (a stable short name for the key: the first 12 characters). */
  readonly fingerprint: string;
}

export interface KeylessIdentity {
  readonly issuer: string;
  readonly subject?: string;
  readonly subjectRegExp?: string;
}

export interface TrustPolicy {
  readonly keys: readonly TrustedKey[];
  readonly keyless: readonly KeylessIdentity[];
  /** Sigstore TrustedRoot (CAs, transparency logs, CT logs, TSAs) for keyless; required when keyless is used. */
  readonly trustedRoot?: TrustedRoot;
}

export type Verdict =
  /** `signedAt`: the verified transparency-log entry's integratedTime (RFC 3339), when the bundle has one. */
  | { readonly ok: true; readonly signer: string; readonly kind: 'key' | 'keyless'; readonly signedAt?: string }
  | { readonly ok: false; readonly reason: 'SignatureInvalid' | 'UntrustedSigner'; readonly signer: string; readonly message: string };

/**
 * Parses a PEM public key (ECDSA P-256/P-384, Ed25519, RSA). Throws SigningConfigInvalid. The input may come
 * from a Secret: messages name the source, never the content or a parser's excerpt of it.
 */
export function parsePublicKey(pem: string, source: string): TrustedKey {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw craError('SigningConfigInvalid', `${source} is not a PEM public key (ECDSA, Ed25519 or RSA SubjectPublicKeyInfo)`);
  }
  const t = key.asymmetricKeyType;
  if (t !== 'ec' && t !== 'ed25519' && t !== 'rsa') throw craError('SigningConfigInvalid', `${source}: unsupported key type ${t}`);
  const der = key.export({ type: 'spki', format: 'der' });
  return { source, key, fingerprint: createHash('sha256').update(der).digest('hex') };
}

/**
 * Parses a Sigstore TrustedRoot JSON document. Throws SigningConfigInvalid. The document may come from a
 * Secret: messages say which step failed, never quote the content (JSON.parse errors include an excerpt).
 */
export function parseTrustedRoot(json: string, source: string): TrustedRoot {
  let doc: { mediaType?: unknown };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    throw craError('SigningConfigInvalid', `${source}: invalid Sigstore trusted root: not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.mediaType !== 'string' || !doc.mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw craError('SigningConfigInvalid', `${source}: invalid Sigstore trusted root: no application/vnd.dev.sigstore.trustedroot mediaType`);
  }
  try {
    const root = TrustedRoot.fromJSON(doc);
    toTrustMaterial(root); // validates the keys and certificates it carries
    return root;
  } catch {
    throw craError('SigningConfigInvalid', `${source}: invalid Sigstore trusted root: its keys, certificates or log entries do not parse`);
  }
}

/** The raw 32-byte Ed25519 public key (RFC 8032 encoding) of a KeyObject. */
function ed25519Raw(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/**
 * Ed25519ph as cosign/sigstore produce it: RFC 8032 §5.1 with PH = SHA-512 over `message` and an empty context
 * (Go's `ed25519.PrivateKey.Sign(rand, sha512(message), crypto.SHA512)`). Strict RFC 8032 decoding (no ZIP-215).
 */
export function verifyEd25519ph(message: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  if (key.asymmetricKeyType !== 'ed25519' || key.type !== 'public' || signature.length !== 64) return false;
  try {
    return ed25519ph.verify(signature, message, ed25519Raw(key), { zip215: false });
  } catch {
    return false;
  }
}

/** A signature over `message` under `key`: Ed25519 keys as pure Ed25519 or, failing that, as Ed25519ph. */
function verifyRaw(message: Buffer, key: KeyObject, signature: Buffer): boolean {
  if (score.verify(message, key, signature, hashFor(key))) return true;
  return key.asymmetricKeyType === 'ed25519' && verifyEd25519ph(message, key, signature);
}

/**
 * The bundle as @sigstore/verify sees it, with the signature primitive extended for Ed25519 keys to accept
 * Ed25519ph over the same signed bytes (the artifact for a message signature, the PAE for DSSE). Everything
 * else — digests, tlog bodies, signature comparison — is the library's own content object, untouched.
 */
function signedEntity(bundle: Bundle, data: Buffer | undefined): SignedEntity {
  const entity = toSignedEntity(bundle, data);
  const c = bundle.content;
  const signed = c.$case === 'dsseEnvelope' ? dsse.preAuthEncoding(c.dsseEnvelope.payloadType, c.dsseEnvelope.payload) : data;
  if (!signed) return entity;
  const content = entity.signature;
  return {
    ...entity,
    signature: {
      get signature() {
        return content.signature;
      },
      compareSignature: (sig) => content.compareSignature(sig),
      compareDigest: (digest) => content.compareDigest(digest),
      compareSignedDigest: (digest) => content.compareSignedDigest(digest),
      verifySignature: (key) => content.verifySignature(key) || (key.asymmetricKeyType === 'ed25519' && verifyEd25519ph(signed, key, content.signature)),
    },
  };
}

function keyName(k: TrustedKey): string {
  return `key ${k.fingerprint.slice(0, 12)} (${k.source})`;
}

/** The hash a key type signs with in cosign's simple signing (Ed25519 signs the message itself). */
function hashFor(key: KeyObject): string | undefined {
  return key.asymmetricKeyType === 'ed25519' ? undefined : 'sha256';
}

/**
 * cosign's legacy key-based signature: `signature` (raw bytes) over the simple-signing `payload`. Returns
 * the trusted key that verifies it, or a failure naming why.
 */
export function verifyPayloadSignature(payload: Buffer, signature: Buffer, policy: TrustPolicy): Verdict {
  for (const k of policy.keys) {
    if (verifyRaw(payload, k.key, signature)) return { ok: true, signer: keyName(k), kind: 'key' };
  }
  return {
    ok: false,
    reason: 'UntrustedSigner',
    signer: 'an unknown key',
    message: policy.keys.length === 0 ? 'the policy trusts no keys' : `the signature verifies under none of the ${policy.keys.length} trusted key(s) (signed by another key, or altered)`,
  };
}

const EMPTY_ROOT = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });

/** Parses a serialized bundle (v0.1–v0.3). Throws RegistryContentInvalid when it is not one. */
export function parseBundle(json: unknown, what: string): Bundle {
  try {
    return bundleFromJSON(json);
  } catch (err) {
    throw craError('RegistryContentInvalid', `${what} is not a valid Sigstore bundle: ${errorMessage(err, 120)}`);
  }
}

/** The identity a bundle's certificate claims, before verification (for messages only). */
function claimedIdentity(bundle: Bundle): string {
  const vm = bundle.verificationMaterial.content;
  const raw = vm.$case === 'certificate' ? vm.certificate.rawBytes : vm.$case === 'x509CertificateChain' ? vm.x509CertificateChain.certificates[0]?.rawBytes : undefined;
  if (!raw) return 'a certificate';
  try {
    const cert = X509Certificate.parse(Buffer.from(raw));
    const issuer = cert.extension('1.3.6.1.4.1.57264.1.8')?.valueObj.subs?.[0]?.value.toString('utf8') ?? cert.extension('1.3.6.1.4.1.57264.1.1')?.value.toString('ascii');
    return `certificate ${cert.subjectAltName ?? '(no SAN)'} from ${issuer ?? '(no issuer)'} (unverified)`;
  } catch {
    return 'an unparseable certificate';
  }
}

function identityOf(signer: Signer): { subject: string; issuer: string } {
  return { subject: signer.identity?.subjectAlternativeName ?? '', issuer: signer.identity?.extensions?.issuer ?? '' };
}

function identityMatches(id: { subject: string; issuer: string }, want: KeylessIdentity): boolean {
  if (id.issuer !== want.issuer) return false;
  if (want.subject !== undefined) return id.subject === want.subject;
  if (want.subjectRegExp !== undefined) {
    try {
      return new RegExp(want.subjectRegExp, 'u').test(id.subject);
    } catch {
      return false;
    }
  }
  return false;
}

/** The integratedTime of the bundle's (verified: tlogThreshold ≥ 1 whenever entries exist) log entry. */
function loggedAt(bundle: Bundle): { signedAt?: string } {
  const t = Number(bundle.verificationMaterial.tlogEntries[0]?.integratedTime);
  return Number.isSafeInteger(t) && t > 0 ? { signedAt: new Date(t * 1000).toISOString() } : {};
}

/**
 * Verifies a Sigstore bundle. `data` is the signed artifact for message signatures (ignored for DSSE, whose
 * payload is inside the envelope). Key bundles are tried against every trusted key; certificate bundles are
 * verified against the trusted root (chain, transparency-log inclusion, SCTs when the root has CT logs) and
 * the certificate identity is matched against the policy.
 */
export function verifyBundle(bundle: Bundle, data: Buffer | undefined, policy: TrustPolicy): Verdict {
  const vm = bundle.verificationMaterial.content;
  if (vm.$case === 'publicKey') {
    const hint = vm.publicKey.hint ?? '';
    let last = '';
    for (const k of policy.keys) {
      const material = toTrustMaterial(policy.trustedRoot ?? EMPTY_ROOT, () => ({ publicKey: k.key, validFor: () => true }));
      // Key-based cosign signatures made with --tlog-upload=false carry no log entry; entries present are verified.
      const tlogs = bundle.verificationMaterial.tlogEntries.length;
      const verifier = new Verifier(material, { tlogThreshold: Math.min(tlogs, 1), ctlogThreshold: 0, timestampThreshold: 0 });
      try {
        verifier.verify(signedEntity(bundle, data));
        return { ok: true, signer: keyName(k), kind: 'key', ...loggedAt(bundle) };
      } catch (err) {
        last = errorMessage(err, 160);
      }
    }
    return {
      ok: false,
      reason: 'UntrustedSigner',
      signer: hint ? `key hint ${hint.slice(0, 24)}` : 'an unknown key',
      message: policy.keys.length === 0 ? 'the policy trusts no keys' : `verifies under none of the ${policy.keys.length} trusted key(s)${last ? ` (${last})` : ''}`,
    };
  }
  // Keyless: a certificate. Name the identity it claims (unverified) for messages.
  const claimed = claimedIdentity(bundle);
  if (!policy.trustedRoot) {
    return { ok: false, reason: 'UntrustedSigner', signer: claimed, message: 'keyless signature, but the policy has no trusted root (spec.signing.trustedRoot)' };
  }
  const material = toTrustMaterial(policy.trustedRoot);
  const verifier = new Verifier(material, {
    tlogThreshold: 1,
    ctlogThreshold: policy.trustedRoot.ctlogs.length > 0 ? 1 : 0,
    timestampThreshold: 1,
  });
  let signer: Signer;
  try {
    signer = verifier.verify(toSignedEntity(bundle, data));
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return { ok: false, reason: 'SignatureInvalid', signer: claimed, message: `${errorMessage(err, 160)}${cause ? ` (${errorMessage(cause, 120)})` : ''}` };
  }
  const id = identityOf(signer);
  const who = `${id.subject || '(no subject)'} from ${id.issuer || '(no issuer)'}`;
  if (policy.keyless.some((w) => identityMatches(id, w))) return { ok: true, signer: who, kind: 'keyless', ...loggedAt(bundle) };
  return { ok: false, reason: 'UntrustedSigner', signer: who, message: 'the certificate identity or issuer matches no keyless identity of the policy' };
}

/** A DSSE envelope as cosign stores it in `.att` layers (JSON: payloadType, payload, signatures[{keyid, sig}]). */
export function verifyDsseEnvelope(envelopeJson: unknown, policy: TrustPolicy, what: string): Verdict {
  const e = envelopeJson as { payloadType?: unknown; payload?: unknown; signatures?: { keyid?: unknown; sig?: unknown }[] };
  if (typeof e?.payloadType !== 'string' || typeof e.payload !== 'string' || !Array.isArray(e.signatures) || e.signatures.length === 0) {
    return { ok: false, reason: 'SignatureInvalid', signer: 'unknown', message: `${what} is not a signed DSSE envelope` };
  }
  let last: Verdict | undefined;
  for (const s of e.signatures.slice(0, 8)) {
    if (typeof s?.sig !== 'string') continue;
    const bundle = parseBundle(
      {
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { publicKey: { hint: typeof s.keyid === 'string' ? s.keyid : '' }, tlogEntries: [] },
        dsseEnvelope: { payloadType: e.payloadType, payload: e.payload, signatures: [{ keyid: typeof s.keyid === 'string' ? s.keyid : '', sig: s.sig }] },
      },
      what,
    );
    last = verifyBundle(bundle, undefined, policy);
    if (last.ok) return last;
  }
  return last ?? { ok: false, reason: 'SignatureInvalid', signer: 'unknown', message: `${what} has no usable signature` };
}

/** The payload of a DSSE envelope or of a bundle's DSSE content. */
export function dssePayload(bundleOrEnvelope: Bundle | { payload?: unknown; payloadType?: unknown }): { payloadType: string; payload: Buffer } | undefined {
  if ('content' in bundleOrEnvelope) {
    const c = (bundleOrEnvelope).content;
    return c.$case === 'dsseEnvelope' ? { payloadType: c.dsseEnvelope.payloadType, payload: Buffer.from(c.dsseEnvelope.payload) } : undefined;
  }
  const e = bundleOrEnvelope;
  return typeof e.payload === 'string' && typeof e.payloadType === 'string' ? { payloadType: e.payloadType, payload: Buffer.from(e.payload, 'base64') } : undefined;
}
