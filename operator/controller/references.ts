/**
 * Which ConfigMaps and Secrets each release's evaluation read — an index from referenced object to releases,
 * so that an edit of an SBOM, VEX, settings or trust ConfigMap (or a pull/trust Secret) re-queues exactly the
 * releases that read it (level-triggered evidence).
 *
 * The index is filled from what the collectors actually read (a recording wrapper around the evidence
 * sources), not from a second reading of the spec, so it can never disagree with the evidence layer. A
 * release's entry is replaced after each completed collection and dropped when the release is deleted.
 */
import type { EvidenceSources } from '../evidence/collect.ts';

export type RefKind = 'ConfigMap' | 'Secret';

/** `ConfigMap/namespace/name`. */
export function refKey(kind: RefKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export class ReferenceIndex {
  private readonly byRelease = new Map<string, Set<string>>();
  private readonly byRef = new Map<string, Set<string>>();

  /** Replaces the references of `release`. */
  set(release: string, refs: Iterable<string>): void {
    this.delete(release);
    const set = new Set(refs);
    if (set.size === 0) return;
    this.byRelease.set(release, set);
    for (const r of set) {
      let rs = this.byRef.get(r);
      if (!rs) this.byRef.set(r, (rs = new Set()));
      rs.add(release);
    }
  }

  delete(release: string): void {
    const old = this.byRelease.get(release);
    if (!old) return;
    this.byRelease.delete(release);
    for (const r of old) {
      const rs = this.byRef.get(r);
      rs?.delete(release);
      if (rs?.size === 0) this.byRef.delete(r);
    }
  }

  /** The releases whose last evaluation read the object. */
  releasesFor(kind: RefKind, namespace: string, name: string): string[] {
    return [...(this.byRef.get(refKey(kind, namespace, name)) ?? [])];
  }

  /** Namespaces holding at least one referenced object of `kind`. */
  namespaces(kind: RefKind): Set<string> {
    const out = new Set<string>();
    for (const r of this.byRef.keys()) {
      const [k, ns] = r.split('/');
      if (k === kind && ns) out.add(ns);
    }
    return out;
  }

  /** Number of releases with references (for tests and logs). */
  get size(): number {
    return this.byRelease.size;
  }
}

/** Wraps evidence sources so every ConfigMap/Secret read is reported (also reads that found nothing). */
export function recordingSources(base: EvidenceSources, record: (kind: RefKind, namespace: string, name: string) => void): EvidenceSources {
  const readSecret = base.readSecret?.bind(base);
  return {
    ...(base.signal ? { signal: base.signal } : {}),
    readConfigMap: (namespace, name) => {
      record('ConfigMap', namespace, name);
      return base.readConfigMap(namespace, name);
    },
    ...(readSecret
      ? {
          readSecret: (namespace: string, name: string) => {
            record('Secret', namespace, name);
            return readSecret(namespace, name);
          },
        }
      : {}),
  };
}
