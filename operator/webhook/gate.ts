/**
 * The admission decision, from cache: which ProductReleases cover an image (by digest), what the webhook may
 * believe about each (only signed decisions count, see ../attestation/decision.ts), and what that means in a
 * namespace's mode.
 *
 * Rules, per image (fail closed):
 * - covered by a release that is Blocked, or whose status claims a verdict no valid signature backs ⇒ violation;
 * - else covered by a verified Approved release ⇒ fine;
 * - else covered only by releases with no verified decision for their current generation ⇒ violation
 *   (not approved yet);
 * - not covered: fine, unless `strict` (then a violation); a tag that cannot be resolved is a violation when
 *   strict, or when its repository is one a release ships (it could be a blocked release's image).
 * `requireDigest` makes every tag-only image a violation and never asks a registry.
 */
import type { ProductRelease } from '../api/types.ts';
import { trustedDecision, type DecisionKey, type TrustedState } from '../attestation/decision.ts';
import { objectKey, type Informer } from '../kube/informer.ts';
import { parseImageReference, type ImageReference } from '../evidence/oci/reference.ts';
import { errorMessage, type Reason } from '../errors.ts';
import type { ContainerImage } from './workload.ts';

export type AdmissionMode = 'enforce' | 'warn' | 'audit';
export const ADMISSION_MODES: readonly AdmissionMode[] = ['enforce', 'warn', 'audit'];

export interface GateSettings {
  strict: boolean;
  requireDigest: boolean;
}

/** Tag → digest (the registry client behind a cache); undefined when the tag does not exist. */
export interface DigestResolver {
  resolve(ref: ImageReference): Promise<string | undefined>;
}

export type ViolationReason = Extract<Reason, 'ReleaseBlocked' | 'DecisionUnverified' | 'ReleaseNotApproved' | 'ImageNotCovered' | 'DigestRequired' | 'DigestUnresolved'>;

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

function repoKey(ref: ImageReference): string {
  return `${ref.registry.toLowerCase()}/${ref.repository}`;
}

interface TrustCacheEntry {
  resourceVersion: string | undefined;
  keyids: string;
  state: TrustedState;
}

/** digest → releases, maintained from the ProductRelease informer (every replica has one). */
export class ReleaseIndex {
  private readonly byDigest = new Map<string, Set<string>>();
  private readonly byRepo = new Map<string, Set<string>>();
  private readonly entries = new Map<string, { digests: string[]; repos: string[] }>();
  private readonly trust = new Map<string, TrustCacheEntry>();
  private readonly informer: Informer<ProductRelease>;
  private readonly keys: () => readonly DecisionKey[];

  constructor(informer: Informer<ProductRelease>, keys: () => readonly DecisionKey[]) {
    this.informer = informer;
    this.keys = keys;
    for (const r of informer.list()) this.put(r);
    informer.on((event, obj) => {
      if (event === 'delete') this.remove(objectKey(obj));
      else this.put(obj);
    });
  }

  get size(): number {
    return this.entries.size;
  }

  private put(rel: ProductRelease): void {
    const key = objectKey(rel);
    this.remove(key);
    const digests: string[] = [];
    const repos: string[] = [];
    for (const a of rel.spec?.artifacts ?? []) {
      if (!a.image) continue;
      try {
        const ref = parseImageReference(a.image);
        repos.push(repoKey(ref));
        if (ref.digest) digests.push(ref.digest);
      } catch {
        // a malformed artifact reference covers nothing (the release itself fails its checks)
      }
    }
    this.entries.set(key, { digests, repos });
    for (const d of digests) add(this.byDigest, d, key);
    for (const r of repos) add(this.byRepo, r, key);
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.trust.delete(key);
    for (const d of e.digests) del(this.byDigest, d, key);
    for (const r of e.repos) del(this.byRepo, r, key);
  }

  releasesFor(digest: string): string[] {
    return [...(this.byDigest.get(digest) ?? [])].sort();
  }

  coversRepository(ref: ImageReference): boolean {
    return this.byRepo.has(repoKey(ref));
  }

  release(key: string): ProductRelease | undefined {
    return this.informer.get(key);
  }

  /** What may be believed about a release (verification cached per resourceVersion and key set). */
  trusted(key: string): TrustedState | undefined {
    const rel = this.informer.get(key);
    if (!rel) return undefined;
    const keys = this.keys();
    const keyids = keys.map((k) => k.keyid).join(',');
    const rv = rel.metadata?.resourceVersion;
    const hit = this.trust.get(key);
    if (hit && hit.resourceVersion === rv && hit.keyids === keyids) return hit.state;
    const state = trustedDecision(rel, keys);
    this.trust.set(key, { resourceVersion: rv, keyids, state });
    return state;
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
): Promise<Judgement> {
  const violations: Violation[] = [];
  const approvedBy = new Set<string>();
  const seen = new Map<string, Promise<void>>();
  const judgeOne = async (img: ContainerImage): Promise<void> => {
    const v = (reason: ViolationReason, message: string, releases: string[] = []) =>
      violations.push({ reason, image: img.image, container: img.container, message, releases });
    let ref: ImageReference;
    try {
      ref = parseImageReference(img.image);
    } catch (err) {
      if (settings.strict) v('DigestUnresolved', `container ${img.container}: ${errorMessage(err, 160)}`);
      return;
    }
    let digest = ref.digest;
    if (!digest) {
      if (settings.requireDigest) {
        v('DigestRequired', `container ${img.container}: image ${img.image} is not pinned by digest (the policy requires name@sha256:...)`);
        return;
      }
      let why = 'no registry client configured';
      if (resolver) {
        try {
          digest = await resolver.resolve(ref);
          if (!digest) why = 'the tag does not exist';
        } catch (err) {
          why = errorMessage(err, 160);
        }
      }
      if (!digest) {
        if (settings.strict || index.coversRepository(ref)) {
          v('DigestUnresolved', `container ${img.container}: image ${img.image} could not be resolved to a digest (${why}), so it cannot be matched to a ProductRelease; pin it by digest`);
        }
        return;
      }
    }
    const keys = index.releasesFor(digest);
    if (keys.length === 0) {
      if (settings.strict) v('ImageNotCovered', `container ${img.container}: image ${img.image} (${digest}) belongs to no Approved ProductRelease`);
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
