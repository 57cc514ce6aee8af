/**
 * The admission decision, from cache: which ProductReleases cover an image, what the webhook may believe about
 * each (only signed decisions count, see ../attestation/decision.ts), and what that means in a namespace's mode.
 *
 * Coverage (issue 14): a release covers an image when one of its spec.artifacts[].image names the same
 * repository (normalised: Docker Hub aliases, `library/`, a default :443) AND the same digest, and the workload
 * is in the release's own namespace — or in a namespace the governing policy's spec.admission.releaseNamespaces
 * grants to the release's namespace.
 *
 * Rules, per image (fail closed):
 * - an image reference that cannot be parsed ⇒ violation (ImageReferenceInvalid);
 * - a tag-only image: with tags Deny (default) a violation (DigestRequired); with ResolveFromTrusted a tag of a
 *   registry outside trustedRegistries is a violation, one inside is resolved by hashing the manifest bytes
 *   (./resolver.ts) and a failure to do so is a violation (DigestUnresolved);
 * - covered by a release that is Blocked, or whose status claims a verdict no valid signature backs, or replays
 *   an older signed decision ⇒ violation;
 * - else covered by a verified Approved release ⇒ fine;
 * - else covered only by releases with no verified current decision ⇒ violation (not approved yet);
 * - not covered: fine, unless `strict` (then a violation).
 */
import type { AdmissionSettings, ProductRelease } from '../api/types.ts';
import { trustedDecision, verifyEnvelope, type DecisionKey, type DecisionStatement, type TrustedState } from '../attestation/decision.ts';
import { SequenceHighWater } from '../attestation/high-water.ts';
import { objectKey, type Informer } from '../kube/informer.ts';
import type { CachedRelease } from '../kube/projection.ts';
import { parseImageReference, type ImageReference } from './registry.ts';
import { errorMessage, type Reason } from '../errors.ts';
import type { ContainerImage } from './workload.ts';

export type AdmissionMode = 'enforce' | 'warn' | 'audit';
export const ADMISSION_MODES: readonly AdmissionMode[] = ['enforce', 'warn', 'audit'];

export type TagPolicy = 'Deny' | 'ResolveFromTrusted';

export interface GateSettings {
  strict: boolean;
  tags: TagPolicy;
  /** Normalised registry hosts (normaliseRegistry) whose tags may be resolved. */
  trustedRegistries: readonly string[];
  /** Release namespace → the other namespaces whose workloads its releases cover ('*' = every namespace). */
  releaseNamespaces: ReadonlyMap<string, readonly string[]>;
}

/** At most this many distinct tags are resolved per review; more is a violation (never a partial check). */
export const MAX_TAG_RESOLUTIONS = 16;

/** The gate settings of a policy's spec.admission (and the namespace's strict label, already applied). */
export function gateSettings(admission: AdmissionSettings | undefined, strict: boolean): GateSettings {
  const tags: TagPolicy = admission?.requireDigest === true ? 'Deny' : admission?.tags === 'ResolveFromTrusted' ? 'ResolveFromTrusted' : 'Deny';
  const grants = new Map<string, string[]>();
  for (const g of admission?.releaseNamespaces ?? []) grants.set(g.namespace, [...(grants.get(g.namespace) ?? []), ...g.workloadNamespaces]);
  return { strict, tags, trustedRegistries: (admission?.trustedRegistries ?? []).map(normaliseRegistry), releaseNamespaces: grants };
}

/** Tag → digest (the registry behind a cache); undefined when the tag does not exist. */
export interface DigestResolver {
  resolve(ref: ImageReference): Promise<string | undefined>;
}

export type ViolationReason = Extract<
  Reason,
  'ReleaseBlocked' | 'DecisionUnverified' | 'ReleaseNotApproved' | 'ImageNotCovered' | 'DigestRequired' | 'DigestUnresolved' | 'ImageReferenceInvalid' | 'AdmissionLimitExceeded'
>;

export interface Violation {
  reason: ViolationReason;
  image: string;
  container: string;
  message: string;
  /** `namespace/name` of the releases involved. */
  releases: string[];
}

export interface Judgement {
  violations: Violation[];
  /** Releases whose verified approval admitted an image. */
  approvedBy: string[];
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** A registry host as compared: lower case, Docker Hub's aliases as `docker.io`, no default HTTPS port. */
export function normaliseRegistry(host: string): string {
  const h = host.toLowerCase().replace(/:443$/, '');
  return DOCKER_HUB.has(h) ? 'docker.io' : h;
}

/** `registry/repository` as compared (parseImageReference already adds Docker Hub's `library/`). */
export function repositoryKey(ref: ImageReference): string {
  return `${normaliseRegistry(ref.registry)}/${ref.repository}`;
}

/** Whether a release in `releaseNs` covers workloads in `workloadNs`. */
export function coversNamespace(releaseNs: string, workloadNs: string, settings: Pick<GateSettings, 'releaseNamespaces'>): boolean {
  if (releaseNs === workloadNs) return true;
  const granted = settings.releaseNamespaces.get(releaseNs);
  return granted !== undefined && (granted.includes('*') || granted.includes(workloadNs));
}

interface IndexEntry {
  namespace: string;
  /** `registry/repository@digest` */
  coverage: string[];
}

interface VerifyCacheEntry {
  resourceVersion: string | undefined;
  keyids: string;
  statement: DecisionStatement | undefined;
}

export interface ReleaseIndexOptions {
  /** metadata.generation of a ReleasePolicy now (undefined when it does not exist). */
  policyGeneration(name: string): number | undefined;
  now?(): Date;
  /** Bound of the replay high-water mark (release uids remembered). */
  maxTrackedReleases?: number;
}

/** What the index reads: the ProductRelease informer's cache and its events. */
export type ReleaseSource = Pick<Informer<CachedRelease>, 'list' | 'get' | 'on'>;

/** (repository, digest) → releases, maintained from the ProductRelease informer (every replica has one). */
export class ReleaseIndex {
  private readonly byCoverage = new Map<string, Set<string>>();
  private readonly entries = new Map<string, IndexEntry>();
  private readonly verified = new Map<string, VerifyCacheEntry>();
  private readonly informer: ReleaseSource;
  private readonly keys: () => readonly DecisionKey[];
  private readonly opts: ReleaseIndexOptions;
  /** The newest verified evaluation sequence seen per release uid (replay protection). */
  readonly highWater: SequenceHighWater;

  constructor(informer: ReleaseSource, keys: () => readonly DecisionKey[], opts: ReleaseIndexOptions) {
    this.informer = informer;
    this.keys = keys;
    this.opts = opts;
    this.highWater = new SequenceHighWater(opts.maxTrackedReleases);
    for (const r of informer.list()) this.put(r);
    informer.on((event, obj) => {
      if (event === 'delete') {
        this.remove(objectKey(obj));
        if (obj.metadata?.uid) this.highWater.forget(obj.metadata.uid);
      } else this.put(obj);
    });
  }

  get size(): number {
    return this.entries.size;
  }

  private put(rel: ProductRelease): void {
    const key = objectKey(rel);
    this.remove(key);
    const coverage: string[] = [];
    for (const a of rel.spec?.artifacts ?? []) {
      if (!a.image) continue;
      try {
        const ref = parseImageReference(a.image);
        if (ref.digest) coverage.push(`${repositoryKey(ref)}@${ref.digest}`);
      } catch {
        // a malformed artifact reference covers nothing (the release itself fails its checks)
      }
    }
    this.entries.set(key, { namespace: rel.metadata?.namespace ?? '', coverage });
    for (const c of coverage) add(this.byCoverage, c, key);
    // Every verified decision raises the high-water mark of its uid, whatever order the events come in.
    const st = this.verify(key, rel);
    if (st) this.highWater.observe(st.release.uid, st.sequence);
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.verified.delete(key);
    for (const c of e.coverage) del(this.byCoverage, c, key);
  }

  /** Releases covering `repository@digest` for a workload in `namespace`. */
  releasesFor(ref: ImageReference, digest: string, namespace: string, settings: Pick<GateSettings, 'releaseNamespaces'>): string[] {
    const keys = this.byCoverage.get(`${repositoryKey(ref)}@${digest}`) ?? [];
    return [...keys].filter((k) => coversNamespace(this.entries.get(k)?.namespace ?? '', namespace, settings)).sort();
  }

  release(key: string): ProductRelease | undefined {
    return this.informer.get(key);
  }

  /** The verified statement of a release's envelope (cached per resourceVersion and key set). */
  private verify(key: string, rel: ProductRelease): DecisionStatement | undefined {
    const keys = this.keys();
    const keyids = keys.map((k) => k.keyid).join(',');
    const rv = rel.metadata?.resourceVersion;
    const hit = this.verified.get(key);
    if (hit && hit.resourceVersion === rv && hit.keyids === keyids) return hit.statement;
    const statement = rel.status?.attestation ? verifyEnvelope(rel.status.attestation, keys) : undefined;
    this.verified.set(key, { resourceVersion: rv, keyids, statement });
    return statement;
  }

  /** What may be believed about a release now. */
  trusted(key: string): TrustedState | undefined {
    const rel = this.informer.get(key);
    if (!rel) return undefined;
    const st = this.verify(key, rel);
    if (st) this.highWater.observe(st.release.uid, st.sequence);
    return trustedDecision(
      rel,
      this.keys(),
      { now: this.opts.now?.() ?? new Date(), policyGeneration: (n) => this.opts.policyGeneration(n), newestSequence: (uid) => this.highWater.get(uid) },
      () => st,
    );
  }
}

function add(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function del(m: Map<string, Set<string>>, k: string, v: string): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

/** Failing checks with their reasons, from the (signature-bound) status of a blocked release. */
function describeFailures(rel: ProductRelease | undefined, ids: readonly string[]): string {
  if (ids.length === 0) return 'no blocking check listed';
  const checks = rel?.status?.checks ?? [];
  const parts = ids.slice(0, 8).map((id) => {
    const c = checks.find((x) => x.id === id);
    return c?.reason ? `${id} (${c.reason})` : id;
  });
  return `failing checks: ${parts.join(', ')}${ids.length > 8 ? `, and ${ids.length - 8} more` : ''}`;
}

export async function judgeImages(
  images: readonly ContainerImage[],
  settings: GateSettings,
  index: ReleaseIndex,
  resolver: DigestResolver | undefined,
  namespace: string,
): Promise<Judgement> {
  const violations: Violation[] = [];
  const approvedBy = new Set<string>();
  const seen = new Map<string, Promise<void>>();
  let resolutions = 0;
  const judgeOne = async (img: ContainerImage): Promise<void> => {
    const v = (reason: ViolationReason, message: string, releases: string[] = []) =>
      violations.push({ reason, image: img.image, container: img.container, message, releases });
    let ref: ImageReference;
    try {
      ref = parseImageReference(img.image);
    } catch (err) {
      v('ImageReferenceInvalid', `container ${img.container}: ${errorMessage(err, 160)}; it cannot be matched to a ProductRelease`);
      return;
    }
    let digest = ref.digest;
    if (!digest) {
      const registry = normaliseRegistry(ref.registry);
      if (settings.tags === 'Deny') {
        v('DigestRequired', `container ${img.container}: image ${img.image} is not pinned by digest (name@sha256:...); the policy does not allow tags (spec.admission.tags: Deny)`);
        return;
      }
      if (!settings.trustedRegistries.includes(registry)) {
        v('DigestRequired', `container ${img.container}: image ${img.image} is not pinned by digest and registry ${registry} is not in spec.admission.trustedRegistries, so its tag is not resolved`);
        return;
      }
      if (++resolutions > MAX_TAG_RESOLUTIONS) {
        v('AdmissionLimitExceeded', `container ${img.container}: image ${img.image}: more than ${MAX_TAG_RESOLUTIONS} tags to resolve in one request; pin images by digest`);
        return;
      }
      let why = 'no registry client configured';
      if (resolver) {
        try {
          digest = await resolver.resolve(ref);
          if (!digest) why = 'the tag does not exist';
        } catch (err) {
          why = errorMessage(err, 200);
        }
      }
      if (!digest) {
        v('DigestUnresolved', `container ${img.container}: image ${img.image} could not be resolved to a digest (${why}), so it cannot be matched to a ProductRelease; pin it by digest`);
        return;
      }
    }
    const keys = index.releasesFor(ref, digest, namespace, settings);
    if (keys.length === 0) {
      if (settings.strict) v('ImageNotCovered', `container ${img.container}: image ${img.image} (${digest}) belongs to no Approved ProductRelease that covers namespace ${namespace}`);
      return;
    }
    const blocked: Violation[] = [];
    const pending: string[] = [];
    const approved: string[] = [];
    for (const key of keys) {
      const t = index.trusted(key);
      if (!t) continue;
      if (t.state === 'Approved') approved.push(key);
      else if (t.state === 'Blocked') {
        blocked.push({
          reason: 'ReleaseBlocked',
          image: img.image,
          container: img.container,
          releases: [key],
          message: `container ${img.container}: image ${img.image} belongs to ProductRelease ${key}, which is Blocked (${t.statement.reason}; ${describeFailures(index.release(key), t.statement.failedChecks)})`,
        });
      } else if (t.state === 'Unverified') {
        blocked.push({
          reason: 'DecisionUnverified',
          image: img.image,
          container: img.container,
          releases: [key],
          message: `container ${img.container}: image ${img.image} belongs to ProductRelease ${key}, whose decision is not trusted: ${t.why}`,
        });
      } else pending.push(`${key} (${t.why})`);
    }
    if (blocked.length > 0) {
      violations.push(...blocked);
      return;
    }
    if (approved.length > 0) {
      for (const k of approved) approvedBy.add(k);
      return;
    }
    if (pending.length > 0) {
      v('ReleaseNotApproved', `container ${img.container}: image ${img.image} belongs to ProductRelease ${pending.join(', ')}, which is not approved`, keys);
    } else if (settings.strict) {
      v('ImageNotCovered', `container ${img.container}: image ${img.image} (${digest}) belongs to no Approved ProductRelease that covers namespace ${namespace}`);
    }
  };
  await Promise.all(
    images.map((img) => {
      const p = seen.get(img.image) ?? judgeOne(img);
      seen.set(img.image, p);
      return p;
    }),
  );
  return { violations, approvedBy: [...approvedBy].sort() };
}
