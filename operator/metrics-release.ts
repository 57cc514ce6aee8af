/**
 * Per-release metrics, the kube-state-metrics way: at every scrape the series are rebuilt from the informer
 * cache (the ProductReleases as the API server has them), so a deleted release or a changed decision, version or
 * check never leaves a stale series behind. For the "CRA compliance" dashboard (uid `cra-compliance`).
 *
 *   cra_gate_release_info{namespace,name,product,version,decision}                      1
 *   cra_gate_release_check_failed{namespace,name,check,cra}                             1 per blocking Fail/Error
 *   cra_gate_release_support_end_timestamp_seconds{namespace,name}                      end of spec.updates.supportEnd
 *   cra_gate_release_waiver_expiry_timestamp_seconds{namespace,name,check}              earliest applied waiver's end
 *   cra_gate_release_exploited_vulnerabilities{namespace,name}                          status.exploited entries (> 0 only)
 *
 * Join the numeric gauges with the info gauge for product and version, e.g.
 * `cra_gate_release_exploited_vulnerabilities * on(namespace, name) group_left(product) cra_gate_release_info`.
 * Label values come from the release's own fields; the number of series grows with the number of releases (one
 * info series each, plus one per failing check and waiver), hence `--per-release-metrics=false` for very large
 * installations. Only the leader exports them (`active`), so two replicas never duplicate a release's series.
 *
 * Memory (issue 16): the series exist only while a scrape reads them — each gauge is rebuilt from the cache at the
 * scrape and emptied once it has been read — so between scrapes the operator holds one copy of each release (the
 * informer's projection), not a second one in label sets. Per release: the info and support-end series, one per
 * failing blocking check and per waiver, and the exploited count only when it is above 0 (what the dashboards
 * count and sum; an absent series reads as none).
 */
import { Gauge, type Registry } from 'prom-client';
import type { CachedRelease } from './kube/projection.ts';
import { parseEndExclusive } from './util/dates.ts';
import { waiverEnd } from './policy/waivers.ts';

/** Longest label value kept (Kubernetes names are ≤ 253; product names and versions are cut, not dropped). */
const MAX_LABEL = 253;

export const RELEASE_METRIC_NAMES = [
  'cra_gate_release_info',
  'cra_gate_release_check_failed',
  'cra_gate_release_support_end_timestamp_seconds',
  'cra_gate_release_waiver_expiry_timestamp_seconds',
  'cra_gate_release_exploited_vulnerabilities',
] as const;

export interface ReleaseMetricsOptions {
  registry: Registry;
  /** The releases to export (the informer cache). */
  releases: () => Iterable<CachedRelease>;
  /** Export only while this is true (the leader); default always. */
  active?: () => boolean;
}

function label(v: unknown): string {
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  return s.length > MAX_LABEL ? s.slice(0, MAX_LABEL) : s;
}

interface Snapshot {
  namespace: string;
  name: string;
  release: CachedRelease;
}

function snapshot(opts: ReleaseMetricsOptions): Snapshot[] {
  if (opts.active && !opts.active()) return [];
  const out: Snapshot[] = [];
  for (const release of opts.releases()) {
    const name = release.metadata?.name;
    if (!name) continue;
    out.push({ namespace: label(release.metadata?.namespace), name: label(name), release });
  }
  return out;
}

/** A gauge whose series live only for the scrape that reads them (filled by `collect`, emptied after `get`). */
class ScrapeGauge<T extends string> extends Gauge<T> {
  override async get(): ReturnType<Gauge<T>['get']> {
    const metric = await super.get();
    this.reset();
    return metric;
  }
}

/** The check is blocking and did not pass: what `status.summary.failed` counts. */
function failing(c: { result?: string; enforcement?: string }): boolean {
  return (c.result === 'Fail' || c.result === 'Error') && c.enforcement !== 'Warn';
}

/** Registers the per-release gauges in `registry`; their values are computed at scrape time. */
export function registerReleaseMetrics(opts: ReleaseMetricsOptions): void {
  const registers = [opts.registry];
  new ScrapeGauge({
    name: 'cra_gate_release_info',
    help: 'One series per ProductRelease with its product, version and decision (Pending before the first verdict); value 1.',
    labelNames: ['namespace', 'name', 'product', 'version', 'decision'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of snapshot(opts)) {
        const spec = s.release.spec;
        this.set({ namespace: s.namespace, name: s.name, product: label(spec?.product?.name), version: label(spec?.version), decision: label(s.release.status?.decision ?? 'Pending') }, 1);
      }
    },
  });
  new ScrapeGauge({
    name: 'cra_gate_release_check_failed',
    help: 'One series per blocking check that failed or errored for a ProductRelease, with its CRA references; value 1.',
    labelNames: ['namespace', 'name', 'check', 'cra'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of snapshot(opts)) {
        for (const c of s.release.status?.checks ?? []) {
          if (!c.id || !failing(c)) continue;
          this.set({ namespace: s.namespace, name: s.name, check: label(c.id), cra: label((c.cra ?? []).join('; ')) }, 1);
        }
      }
    },
  });
  new ScrapeGauge({
    name: 'cra_gate_release_support_end_timestamp_seconds',
    help: 'When the declared support period of a ProductRelease ends (spec.updates.supportEnd, end of that day or month UTC), Unix seconds.',
    labelNames: ['namespace', 'name'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of snapshot(opts)) {
        const end = parseEndExclusive(s.release.spec?.updates?.supportEnd);
        if (end) this.set({ namespace: s.namespace, name: s.name }, end.getTime() / 1000);
      }
    },
  });
  new ScrapeGauge({
    name: 'cra_gate_release_waiver_expiry_timestamp_seconds',
    help: 'When the earliest waiver applied to a check of a ProductRelease expires, Unix seconds.',
    labelNames: ['namespace', 'name', 'check'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of snapshot(opts)) {
        for (const c of s.release.status?.checks ?? []) {
          let earliest: number | undefined;
          for (const w of c.waivers ?? []) {
            const end = typeof w.expires === 'string' ? waiverEnd(w.expires) : undefined;
            if (end && (earliest === undefined || end.getTime() < earliest)) earliest = end.getTime();
          }
          if (c.id && earliest !== undefined) this.set({ namespace: s.namespace, name: s.name, check: label(c.id) }, earliest / 1000);
        }
      }
    },
  });
  new ScrapeGauge({
    name: 'cra_gate_release_exploited_vulnerabilities',
    help: 'Actively exploited (CISA KEV) vulnerabilities affecting a ProductRelease (status.exploited), by release.',
    labelNames: ['namespace', 'name'] as const,
    registers,
    collect() {
      this.reset();
      for (const s of snapshot(opts)) {
        const n = s.release.status?.exploited?.length ?? 0;
        if (n > 0) this.set({ namespace: s.namespace, name: s.name }, n);
      }
    },
  });
}
