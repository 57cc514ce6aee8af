/**
 * Evidence collector for `signature.valid` and registry-discovered SBOMs.
 *
 * For every image artifact it resolves the digest, discovers signatures, attestations and SBOMs next to it
 * (./oci/discover.ts) and verifies them in-process against `ReleasePolicy.spec.signing` (../sigstore/verify.ts):
 * trusted keys from Secrets, keyless identities against a trusted root from a ConfigMap or Secret. Nothing
 * counts that was not verified: a signature must verify AND cover this artifact's digest; an SBOM counts only
 * from a verified in-toto attestation whose subject is the artifact, or an attached/referrer SBOM whose own
 * manifest is signed by a trusted signer. For `url` artifacts, a Sigstore bundle (`<url>.sigstore.json`) or a
 * cosign blob signature (`<url>.sig`) published beside the file is verified against the file's bytes.
 *
 * Verified SBOMs are added to the `sboms` evidence field (shared with the spec.sboms[] collector).
 *
 * Registry and HTTPS options (network capability, allow-lists, CA, the shared digest cache) come from
 * `ctx.runtime`, built once by the composition root. The jobs live in ./signatures/: trust.ts (trust policy),
 * credentials.ts (pull secrets), in-toto.ts (what a payload says was signed), image.ts and url.ts (verification).
 * This module is the collector and re-exports their public API.
 */
import { craError, errorMessage, reasonOf } from '../errors.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { limitsForPolicy } from '../sbom/parse.ts';
import type { TrustPolicy } from '../sigstore/verify.ts';
import type { SignatureEvidence } from '../types/evidence.ts';
import type { Collector, CollectContext } from './collect.ts';
import type { FetchOptions } from './https.ts';
import type { Credentials } from './oci/auth.ts';
import { RegistryClient } from './oci/client.ts';
import type { RegistryClientOptions } from './oci/client.ts';
import { loadCredentials } from './signatures/credentials.ts';
import { verifyImage } from './signatures/image.ts';
import { loadTrustPolicy } from './signatures/trust.ts';
import { verifyUrlArtifact } from './signatures/url.ts';

export type { Rejection, SignatureEvidence, SignerSeen } from '../types/evidence.ts';
export { loadCredentials } from './signatures/credentials.ts';
export { URL_SIGNATURE_PREDICATES } from './signatures/in-toto.ts';
export { verifyImage } from './signatures/image.ts';
export { loadTrustPolicy } from './signatures/trust.ts';
export { verifyUrlArtifact } from './signatures/url.ts';

export interface SignatureCollectorOptions {
  /** Registry client options, merged over `ctx.runtime.registry`. */
  readonly registry?: RegistryClientOptions;
  /** HTTPS options for url artifacts, merged over `ctx.runtime.http`. */
  readonly fetchOptions?: FetchOptions;
  /** Artifacts processed concurrently (default 4). */
  readonly concurrency?: number;
}

/** Runs `fn` over `items` with at most `n` in flight. */
async function mapLimit<T, R>(items: readonly T[], n: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

export function makeSignatureCollector(options: SignatureCollectorOptions = {}): Collector {
  return async function signatureCollector(ctx: CollectContext) {
    const analyser = ctx.runtime.analyseSbom;
    const artifacts = ctx.release.spec.artifacts ?? [];
    if (artifacts.length === 0) return {};
    // Only when a check that reads this evidence runs (no registry traffic otherwise).
    const wanted = (ctx.policy?.spec.checks ?? []).some((c) => (c.id === 'signature.valid' || c.id === 'sbom.present' || c.id.startsWith('sbom.') || c.id.startsWith('vuln.') || c.id === 'vex.valid') && c.enforcement !== 'Off');
    if (ctx.policy && !wanted) return {};
    let trust: TrustPolicy;
    let creds: Map<string, Credentials>;
    try {
      trust = await loadTrustPolicy(ctx.policy, ctx.sources);
      creds = await loadCredentials(ctx.release, ctx.policy, ctx.sources);
      if (trust.keys.length === 0 && trust.keyless.length === 0) {
        return { signingConfigError: { reason: 'NoTrustedSigners' as const, message: 'the policy trusts no signer (spec.signing.keys / keyless are empty): nothing found in a registry can be verified' } };
      }
    } catch (err) {
      const reason = reasonOf(err);
      return { signingConfigError: { reason: reason === 'Internal' ? 'SigningConfigInvalid' : reason, message: errorMessage(err, 240) } };
    }
    const base: RegistryClientOptions = { ...ctx.runtime.registry, ...options.registry };
    const client = new RegistryClient({ ...base, ...(ctx.signal ? { signal: ctx.signal } : {}), credentials: (host) => creds.get(host.toLowerCase()) ?? base.credentials?.(host) });
    const fetchOpts: FetchOptions = { maxBytes: 512 * 1024 * 1024, ...ctx.runtime.http, ...options.fetchOptions, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    const sboms: SbomEvidence[] = [];
    // The same analysis path and size limit (spec.limits.sbomMaxBytes) as spec.sboms[] (./sbom.ts).
    const sbomLimits = limitsForPolicy(ctx.policy?.spec);
    try {
      const signatures = await mapLimit(artifacts, options.concurrency ?? 4, async (a): Promise<SignatureEvidence> => {
        const subject = a.image ?? a.url ?? a.name;
        try {
          if (a.image) {
            const r = await verifyImage(client, a.name, a.image, trust, (b) => analyser(b, sbomLimits));
            sboms.push(...r.sboms);
            return r.evidence;
          }
          if (a.url && a.digest) return await verifyUrlArtifact(a.name, a.url, a.digest, trust, fetchOpts);
          throw craError('InvalidSpec', `artifact ${a.name} has neither an image nor a url with a digest`);
        } catch (err) {
          const reason = reasonOf(err);
          return { artifact: a.name, subject, verified: [], rejected: [], rejectedAttestations: [], error: { reason: reason === 'Internal' ? 'EvidenceUnavailable' : reason, message: errorMessage(err, 240) } };
        }
      });
      return { signatures, ...(sboms.length ? { sboms } : {}) };
    } finally {
      client.close();
    }
  };
}

/** The collector registered in ./collect.ts. */
export const collectSignatures: Collector = makeSignatureCollector();
