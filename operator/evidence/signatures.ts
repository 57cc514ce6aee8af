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
 */
import { createHash } from 'node:crypto';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import { craError, errorMessage, isCraGateError, reasonOf } from '../errors.ts';
import { analyzeSbomAsync } from '../sbom/analyze.ts';
import type { SbomEvidence } from '../sbom/evidence.ts';
import { dssePayload, parseBundle, parsePublicKey, parseTrustedRoot, verifyBundle, verifyDsseEnvelope, verifyPayloadSignature } from '../sigstore/verify.ts';
import type { TrustPolicy, Verdict } from '../sigstore/verify.ts';
import type { Collector, CollectContext, EvidenceSources } from './collect.ts';
import { fetchBytes, fetchOptionsFromEnv } from './https.ts';
import type { FetchOptions } from './https.ts';
import { parseDockerConfig } from './oci/auth.ts';
import type { Credentials } from './oci/auth.ts';
import { RegistryClient, sharedCache } from './oci/client.ts';
import type { RegistryClientOptions } from './oci/client.ts';
import { discover } from './oci/discover.ts';
import { formatReference, parseImageReference } from './oci/reference.ts';
import { analyzeInWorker } from './sbom.ts';

export type { Rejection, SignatureEvidence, SignerSeen } from '../types/evidence.ts';
import type { Rejection, SignatureEvidence, SignerSeen } from '../types/evidence.ts';

export interface SignatureCollectorOptions {
  /** Registry client options (default: from the environment, see `registryOptionsFromEnv`). */
  readonly registry?: RegistryClientOptions;
  /** HTTPS options for url artifacts (default: CRA_GATE_HTTP_* from the environment). */
  readonly fetchOptions?: FetchOptions;
  /** Artifacts processed concurrently (default 4). */
  readonly concurrency?: number;
}

/**
 * Operator configuration for registries: CRA_GATE_REGISTRY_ALLOW_HOSTS (host[:port], comma-separated; else
 * CRA_GATE_HTTP_ALLOW_HOSTS), CRA_GATE_REGISTRY_INSECURE_HOSTS (plain http; labs/tests only),
 * CRA_GATE_REGISTRY_CA_FILE (else CRA_GATE_HTTP_CA_FILE), CRA_GATE_REGISTRY_TIMEOUT_MS.
 */
export function registryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryClientOptions {
  const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const http = fetchOptionsFromEnv({ ...env, CRA_GATE_HTTP_CA_FILE: env.CRA_GATE_REGISTRY_CA_FILE ?? env.CRA_GATE_HTTP_CA_FILE });
  const allow = list(env.CRA_GATE_REGISTRY_ALLOW_HOSTS);
  const timeout = Number(env.CRA_GATE_REGISTRY_TIMEOUT_MS);
  return {
    allowHosts: allow.length ? allow : (http.allowHosts ?? []),
    insecureHosts: list(env.CRA_GATE_REGISTRY_INSECURE_HOSTS),
    ...(http.ca ? { ca: http.ca } : {}),
    ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutMs: timeout } : {}),
  };
}

async function readKey(sources: EvidenceSources, kind: 'ConfigMap' | 'Secret', ref: { namespace: string; name: string; key: string }): Promise<string> {
  const what = `${kind} ${ref.namespace}/${ref.name} key ${ref.key}`;
  if (kind === 'Secret' && !sources.readSecret) throw craError('SigningConfigInvalid', `${what}: Secrets cannot be read here`);
  const data = kind === 'Secret' ? await sources.readSecret!(ref.namespace, ref.name) : await sources.readConfigMap(ref.namespace, ref.name);
  if (!data) throw craError('SigningConfigInvalid', `${kind} ${ref.namespace}/${ref.name} not found`);
  const v = Object.hasOwn(data, ref.key) ? data[ref.key] : undefined;
  if (typeof v !== 'string') throw craError('SigningConfigInvalid', `${kind} ${ref.namespace}/${ref.name} has no key ${ref.key}`);
  return v;
}

/** Loads the trust policy (keys from Secrets, the trusted root) of `spec.signing`. */
export async function loadTrustPolicy(policy: ReleasePolicy | undefined, sources: EvidenceSources): Promise<TrustPolicy> {
  const signing = policy?.spec.signing;
  const keys = [];
  for (const k of signing?.keys ?? []) {
    const ref = k.secretRef;
    keys.push(parsePublicKey(await readKey(sources, 'Secret', ref), `Secret ${ref.namespace}/${ref.name} key ${ref.key}`));
  }
  const keyless = (signing?.keyless ?? []).map((k) => ({ issuer: k.issuer, ...(k.subject !== undefined ? { subject: k.subject } : {}), ...(k.subjectRegExp !== undefined ? { subjectRegExp: k.subjectRegExp } : {}) }));
  const tr = signing?.trustedRoot;
  let trustedRoot;
  if (tr?.configMapRef) trustedRoot = parseTrustedRoot(await readKey(sources, 'ConfigMap', tr.configMapRef), `ConfigMap ${tr.configMapRef.namespace}/${tr.configMapRef.name}`);
  else if (tr?.secretRef) trustedRoot = parseTrustedRoot(await readKey(sources, 'Secret', tr.secretRef), `Secret ${tr.secretRef.namespace}/${tr.secretRef.name}`);
  return { keys, keyless, ...(trustedRoot ? { trustedRoot } : {}) };
}

/** Registry credentials from the release's imagePullSecrets and the policy's pullSecrets. */
export async function loadCredentials(release: ProductRelease, policy: ReleasePolicy | undefined, sources: EvidenceSources): Promise<Map<string, Credentials>> {
  const ns = release.metadata?.namespace ?? 'default';
  const refs = [...(release.spec.imagePullSecrets ?? []).map((s) => ({ namespace: ns, name: s.name })), ...(policy?.spec.signing?.pullSecrets ?? [])];
  const out = new Map<string, Credentials>();
  for (const r of refs) {
    const json = await readKey(sources, 'Secret', { ...r, key: '.dockerconfigjson' });
    for (const [host, c] of parseDockerConfig(json, `Secret ${r.namespace}/${r.name}`)) if (!out.has(host)) out.set(host, c);
  }
  return out;
}

// ---- what a payload says was signed ------------------------------------------------------------------------

/** The image digest in a cosign simple-signing payload. */
function simpleSigningDigest(payload: Buffer): string | undefined {
  try {
    const p = JSON.parse(payload.toString('utf8')) as { critical?: { image?: { 'docker-manifest-digest'?: unknown } } };
    const d = p.critical?.image?.['docker-manifest-digest'];
    return typeof d === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

interface Statement {
  readonly predicateType: string;
  readonly subjectDigests: string[];
  readonly predicate: unknown;
}

/** An in-toto statement (v0.1 / v1) from a DSSE payload. */
function inTotoStatement(payloadType: string, payload: Buffer): Statement | undefined {
  if (payloadType !== 'application/vnd.in-toto+json') return undefined;
  try {
    const s = JSON.parse(payload.toString('utf8')) as { predicateType?: unknown; subject?: { digest?: Record<string, unknown> }[]; predicate?: unknown };
    if (typeof s.predicateType !== 'string' || !Array.isArray(s.subject)) return undefined;
    const subjectDigests = s.subject.flatMap((x) => Object.entries(x?.digest ?? {}).filter(([, v]) => typeof v === 'string').map(([alg, v]) => `${alg}:${String(v).toLowerCase()}`));
    return { predicateType: s.predicateType, subjectDigests, predicate: s.predicate };
  } catch {
    return undefined;
  }
}

const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/**
 * DSSE predicates accepted as a *signature* of a url artifact: only cosign's signing predicate (cosign v3 signs
 * with it; its predicate carries no claim beyond "signed"). `cosign sign-blob --bundle` writes a message
 * signature instead, which is accepted without a predicate.
 */
export const URL_SIGNATURE_PREDICATES: ReadonlySet<string> = new Set([COSIGN_SIGN_PREDICATE]);

function isSbomPredicate(t: string): boolean {
  return /^https:\/\/cyclonedx\.org\/bom(\/v?[\d.]+)?$/.test(t) || /^https:\/\/spdx\.dev\/Document(\/v?[\d.]+)?$/.test(t) || t === 'cyclonedx' || t === 'spdx' || t === 'spdxjson';
}

// ---- collector -------------------------------------------------------------------------------------------

const WORKER_THRESHOLD = 512 * 1024;

async function analyse(bytes: Buffer) {
  return bytes.byteLength > WORKER_THRESHOLD ? analyzeInWorker(bytes) : analyzeSbomAsync(bytes);
}

function rejection(v: Extract<Verdict, { ok: false }>, source: string): Rejection {
  return { signer: v.signer, reason: v.reason, message: v.message, source };
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

interface ImageResult {
  readonly evidence: SignatureEvidence;
  readonly sboms: SbomEvidence[];
}

/** Verifies one image: signatures (legacy and bundles), attestations (SBOMs), attached/referrer SBOMs. */
export async function verifyImage(client: RegistryClient, artifact: string, image: string, trust: TrustPolicy): Promise<ImageResult> {
  const ref = parseImageReference(image);
  const subject = formatReference(ref);
  const digest = await client.resolve(ref);
  if (!digest) throw craError('ImageNotFound', `${subject} does not exist in the registry`);
  // The image manifest itself: it must exist and match its digest (a tampered manifest is caught here).
  const manifest = await client.manifest({ registry: ref.registry, repository: ref.repository, digest });
  if (!manifest) throw craError('ImageNotFound', `${subject} does not exist in the registry`);
  const found = await discover(client, ref.registry, ref.repository, digest);
  const verified: SignerSeen[] = [];
  const rejected: Rejection[] = [];
  const rejectedAttestations: Rejection[] = [];
  const attested: SignerSeen[] = [];
  const sboms: SbomEvidence[] = [];

  const noteSignature = (v: Verdict, signedDigests: string[], source: string) => {
    if (!v.ok) return rejected.push(rejection(v, source));
    if (!signedDigests.includes(digest)) {
      return rejected.push({ signer: v.signer, reason: 'SignedDigestMismatch', source, message: `a valid signature, but over ${signedDigests[0]?.slice(0, 19) ?? 'no digest'}…, not ${digest.slice(0, 19)}…` });
    }
    verified.push({ signer: v.signer, kind: v.kind, source, ...(v.signedAt ? { signedAt: v.signedAt } : {}) });
  };
  const noteAttestation = async (v: Verdict, st: Statement | undefined, source: string) => {
    if (!st) return;
    if (st.predicateType === COSIGN_SIGN_PREDICATE) return noteSignature(v, st.subjectDigests, source);
    if (!isSbomPredicate(st.predicateType)) return;
    if (!v.ok) return rejectedAttestations.push(rejection(v, source));
    if (!st.subjectDigests.includes(digest)) {
      return rejectedAttestations.push({ signer: v.signer, reason: 'SignedDigestMismatch', source, message: `attestation subject is not ${digest.slice(0, 19)}…` });
    }
    const pred = typeof st.predicate === 'string' ? st.predicate : JSON.stringify(st.predicate ?? null);
    if (v.signedAt) attested.push({ signer: v.signer, kind: v.kind, source, signedAt: v.signedAt });
    sboms.push({ artifact, source: `attestation ${st.predicateType} signed by ${v.signer} (${source})`, analysis: await analyse(Buffer.from(pred, 'utf8')) });
  };

  for (const s of found.signatures) {
    if (s.certificate) {
      rejected.push({ signer: 'a certificate', reason: 'UntrustedSigner', source: s.source, message: 'legacy keyless signatures (certificate annotation without a bundle) are not supported; sign with a Sigstore bundle' });
      continue;
    }
    noteSignature(verifyPayloadSignature(s.payload, s.signature, trust), [simpleSigningDigest(s.payload) ?? ''], s.source);
  }
  for (const b of found.bundles) {
    let bundle;
    try {
      bundle = parseBundle(b.json, b.source);
    } catch (err) {
      rejected.push({ signer: 'unknown', reason: 'SignatureInvalid', source: b.source, message: errorMessage(err, 160) });
      continue;
    }
    const dsse = dssePayload(bundle);
    if (dsse) {
      await noteAttestation(verifyBundle(bundle, undefined, trust), inTotoStatement(dsse.payloadType, dsse.payload), b.source);
    } else {
      // A message signature over this image's manifest bytes.
      noteSignature(verifyBundle(bundle, manifest.bytes, trust), [digest], b.source);
    }
  }
  for (const e of found.envelopes) {
    const payload = dssePayload(e.json as { payload?: unknown; payloadType?: unknown });
    await noteAttestation(verifyDsseEnvelope(e.json, trust, e.source), payload ? inTotoStatement(payload.payloadType, payload.payload) : undefined, e.source);
  }
  // Attached artifacts whose manifest names another subject (e.g. a signed SBOM of an older image) never count.
  for (const f of found.foreign) {
    rejectedAttestations.push({
      signer: 'not checked',
      reason: 'SignedDigestMismatch',
      source: f.source,
      message: f.subject ? `attached to ${f.subject.slice(0, 19)}…, not to ${digest.slice(0, 19)}… (manifest subject); not counted` : `its manifest has no subject naming ${digest.slice(0, 19)}…; not counted`,
    });
  }
  // Attached / referrer SBOMs count only when their own manifest carries a trusted signature.
  for (const s of found.sboms) {
    const signers = await signaturesOf(client, ref.registry, ref.repository, s.manifestDigest, trust);
    if (signers.length === 0) {
      rejectedAttestations.push({ signer: 'none', reason: 'UntrustedSigner', source: s.source, message: 'attached SBOM is not signed by a trusted signer; not counted' });
      continue;
    }
    sboms.push({ artifact, source: `attached SBOM signed by ${signers[0]!.signer} (${s.source})`, analysis: await analyse(s.bytes) });
  }
  return { evidence: { artifact, subject, digest, verified, rejected, rejectedAttestations, ...(attested.length > 0 ? { attested } : {}) }, sboms };
}

/** Trusted signers of an arbitrary manifest digest (used for attached SBOMs). */
async function signaturesOf(client: RegistryClient, registry: string, repository: string, digest: string, trust: TrustPolicy): Promise<SignerSeen[]> {
  const found = await discover(client, registry, repository, digest);
  const out: SignerSeen[] = [];
  for (const s of found.signatures) {
    const v = verifyPayloadSignature(s.payload, s.signature, trust);
    if (v.ok && simpleSigningDigest(s.payload) === digest) out.push({ signer: v.signer, kind: v.kind, source: s.source });
  }
  for (const b of found.bundles) {
    try {
      const bundle = parseBundle(b.json, b.source);
      const dsse = dssePayload(bundle);
      const st = dsse ? inTotoStatement(dsse.payloadType, dsse.payload) : undefined;
      if (!st || st.predicateType !== COSIGN_SIGN_PREDICATE || !st.subjectDigests.includes(digest)) continue;
      const v = verifyBundle(bundle, undefined, trust);
      if (v.ok) out.push({ signer: v.signer, kind: v.kind, source: b.source });
    } catch {
      // not a bundle: ignored (it verifies nothing)
    }
  }
  return out;
}

function hexDigest(bytes: Buffer, alg: string): string {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

function is404(err: unknown): boolean {
  return isCraGateError(err) && /HTTP 404\b/.test(err.message);
}

/** A url artifact: `<url>.sigstore.json` (Sigstore bundle) or `<url>.sig` (cosign sign-blob), verified over the file. */
export async function verifyUrlArtifact(artifact: string, url: string, declaredDigest: string, trust: TrustPolicy, fetchOptions: FetchOptions): Promise<SignatureEvidence> {
  const alg = declaredDigest.split(':')[0] ?? 'sha256';
  const file = await fetchBytes(url, fetchOptions);
  const actual = hexDigest(file.bytes, alg);
  if (actual !== declaredDigest) throw craError('RegistryContentInvalid', `${url} does not have the declared digest ${declaredDigest.slice(0, 19)}… (got ${actual.slice(0, 19)}…)`);
  const sha256 = hexDigest(file.bytes, 'sha256');
  const verified: SignerSeen[] = [];
  const rejected: Rejection[] = [];
  const small = { ...fetchOptions, maxBytes: 4 * 1024 * 1024 };
  let found = false;
  try {
    const b = await fetchBytes(`${url}.sigstore.json`, small);
    found = true;
    const source = `${url}.sigstore.json`;
    let json: unknown;
    try {
      json = JSON.parse(b.bytes.toString('utf8'));
    } catch {
      throw craError('RegistryContentInvalid', `${source} is not JSON`);
    }
    const bundle = parseBundle(json, source);
    const dsse = dssePayload(bundle);
    const v = verifyBundle(bundle, file.bytes, trust);
    const st = dsse ? inTotoStatement(dsse.payloadType, dsse.payload) : undefined;
    // What counts as a signature of the file (docs/signing.md): a message signature over its bytes (what
    // `cosign sign-blob --bundle` writes; the verifier checks its SHA-256 digest against the file), or a DSSE
    // statement of cosign's signing predicate (URL_SIGNATURE_PREDICATES) whose subject is the file's SHA-256.
    // Any other in-toto predicate (a scan result, provenance, `cosign attest-blob --type …`) is an attestation
    // about the file, not a signature of it, whatever it says.
    const notSignature = dsse && (!st || !URL_SIGNATURE_PREDICATES.has(st.predicateType));
    const signed = dsse ? (st?.subjectDigests ?? []) : [sha256];
    if (!v.ok) rejected.push(rejection(v, source));
    else if (notSignature) {
      const what = st ? `an in-toto attestation with predicate ${st.predicateType.slice(0, 100)}` : `a DSSE envelope of type ${dsse.payloadType.slice(0, 60)}`;
      rejected.push({ signer: v.signer, reason: 'SignatureInvalid', source, message: `${what}, not a signature: only a message signature or the predicate ${COSIGN_SIGN_PREDICATE} counts` });
    } else if (!signed.includes(sha256) && !signed.includes(declaredDigest)) rejected.push({ signer: v.signer, reason: 'SignedDigestMismatch', source, message: 'the bundle does not cover this file' });
    else verified.push({ signer: v.signer, kind: v.kind, source, ...(v.signedAt ? { signedAt: v.signedAt } : {}) });
  } catch (err) {
    if (!is404(err)) throw err;
  }
  if (verified.length === 0) {
    try {
      const s = await fetchBytes(`${url}.sig`, { ...small, maxBytes: 64 * 1024 });
      found = true;
      const v = verifyPayloadSignature(file.bytes, Buffer.from(s.bytes.toString('utf8').trim(), 'base64'), trust);
      if (v.ok) verified.push({ signer: v.signer, kind: v.kind, source: `${url}.sig` });
      else rejected.push(rejection(v, `${url}.sig`));
    } catch (err) {
      if (!is404(err)) throw err;
    }
  }
  void found;
  return { artifact, subject: url, digest: declaredDigest, verified, rejected, rejectedAttestations: [] };
}

export function makeSignatureCollector(options: SignatureCollectorOptions = {}): Collector {
  return async function signatureCollector(ctx: CollectContext) {
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
    const base = options.registry ?? registryOptionsFromEnv();
    const client = new RegistryClient({ cache: sharedCache, ...base, ...(ctx.signal ? { signal: ctx.signal } : {}), credentials: (host) => creds.get(host.toLowerCase()) ?? base.credentials?.(host) });
    const fetchOpts: FetchOptions = { ...(options.fetchOptions ?? { maxBytes: 512 * 1024 * 1024, ...fetchOptionsFromEnv() }), ...(ctx.signal ? { signal: ctx.signal } : {}) };
    const sboms: SbomEvidence[] = [];
    try {
      const signatures = await mapLimit(artifacts, options.concurrency ?? 4, async (a): Promise<SignatureEvidence> => {
        const subject = a.image ?? a.url ?? a.name;
        try {
          if (a.image) {
            const r = await verifyImage(client, a.name, a.image, trust);
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
