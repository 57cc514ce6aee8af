/**
 * `cra_gate_releases_by_conformity{product_class,module,decision}`: releases per CRA product class (Art. 7, 8:
 * default, important-class-i, important-class-ii, critical, or none when undeclared), declared conformity
 * assessment procedure (Art. 32: A, B+C, H, EUCC, or none) and decision, computed at scrape time from the
 * release cache's status.conformity. Bounded labels: 5 × 5 × 3 series at most.
 */
import { Gauge, type Registry } from 'prom-client';
import type { CachedRelease } from '../kube/projection.ts';

const CLASSES = new Set(['default', 'important-class-i', 'important-class-ii', 'critical']);
const MODULES = new Set(['A', 'B+C', 'H', 'EUCC']);
const DECISIONS = new Set(['Approved', 'Blocked', 'Pending']);

export function conformityCounts(releases: readonly CachedRelease[]): Map<string, { product_class: string; module: string; decision: string; n: number }> {
  const out = new Map<string, { product_class: string; module: string; decision: string; n: number }>();
  for (const r of releases) {
    const c = r.status?.conformity;
    const productClass = c?.productClass && CLASSES.has(c.productClass) ? c.productClass : 'none';
    const module = c?.module && MODULES.has(c.module) ? c.module : 'none';
    const decision = r.status?.decision && DECISIONS.has(r.status.decision) ? r.status.decision : 'Pending';
    const key = `${productClass}|${module}|${decision}`;
    const e = out.get(key) ?? { product_class: productClass, module, decision, n: 0 };
    e.n++;
    out.set(key, e);
  }
  return out;
}

export function registerConformityMetrics(registry: Registry, listReleases: () => readonly CachedRelease[]): void {
  new Gauge({
    name: 'cra_gate_releases_by_conformity',
    help: 'ProductReleases by CRA product class (Annex III/IV), declared conformity assessment procedure (Art. 32) and decision',
    labelNames: ['product_class', 'module', 'decision'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of conformityCounts(listReleases()).values()) this.set({ product_class: e.product_class, module: e.module, decision: e.decision }, e.n);
    },
  });
}
