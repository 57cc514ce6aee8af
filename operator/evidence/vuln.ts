/**
 * Evidence collector for the vulnerability checks: the policy's OSV, NVD and KEV feeds (from the shared
 * FeedStore: last good content, refreshed when stale) and the release's VEX document (ConfigMap key or an
 * https URL through the SSRF guard). Runs only when the policy uses a vulnerability or VEX check.
 */
import { errorMessage, reasonOf } from '../errors.ts';
import type { Reason } from '../errors.ts';
import { parseVex } from '../vex/parse.ts';
import type { VexDocument } from '../vex/parse.ts';
import type { VexState, VulnFeedsEvidence } from '../vuln/evidence.ts';
import { FeedFormatError } from '../vuln/errors.ts';
import type { Collector, CollectContext } from './collect.ts';
import { feedRefs } from './feeds.ts';
import type { FeedStore } from './feeds.ts';
import { fetchBytes } from './https.ts';
import type { FetchOptions, FetchResult } from './https.ts';

const CHECKS = new Set(['vuln.no-known-exploitable', 'vuln.no-known-exploited', 'vex.valid']);
const MAX_VEX_BYTES = 32 * 1024 * 1024;

export interface VulnCollectorOptions {
  /** Feed store (default: the runtime's, `ctx.runtime.feeds`). */
  readonly store?: FeedStore;
  readonly fetch?: (url: string, opts: FetchOptions) => Promise<FetchResult>;
  /** Merged over `ctx.runtime.http`. */
  readonly fetchOptions?: FetchOptions;
}

async function readVex(ctx: CollectContext, opts: VulnCollectorOptions): Promise<{ state: VexState; doc?: VexDocument }> {
  const vex = ctx.release.spec.vulnerabilityHandling?.vex;
  const ns = ctx.release.metadata?.namespace ?? 'default';
  const source = vex?.url ?? (vex?.configMapRef ? `ConfigMap ${ns}/${vex.configMapRef.name}${vex.configMapRef.key ? ` key ${vex.configMapRef.key}` : ''}` : 'vex');
  const failed = (reason: Reason, message: string) => ({ state: { source, statements: 0, problems: [], error: { reason, message } } });
  try {
    let text: string;
    if (vex?.configMapRef) {
      const data = await ctx.sources.readConfigMap(ns, vex.configMapRef.name);
      if (!data) return failed('EvidenceUnavailable', `ConfigMap ${ns}/${vex.configMapRef.name} not found`);
      const key = vex.configMapRef.key ?? Object.keys(data).sort()[0];
      if (key === undefined || data[key] === undefined) return failed('EvidenceUnavailable', `ConfigMap ${ns}/${vex.configMapRef.name} has no key ${key ?? ''}`);
      text = data[key];
    } else if (vex?.url) {
      const r = await (opts.fetch ?? fetchBytes)(vex.url, { maxBytes: MAX_VEX_BYTES, ...ctx.runtime.http, ...opts.fetchOptions, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      text = r.bytes.toString('utf8');
    } else return failed('InvalidSpec', 'vex has neither url nor configMapRef');
    const doc = parseVex(text, source);
    return { state: { source, format: doc.format, statements: doc.statements.length, problems: doc.problems }, doc };
  } catch (err) {
    const reason: Reason = err instanceof FeedFormatError ? 'FeedInvalid' : reasonOf(err) === 'Internal' ? 'EvidenceUnavailable' : reasonOf(err);
    return failed(reason, errorMessage(err, 240));
  }
}

export function makeVulnCollector(opts: VulnCollectorOptions = {}): Collector {
  return async function vulnCollector(ctx: CollectContext) {
    const store = opts.store ?? ctx.runtime.feeds;
    if (!ctx.policy?.spec.checks.some((c) => CHECKS.has(c.id) && c.enforcement !== 'Off')) return {};
    const loaded = await Promise.all(feedRefs(ctx.policy).map((ref) => store.get(ref, ctx.sources, ctx.signal)));
    const osv = loaded.filter((l) => l.state.kind === 'osv');
    const nvd = loaded.filter((l) => l.state.kind === 'nvd');
    const vex: VexState[] = [];
    const docs: { source: string; doc: VexDocument }[] = [];
    if (ctx.release.spec.vulnerabilityHandling?.vex) {
      const v = await readVex(ctx, opts);
      vex.push(v.state);
      if (v.doc) docs.push({ source: v.state.source, doc: v.doc });
    }
    const vulnFeeds: VulnFeedsEvidence = {
      feeds: loaded.map((l) => l.state),
      index: store.index(osv),
      ...(nvd.length > 0 ? { nvd: store.nvdIndex(nvd) } : {}),
      kev: loaded.flatMap((l) => (l.kev ? [l.kev] : [])),
      vex,
      vexSet: { documents: docs },
    };
    return { vulnFeeds };
  };
}

export const collectVulnFeeds: Collector = makeVulnCollector();
