/**
 * OCI image references: `[host[:port]/]repository[:tag][@algorithm:hex]`, normalised the way the Docker
 * and containerd clients do (no host ⇒ Docker Hub, `library/` for single-segment Hub repositories).
 */
import { craError } from '../../errors.ts';

export interface ImageReference {
  /** Registry host as written (`127.0.0.1:5000`, `ghcr.io`); Docker Hub is `registry-1.docker.io`. */
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<hex>` (or sha384/sha512). */
  readonly digest?: string;
}

const DIGEST = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function parseImageReference(raw: string): ImageReference {
  const bad = (why: string) => craError('InvalidSpec', `invalid image reference ${JSON.stringify(raw.slice(0, 120))}: ${why}`);
  if (raw.length === 0 || raw.length > 512) throw bad('empty or longer than 512 characters');
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('malformed digest');
  }
  let registry = 'registry-1.docker.io';
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first === 'docker.io' || first === 'index.docker.io' ? 'registry-1.docker.io' : first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad('malformed tag');
  }
  if (!REPO.test(rest)) throw bad('malformed repository');
  if (registry === 'registry-1.docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** cosign's tag for a digest: `sha256-<hex>` + suffix (`.sig`, `.att`, `.sbom`, or '' for the referrers fallback). */
export function digestTag(digest: string, suffix = ''): string {
  return `${digest.replace(':', '-')}${suffix}`;
}
