/**
 * Continuous re-evaluation for feeds and waivers, wired into the controller with one hook.
 *
 *  - Feed refresh loop: every `intervalMs` (default 1 h; config.ts reads CRA_GATE_FEED_REFRESH_SECONDS) each feed named by a
 *    policy is re-read (conditional GET for URLs); when its content digest changed, every release governed by
 *    a policy using that feed is enqueued — an Approved release that a newly known-exploited vulnerability
 *    now affects flips within one reconcile. A failed refresh keeps the previous good feed.
 *  - A feed refreshed elsewhere — inside a reconcile that found it stale, or after its ConfigMap changed — is
 *    reported by the store's `onChange`; while started, the refresher enqueues the releases it affects too.
 *  - `stop()` aborts a refresh in progress (a slow feed download never holds a shutdown).
 *  - Waivers expiring soon (within `warnDays`, default 7; CRA_GATE_WAIVER_WARN_DAYS): a Warning Event on every release
 *    whose status shows the waiver applied (once per release/check/expiry per process). Expiry itself is a
 *    `changesAt` of the waived check, so the release is re-evaluated at that instant (requeueAfter).
 *  - Metrics, computed at scrape time from the caches (bounded labels, base units):
 *    `cra_gate_waiver_expiry_timestamp_seconds{policy,check}` (earliest expiry of the active waivers),
 *    `cra_gate_exploited_vulnerabilities{deadline_state}` (open Art. 14 entries: pending / overdue early
 *    warning), `cra_gate_art14_next_deadline_timestamp_seconds{deadline}`, and
 *    `cra_gate_unassessed_components{decision}` / `cra_gate_releases_with_unassessed_components{decision}`
 *    (vulnerability coverage gaps, from status.vulnerabilityCoverage).
 */
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ProductRelease, ReleasePolicy } from '../api/types.ts';
import type { CachedRelease } from '../kube/projection.ts';
import type { EvidenceSources } from '../evidence/collect.ts';
import { DEFAULT_FEED_MAX_AGE_MS, feedKey, feedRefs } from '../evidence/feeds.ts';
import type { FeedRef, FeedStore } from '../evidence/feeds.ts';
import type { EventRecorder } from '../kube/events.ts';
import { waiverEnd } from '../policy/waivers.ts';

export interface RefresherDeps {
  listPolicies(): readonly ReleasePolicy[];
  listReleases(): readonly CachedRelease[];
  defaultPolicy: string;
  sources: EvidenceSources;
  enqueue(key: string): void;
  log: Logger;
  events?: EventRecorder;
  registry?: Registry;
  /** The composition root's feed store (EvidenceRuntime.feeds). */
  store: FeedStore;
  intervalMs?: number;
  warnDays?: number;
  now?: () => Date;
}

function releaseKey(r: ProductRelease): string {
  return r.metadata?.namespace ? `${r.metadata.namespace}/${r.metadata.name}` : (r.metadata?.name ?? '');
}

export class FeedRefresher {
  private readonly deps: RefresherDeps;
  private readonly store: FeedStore;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly warned = new Set<string>();
  private abort = new AbortController();
  private unsubscribe: (() => void) | undefined;
  /** Feeds the running tick is refreshing itself (it enqueues their releases; the change listener skips them). */
  private readonly ticking = new Set<string>();

  constructor(deps: RefresherDeps) {
    this.deps = deps;
    this.store = deps.store;
    if (deps.registry) this.registerMetrics(deps.registry);
  }

  private intervalMs(): number {
    return this.deps.intervalMs ?? DEFAULT_FEED_MAX_AGE_MS;
  }

  start(): void {
    if (this.timer) return;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.unsubscribe ??= this.store.onChange((ref) => {
      const k = feedKey(ref);
      if (this.ticking.has(k)) return;
      const n = this.enqueueAffected([k]);
      this.deps.log.info({ feed: k, releases: n }, 'vulnerability feed changed; re-evaluating the releases using it');
    });
    const loop = () => {
      this.timer = setTimeout(() => {
        this.running = this.tick().then(() => undefined, () => undefined).finally(() => {
          this.running = undefined;
          if (this.timer) loop();
        });
      }, this.intervalMs());
      this.timer.unref?.();
    };
    loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.abort.abort();
    await this.running;
  }

  /** Re-reads one feed now (its ConfigMap changed); a change enqueues the affected releases via onChange. */
  async refreshFeed(ref: FeedRef): Promise<void> {
    if (this.abort.signal.aborted) return;
    await this.store.refresh(ref, this.deps.sources, this.abort.signal);
  }

  /** Enqueues every release governed by a policy that uses one of the feeds (by feed key); returns how many. */
  private enqueueAffected(feedKeys: readonly string[]): number {
    const wanted = new Set(feedKeys);
    const policies = new Set<string>();
    for (const p of this.deps.listPolicies()) {
      if (p.metadata?.name && feedRefs(p).some((f) => wanted.has(feedKey(f)))) policies.add(p.metadata.name);
    }
    let n = 0;
    for (const rel of this.deps.listReleases()) {
      if (policies.has(rel.spec?.policyRef || this.deps.defaultPolicy)) {
        this.deps.enqueue(releaseKey(rel));
        n++;
      }
    }
    return n;
  }

  /** One pass: refresh every feed, enqueue the releases of changed feeds, warn about expiring waivers. */
  async tick(): Promise<{ changed: string[]; enqueued: number }> {
    const policies = this.deps.listPolicies();
    const refs = new Map<string, ReturnType<typeof feedRefs>[number]>();
    for (const p of policies) {
      const name = p.metadata?.name;
      if (!name) continue;
      for (const ref of feedRefs(p)) {
        const k = feedKey(ref);
        refs.set(k, ref);
      }
    }
    const changed: string[] = [];
    for (const [k, ref] of refs) {
      if (this.abort.signal.aborted) break;
      this.ticking.add(k);
      let r;
      try {
        r = await this.store.refresh(ref, this.deps.sources, this.abort.signal);
      } finally {
        this.ticking.delete(k);
      }
      if (r.changed) changed.push(k);
      if (r.state.error) this.deps.log.warn({ feed: r.state.source, reason: r.state.error.reason, err: r.state.error.message }, 'feed refresh failed; previous content stays in use');
    }
    let enqueued = 0;
    if (changed.length > 0) {
      enqueued = this.enqueueAffected(changed);
      this.deps.log.info({ feeds: changed, releases: enqueued }, 'vulnerability feeds changed; re-evaluating the releases using them');
    }
    this.warnExpiringWaivers();
    return { changed, enqueued };
  }

  /** Events for releases whose applied waivers expire within the warning window. */
  warnExpiringWaivers(): number {
    const now = this.deps.now?.() ?? new Date();
    const windowMs = (this.deps.warnDays ?? 7) * 86_400_000;
    let n = 0;
    for (const rel of this.deps.listReleases()) {
      for (const c of rel.status?.checks ?? []) {
        if (c.result !== 'Waived') continue;
        for (const w of c.waivers ?? []) {
          const end = waiverEnd(w.expires);
          if (!end || end <= now || end.getTime() - now.getTime() > windowMs) continue;
          const key = `${rel.metadata?.uid ?? releaseKey(rel)}|${c.id}|${w.expires}|${w.ticket}`;
          if (this.warned.has(key)) continue;
          this.warned.add(key);
          n++;
          this.deps.events?.event(
            {
              apiVersion: rel.apiVersion,
              kind: rel.kind,
              name: rel.metadata?.name ?? '',
              namespace: rel.metadata?.namespace ?? 'default',
              uid: rel.metadata?.uid ?? '',
              resourceVersion: rel.metadata?.resourceVersion,
            },
            {
              type: 'Warning',
              reason: 'WaiverExpiringSoon',
              action: 'Evaluate',
              note: `waiver for ${c.id} (${w.ticket}, approved by ${w.approvedBy}) expires at the end of ${w.expires}; the check blocks again after that`.slice(0, 1000),
            },
          );
        }
      }
    }
    return n;
  }

  private registerMetrics(registry: Registry): void {
    const deps = this.deps;
    const now = () => deps.now?.() ?? new Date();
    new Gauge({
      name: 'cra_gate_waiver_expiry_timestamp_seconds',
      help: 'Earliest expiry (Unix time, end of the waiver day UTC) of the active waivers per policy and check',
      labelNames: ['policy', 'check'],
      registers: [registry],
      collect() {
        this.reset();
        const t = now();
        for (const p of deps.listPolicies()) {
          const earliest = new Map<string, number>();
          for (const w of p.spec.waivers ?? []) {
            const end = waiverEnd(w.expires);
            if (!end || end <= t) continue;
            earliest.set(w.check, Math.min(earliest.get(w.check) ?? Infinity, end.getTime()));
          }
          for (const [check, ms] of earliest) this.set({ policy: p.metadata?.name ?? '', check }, ms / 1000);
        }
      },
    });
    new Gauge({
      name: 'cra_gate_exploited_vulnerabilities',
      help: 'Open CRA Art. 14 entries (actively exploited vulnerability x release) by deadline state',
      labelNames: ['deadline_state'],
      registers: [registry],
      collect() {
        const t = now().getTime();
        const counts = { early_warning_pending: 0, early_warning_overdue: 0, notification_overdue: 0 };
        for (const r of deps.listReleases()) {
          for (const e of r.status?.exploited ?? []) {
            if (Date.parse(e.notificationDue) <= t) counts.notification_overdue++;
            else if (Date.parse(e.earlyWarningDue) <= t) counts.early_warning_overdue++;
            else counts.early_warning_pending++;
          }
        }
        for (const [k, v] of Object.entries(counts)) this.set({ deadline_state: k }, v);
      },
    });
    new Gauge({
      name: 'cra_gate_art14_next_deadline_timestamp_seconds',
      help: 'Next upcoming CRA Art. 14 deadline (Unix time) over all releases: early warning (24 h) and notification (72 h)',
      labelNames: ['deadline'],
      registers: [registry],
      collect() {
        this.reset();
        const t = now().getTime();
        let early = Infinity;
        let note = Infinity;
        for (const r of deps.listReleases()) {
          for (const e of r.status?.exploited ?? []) {
            const a = Date.parse(e.earlyWarningDue);
            const b = Date.parse(e.notificationDue);
            if (a > t) early = Math.min(early, a);
            if (b > t) note = Math.min(note, b);
          }
        }
        if (early !== Infinity) this.set({ deadline: 'early_warning' }, early / 1000);
        if (note !== Infinity) this.set({ deadline: 'notification' }, note / 1000);
      },
    });
    new Gauge({
      name: 'cra_gate_unassessed_components',
      help: 'SBOM components no vulnerability feed could assess, summed over the releases per decision (status.vulnerabilityCoverage)',
      labelNames: ['decision'],
      registers: [registry],
      collect() {
        const sums: Record<string, number> = { Approved: 0, Blocked: 0, Pending: 0 };
        for (const r of deps.listReleases()) {
          const c = r.status?.vulnerabilityCoverage;
          const d = r.status?.decision ?? 'Pending';
          if (c && d in sums) sums[d]! += Math.max(0, c.total - c.assessed);
        }
        for (const [k, v] of Object.entries(sums)) this.set({ decision: k }, v);
      },
    });
    new Gauge({
      name: 'cra_gate_releases_with_unassessed_components',
      help: 'Releases whose SBOMs have components no vulnerability feed could assess, per decision',
      labelNames: ['decision'],
      registers: [registry],
      collect() {
        const n: Record<string, number> = { Approved: 0, Blocked: 0, Pending: 0 };
        for (const r of deps.listReleases()) {
          const c = r.status?.vulnerabilityCoverage;
          const d = r.status?.decision ?? 'Pending';
          if (c && c.assessed < c.total && d in n) n[d]!++;
        }
        for (const [k, v] of Object.entries(n)) this.set({ decision: k }, v);
      },
    });
  }
}
